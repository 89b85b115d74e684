"""MNIST training images from the repo's data/mnist/*.gz (IDX format), read with gzip + numpy.

Shared by the peer benchmark and sample scripts so every peer sees the same data.
"""
import gzip
import os

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PATH = os.path.join(REPO_ROOT, "data", "mnist", "train-images-idx3-ubyte.gz")


def load_images(path=DEFAULT_PATH, value_range="symmetric"):
    """Returns the images as float32, shape (n, 784), one image per row.

    value_range: "symmetric" -> [-1, 1] (GANs, matching tanh), "unit" -> [0, 1] (VAE).
    Raises ValueError naming the file when it is not an IDX3 unsigned-byte file.
    """
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 16 or raw[0:4] != b"\x00\x00\x08\x03":
        raise ValueError(f"{path}: not an IDX3 unsigned-byte image file")
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    if len(raw) != 16 + n * rows * cols:
        raise ValueError(f"{path}: expected {16 + n * rows * cols} bytes, found {len(raw)}")
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols).astype(np.float32)
    if value_range == "symmetric":
        return x / 127.5 - 1.0
    if value_range == "unit":
        return x / 255.0
    raise ValueError(f"unknown value_range {value_range!r} (symmetric or unit)")
