#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (Fuzz/Corpus/<target>/): small valid files of each format
plus a few near-misses, so coverage-guided fuzzing starts inside each parser. Rerun to
regenerate; the output is committed."""
import gzip, io, json, os, struct
import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fuzz", "Corpus")

def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def idx(dims, dtype=0x08):
    head = bytes([0, 0, dtype, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    n = 1
    for d in dims: n *= d
    return head + bytes((i * 37) % 256 for i in range(n))

def gz(b):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as f: f.write(b)
    return out.getvalue()

for name, b in [("images-2x3x3", idx([2, 3, 3])), ("labels-5", idx([5])), ("dims4", idx([1, 2, 2, 2])),
                ("float-type", idx([2], 0x0D)[:12]), ("truncated", idx([4, 4])[:-3]), ("empty-dim", idx([0, 7]))]:
    put("idx", name, b)
    put("idx", name + ".gz", gz(b))
    put("idx-gz", name, b)

def npy(arr, fortran=False):
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(arr) if fortran else arr)
    return buf.getvalue()

put("npy", "f32-3x5", npy(np.arange(15, dtype="<f4").reshape(3, 5) / 15))
put("npy", "f32-1d", npy(np.linspace(0, 1, 7, dtype="<f4")))
put("npy", "u8-2x3x4", npy(np.arange(24, dtype="u1").reshape(2, 3, 4)))
put("npy", "f64-2x2", npy(np.eye(2)))
put("npy", "fortran", npy(np.ones((2, 3), dtype="<f4"), fortran=True))
v2 = bytearray(npy(np.zeros((2, 2), dtype="<f4")))
put("npy", "version2", bytes(v2[:6]) + b"\x02\x00" + struct.pack("<I", struct.unpack("<H", v2[8:10])[0]) + bytes(v2[10:]))

put("csv", "header", b"a,b,c\n0,0.5,1\n1,0.25,0\n")
put("csv", "plain", b"0.1, 0.2\r\n0.3,0.4\r\n\r\n")
put("csv", "sci", b"1e-3,-2.5E+2,nan,inf\n0,0,0,0\n")
put("csv", "ragged", b"1,2\n3\n")

def safetensors(tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for name, arr in tensors:
        b = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    if metadata: header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)

put("safetensors", "two", safetensors([("0.weight", np.ones((2, 3))), ("0.bias", np.zeros(3))], {"format": "pt"}))
put("safetensors", "scalar-3d", safetensors([("s", np.array(1.5)), ("t", np.arange(8).reshape(2, 2, 2))]))
put("safetensors", "empty", safetensors([]))
put("safetensors", "zero-dim", safetensors([("z", np.zeros((0, 4)))]))

gan = {"model": "gan", "epochs": 2, "batchSize": 64, "seed": 1, "threads": 1, "limit": 256,
       "sampleEvery": 1, "logEvery": 100, "keepCheckpoints": 3,
       "gan": {"latentDim": 8, "dataDim": 784, "generatorHidden": [16], "discriminatorHidden": [16],
               "negativeSlope": 0.01, "loss": "non-saturating", "optimizer": "adam", "learningRate": 0.0002,
               "beta1": 0.5, "beta2": 0.999, "criticSteps": 1, "clipValue": 0.01}}
vae = {"model": "vae", "epochs": 1, "batchSize": 128, "seed": 7, "threads": 2, "data": "x.npy",
       "sampleEvery": 1, "logEvery": 10, "keepCheckpoints": 1,
       "vae": {"latentDim": 4, "dataDim": 784, "hidden": [32], "learningRate": 0.001, "beta1": 0.9, "beta2": 0.999}}
state = {"model": "gan", "epoch": 1, "batchInEpoch": 2, "step": 6, "noiseRNG": [1, 2, 3, 4],
         "dataRNG": [5, 6, 7, 8], "optimizerSteps": {"generator": 6, "discriminator": 6}}
put("runconfig", "gan.json", json.dumps(gan, indent=2).encode())
put("runconfig", "vae.json", json.dumps(vae, indent=2).encode())
put("runconfig", "state.json", json.dumps(state, indent=2).encode())
