#!/usr/bin/env python3
"""PyTorch interoperability of the DCGAN and the conv VAE (Sources/Generative/DCGAN.swift,
ConvVAE.swift): their checkpoints load into the equivalent torch nn.Sequential, and torch's
files load here.

  dcgan_reference.py fixture
      Writes Tests/GenerativeTests/Fixtures/dcgan_torch/{generator,discriminator}.safetensors
      as torch stores them (num_batches_tracked as int64 I64 scalars) for a small DCGAN (latent
      3, G channels 4, 2, D channels 2, 4) after three training-mode forwards (so the running
      statistics are not the initial ones), and expected.json with eval-mode outputs G(z), D(x)
      computed in float64 from the stored float32 values. DCGANTests loads the files with
      GAN.load(from:) and compares its outputs.
  dcgan_reference.py check DIR [DIR ...]
      For each gen checkpoint or run directory (a run's newest checkpoint): builds the torch
      modules from its config.json (arch dcgan GAN or conv VAE), calls load_state_dict(strict=True)
      on every file and prints the result ("<All keys matched successfully>"), the dtypes, and
      the range of 16 eval-mode generator samples / decoded prior samples.

The safetensors files are read and written by hand (8-byte little-endian header length, JSON
header, raw little-endian data; https://github.com/huggingface/safetensors) because the peers
venv has no `safetensors` package. Run with torch 2.x CPU, e.g.
  /work/main/.venv-peers/bin/python scripts/dcgan_reference.py fixture
"""
import json
import pathlib
import struct
import sys

import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE_DIR = ROOT / "Tests/GenerativeTests/Fixtures/dcgan_torch"
DTYPES = {"F32": torch.float32, "I64": torch.int64}
NAMES = {torch.float32: "F32", torch.int64: "I64"}


def dcgan(latent, g, d, slope=0.2):
    """GAN.dcgan's generator and discriminator."""
    G = nn.Sequential(nn.Linear(latent, g[0] * 49), nn.Unflatten(1, (g[0], 7, 7)), nn.BatchNorm2d(g[0]),
                      nn.ReLU(), nn.ConvTranspose2d(g[0], g[1], 4, 2, 1), nn.BatchNorm2d(g[1]), nn.ReLU(),
                      nn.ConvTranspose2d(g[1], 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, d[0], 4, 2, 1), nn.LeakyReLU(slope), nn.Conv2d(d[0], d[1], 4, 2, 1),
                      nn.BatchNorm2d(d[1]), nn.LeakyReLU(slope), nn.Flatten(), nn.Linear(d[1] * 49, 1))
    return G, D


def conv_vae(c, latent):
    """VAE.conv's four networks, named as in our model.safetensors (encoder., mu., logvar., decoder.)."""
    return nn.ModuleDict({
        "encoder": nn.Sequential(nn.Conv2d(1, c[0], 4, 2, 1), nn.ReLU(), nn.Conv2d(c[0], c[1], 4, 2, 1),
                                 nn.ReLU(), nn.Flatten()),
        "mu": nn.Sequential(nn.Linear(c[1] * 49, latent)),
        "logvar": nn.Sequential(nn.Linear(c[1] * 49, latent)),
        "decoder": nn.Sequential(nn.Linear(latent, c[1] * 49), nn.ReLU(), nn.Unflatten(1, (c[1], 7, 7)),
                                 nn.ConvTranspose2d(c[1], c[0], 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(c[0], 1, 4, 2, 1)),
    })


def read_safetensors(path):
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        dtype = DTYPES[e["dtype"]]
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out, {k: e["dtype"] for k, e in header.items()}


def write_safetensors(tensors, path):
    """tensors: {name: tensor} in state_dict order, float32 or int64, as torch's save_file writes them."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def flat(t):
    return [float(v) for v in t.detach().double().reshape(-1)]


def fixture():
    torch.manual_seed(0)
    G, D = dcgan(3, [4, 2], [2, 4])
    with torch.no_grad():
        for _ in range(3):   # training-mode forwards: running statistics and counts move
            G(torch.randn(5, 3))
            D(torch.rand(5, 1, 28, 28) * 2 - 1)
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    write_safetensors(G.state_dict(), FIXTURE_DIR / "generator.safetensors")
    write_safetensors(D.state_dict(), FIXTURE_DIR / "discriminator.safetensors")
    G.double().eval()
    D.double().eval()
    z = torch.randn(4, 3).double()
    x = (torch.rand(3, 1, 28, 28) * 2 - 1).double()
    with torch.no_grad():
        expected = {"torch_version": torch.__version__, "latent": 3, "generator_channels": [4, 2],
                    "discriminator_channels": [2, 4], "num_batches_tracked": int(G[2].num_batches_tracked),
                    "z": flat(z), "g_z": flat(G(z)), "x": flat(x), "d_x": flat(D(x))}
    (FIXTURE_DIR / "expected.json").write_text(json.dumps(expected) + "\n")
    print(f"wrote {FIXTURE_DIR} (num_batches_tracked {expected['num_batches_tracked']}, int64)")


def checkpoint_dir(path):
    p = pathlib.Path(path)
    if (p / "checkpoints").is_dir():
        p = sorted((p / "checkpoints").glob("step-*"))[-1]
    return p


def check(path):
    ckpt = checkpoint_dir(path)
    config = json.loads((ckpt / "config.json").read_text())
    torch.manual_seed(0)
    if config.get("gan"):
        g = config["gan"]
        assert g.get("arch") == "dcgan", f"{ckpt}: not a dcgan checkpoint"
        G, D = dcgan(g["latentDim"], g["generatorHidden"], g["discriminatorHidden"], g["negativeSlope"])
        files = [(G, "generator"), (D, "discriminator")]
        if g.get("emaDecay"):
            # The averaged generator (what gen samples from) loads into a second G.
            G = dcgan(g["latentDim"], g["generatorHidden"], g["discriminatorHidden"], g["negativeSlope"])[0]
            files.append((G, "generator_ema"))
        for module, stem in files:
            tensors, dtypes = read_safetensors(ckpt / f"{stem}.safetensors")
            print(f"{ckpt}/{stem}.safetensors: {module.load_state_dict(tensors, strict=True)}; "
                  f"dtypes {sorted(set(dtypes.values()))}")
        G.eval()
        with torch.no_grad():
            s = G(torch.randn(16, g["latentDim"]))
        print(f"  16 eval-mode samples {tuple(s.shape)} in [{s.min():.3f}, {s.max():.3f}]")
    else:
        v = config["vae"]
        assert v.get("arch") == "conv", f"{ckpt}: not a conv VAE checkpoint"
        model = conv_vae(v["hidden"], v["latentDim"])
        tensors, dtypes = read_safetensors(ckpt / "model.safetensors")
        print(f"{ckpt}/model.safetensors: {model.load_state_dict(tensors, strict=True)}; "
              f"dtypes {sorted(set(dtypes.values()))}")
        with torch.no_grad():
            s = torch.sigmoid(model["decoder"](torch.randn(16, v["latentDim"])))
        print(f"  16 decoded prior samples {tuple(s.shape)} in [{s.min():.3f}, {s.max():.3f}]")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "fixture":
        fixture()
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        for p in sys.argv[2:]:
            check(p)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
