#!/usr/bin/env python3
"""PyTorch reference fixtures for NN's convolution layers (Tests/NNTests/ConvFixtureTests.swift).

Writes Tests/NNTests/Fixtures/conv_reference.json with, for torch.nn.Conv2d,
torch.nn.ConvTranspose2d, torch.nn.BatchNorm2d and torch.nn.BatchNorm1d:
  - inputs, parameters (flattened in PyTorch's own layout, e.g. Conv2d weight [out, in, kh, kw])
    and an upstream gradient, all float32 values drawn from torch.manual_seed(0);
  - the forward output and the input/parameter gradients, computed in float64 from those
    float32 values (so the Swift Float results are compared with an exact reference);
  - for BatchNorm: train-mode output and gradients, running statistics after two training
    batches, num_batches_tracked, and an eval-mode output.

It also checks that a state dict written by our SafeTensors writer loads into the equivalent
nn.Sequential(Conv2d(2, 4, 4, 2, 1), BatchNorm2d(4), LeakyReLU(0.2), ConvTranspose2d(4, 2, 4, 2, 1))
with load_state_dict(strict=True): it reads Tests/NNTests/Fixtures/conv_state_dict.safetensors
(written by ConvStateDictTests with CONV_FIXTURE_RECORD=1; the test then checks that our writer
still produces exactly these bytes), records load_state_dict's message, the loaded
num_batches_tracked (and its dtype), and the eval-mode output of the loaded model on a fixed
input, which the Swift test compares with its own.

The safetensors file is parsed here by hand (8-byte little-endian header length, JSON header,
raw little-endian data; https://github.com/huggingface/safetensors) because the peers venv has no
`safetensors` package; only F32 and I64 are accepted.

Run (torch 2.x CPU):
  CONV_FIXTURE_RECORD=1 swift test --filter ConvStateDictTests   # writes the .safetensors
  /work/main/.venv-peers/bin/python scripts/conv_reference.py
  swift test --filter 'ConvFixtureTests|ConvStateDictTests'
"""
import json
import pathlib
import struct

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/NNTests/Fixtures"
OUT = FIXTURES / "conv_reference.json"
STATE_DICT_FILE = FIXTURES / "conv_state_dict.safetensors"


def draw(*shape, low=-1.0, high=1.0):
    """float32 uniform values, returned as float64 (exactly the same numbers)."""
    return (torch.rand(*shape, dtype=torch.float32) * (high - low) + low).double()


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def gradients(module, x, r):
    x = x.clone().requires_grad_(True)
    y = module(x)
    y.backward(r)
    return y, x.grad


