#!/usr/bin/env python3
"""Independent FID of a .npy of samples with numpy/scipy, to cross-check `gen eval`.

Reads the reference classifier (models/mnist-classifier.safetensors, parsed by hand: 8-byte
header length, JSON header, little-endian F32), computes its penultimate-layer ReLU features for
the samples and the 10,000 MNIST test images (data/mnist/t10k-images-idx3-ubyte.gz, bytes/255),
and the FID the reference way: numpy.cov(rowvar=False) and scipy.linalg.sqrtm(S1 @ S2).real.
Also the train-vs-test floor (first 10,000 training images).

Usage: python3 scripts/fid_reference.py SAMPLES.npy --range unit|symmetric
"""
import argparse
import gzip
import json
import struct

import numpy as np
import scipy.linalg


def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(e["shape"])
    return out


def load_idx_images(path):
    raw = gzip.open(path, "rb").read()
    _, count, rows, cols = struct.unpack(">IIII", raw[:16])
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(count, rows * cols).astype(np.float32) / 255


def features(w, x):
    h = x.astype(np.float32)
    i = 0
    while f"{i + 2}.weight" in w:       # every layer but the last: Linear + ReLU
        h = np.maximum(h @ w[f"{i}.weight"].T + w[f"{i}.bias"], 0)
        i += 2
    return h.astype(np.float64)


def fid(a, b):
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    d = m1 - m2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("samples")
    p.add_argument("--range", choices=["unit", "symmetric"], required=True)
    p.add_argument("--classifier", default="models/mnist-classifier.safetensors")
    p.add_argument("--data", default="data/mnist")
    args = p.parse_args()
    w = load_safetensors(args.classifier)
    x = np.load(args.samples).astype(np.float32)
    if args.range == "symmetric":
        x = (x + 1) / 2
    test = features(w, load_idx_images(f"{args.data}/t10k-images-idx3-ubyte.gz"))
    train = features(w, load_idx_images(f"{args.data}/train-images-idx3-ubyte.gz")[:10000])
    print(json.dumps({"fid": fid(features(w, x), test), "fid_train_vs_test": fid(train, test)}))


if __name__ == "__main__":
    main()
