#!/usr/bin/env python3
"""Cross-checks NN.SafeTensors against Hugging Face's safetensors (used by NNTests).

  safetensors_check.py write <path>   write the reference file below with safetensors.numpy
  safetensors_check.py verify <path>  read a file written by the Swift test and check it

The expected contents here and in Tests/NNTests/SafeTensorsTests.swift are written out by
hand on both sides. Needs: pip install safetensors numpy. Exit status 0 on success.
"""
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def python_tensors():
    return {
        "layer.weight": (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 - 1.0),
        "layer.bias": np.array([0.25, -3.0, 1e-7], dtype=np.float32),
        "cube": np.arange(12, dtype=np.float32).reshape(2, 2, 3),
        "empty": np.zeros((0, 5), dtype=np.float32),
    }


SWIFT_EXPECTED = {
    "a": np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32) * 0.25,
    "b": np.array([-1.5, 0.0, 2.5, 1e-8], dtype=np.float32),
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "verify"):
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[2]
    if sys.argv[1] == "write":
        save_file(python_tensors(), path, metadata={"format": "pt", "written_by": "python"})
        return 0
    got = load_file(path)
    if set(got) != set(SWIFT_EXPECTED):
        print(f"names {sorted(got)} != {sorted(SWIFT_EXPECTED)}", file=sys.stderr)
        return 1
    for name, want in SWIFT_EXPECTED.items():
        t = got[name]
        if t.dtype != np.float32 or t.shape != want.shape or not np.array_equal(t, want):
            print(f"{name}: got {t.dtype} {t.shape} {t.tolist()}, want {want.shape} {want.tolist()}",
                  file=sys.stderr)
            return 1
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    if meta != {"written_by": "swift", "format": "pt"}:
        print(f"metadata {meta}", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