def conv_case(c, o, k, s, p, h, w, n=2, bias=True):
    m = torch.nn.Conv2d(c, o, k, stride=s, padding=p, bias=bias).double()
    with torch.no_grad():
        m.weight.copy_(draw(*m.weight.shape, low=-0.5, high=0.5))
        if bias:
            m.bias.copy_(draw(o, low=-0.5, high=0.5))
    x = draw(n, c, h, w)
    r = draw(n, o, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    y, dx = gradients(m, x, r)
    return {"in": c, "out": o, "kernel": k, "stride": s, "padding": p, "height": h, "width": w,
            "batch": n, "bias": bias, "x": flat(x), "weight": flat(m.weight),
            "bias_value": flat(m.bias) if bias else [], "grad_output": flat(r), "y": flat(y),
            "dx": flat(dx), "dweight": flat(m.weight.grad), "dbias": flat(m.bias.grad) if bias else []}


def transpose_case(c, o, k, s, p, h, w, op=0, n=2, bias=True):
    m = torch.nn.ConvTranspose2d(c, o, k, stride=s, padding=p, output_padding=op, bias=bias).double()
    with torch.no_grad():
        m.weight.copy_(draw(*m.weight.shape, low=-0.5, high=0.5))
        if bias:
            m.bias.copy_(draw(o, low=-0.5, high=0.5))
    x = draw(n, c, h, w)
    oh, ow = (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op
    r = draw(n, o, oh, ow)
    y, dx = gradients(m, x, r)
    assert y.shape == (n, o, oh, ow)
    return {"in": c, "out": o, "kernel": k, "stride": s, "padding": p, "output_padding": op,
            "height": h, "width": w, "batch": n, "bias": bias, "x": flat(x), "weight": flat(m.weight),
            "bias_value": flat(m.bias) if bias else [], "grad_output": flat(r), "y": flat(y),
            "dx": flat(dx), "dweight": flat(m.weight.grad), "dbias": flat(m.bias.grad) if bias else []}


def batchnorm_case(channels, n, spatial):
    """spatial None: BatchNorm1d on (n, channels); else BatchNorm2d on (n, channels, h, w)."""
    m = (torch.nn.BatchNorm1d(channels) if spatial is None else torch.nn.BatchNorm2d(channels)).double()
    with torch.no_grad():
        m.weight.copy_(draw(channels, low=0.5, high=1.5))
        m.bias.copy_(draw(channels))
    shape = (n, channels) if spatial is None else (n, channels, *spatial)
    x1, x2, x3 = draw(*shape, low=-2, high=3), draw(*shape, low=-1, high=2), draw(*shape, low=-3, high=3)
    r = draw(*shape)
    m.train()
    y, dx = gradients(m, x1, r)
    case = {"channels": channels, "batch": n, "height": 1 if spatial is None else spatial[0],
            "width": 1 if spatial is None else spatial[1], "one_d": spatial is None,
            "weight": flat(m.weight), "bias": flat(m.bias), "x": flat(x1), "grad_output": flat(r),
            "y": flat(y), "dx": flat(dx), "dweight": flat(m.weight.grad), "dbias": flat(m.bias.grad),
            "running_mean_1": flat(m.running_mean), "running_var_1": flat(m.running_var)}
    with torch.no_grad():
        m(x2)
        m.eval()
        y_eval = m(x3)
    case.update({"x2": flat(x2), "x_eval": flat(x3), "y_eval": flat(y_eval),
                 "running_mean": flat(m.running_mean), "running_var": flat(m.running_var),
                 "num_batches_tracked": int(m.num_batches_tracked)})
    return case


def read_safetensors(path):
    """{name: tensor} from a safetensors file (F32 and I64 only)."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        t = torch.frombuffer(raw, dtype=dtypes[e["dtype"]]) if raw else torch.empty(0, dtype=dtypes[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out, {k: e["dtype"] for k, e in header.items()}


def state_dict_check():
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 4, 2, 1), torch.nn.BatchNorm2d(4),
                                torch.nn.LeakyReLU(0.2), torch.nn.ConvTranspose2d(4, 2, 4, 2, 1))
    tensors, dtypes = read_safetensors(STATE_DICT_FILE)
    result = model.load_state_dict(tensors, strict=True)
    loaded = {"load_result": str(result), "keys": list(model.state_dict().keys()), "file_dtypes": dtypes,
              "num_batches_tracked": int(model[1].num_batches_tracked),
              "num_batches_tracked_dtype": str(model[1].num_batches_tracked.dtype)}
    model.double().eval()   # float64 reference from the loaded float32 values
    x = draw(3, 2, 8, 8)
    with torch.no_grad():
        y = model(x)
    return {**loaded, "x": flat(x), "y_eval": flat(y)}


def main():
    torch.manual_seed(0)
    fixture = {
        "torch_version": torch.__version__,
        "conv2d": [conv_case(1, 4, 4, 2, 1, 28, 28), conv_case(4, 6, 4, 2, 1, 14, 14),
                   conv_case(3, 5, 5, 2, 2, 14, 14), conv_case(3, 4, 3, 1, 1, 7, 7),
                   conv_case(3, 2, 7, 1, 0, 7, 7, n=3), conv_case(2, 3, 3, 1, 0, 6, 5, bias=False)],
        "conv_transpose": [transpose_case(4, 3, 4, 2, 1, 7, 7), transpose_case(3, 1, 4, 2, 1, 14, 14),
                             transpose_case(4, 2, 5, 2, 2, 7, 7, op=1), transpose_case(3, 2, 5, 1, 2, 7, 7),
                             transpose_case(4, 2, 7, 1, 0, 1, 1, n=3),
                             transpose_case(2, 3, 3, 2, 1, 3, 4, op=1, bias=False)],
        "batchnorm": [batchnorm_case(3, 4, (5, 5)), batchnorm_case(4, 6, None)],
    }
    if STATE_DICT_FILE.exists():
        fixture["state_dict"] = state_dict_check()
        print("state dict:", fixture["state_dict"]["load_result"], fixture["state_dict"]["file_dtypes"])
    else:
        print(f"{STATE_DICT_FILE} missing: run CONV_FIXTURE_RECORD=1 swift test --filter ConvStateDictTests first")
    OUT.write_text(json.dumps(fixture) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
