#!/usr/bin/env python3
"""Fixture for the FID test (Tests/GenerativeTests/MetricsFIDTests.swift).

Writes two float32 feature sets shaped like ReLU penultimate-layer features (non-negative,
correlated; no dead units, so both covariances are non-singular and sqrtm is accurate) and the
FID between
them computed the reference way (pytorch-fid / TTUR's `calculate_frechet_distance`): means and
`numpy.cov(rowvar=False)` in float64, `scipy.linalg.sqrtm(S1 @ S2)`, real part of its trace.

Usage: python3 scripts/make_fid_fixtures.py   (from the repository root; numpy, scipy)
"""
import json
import os

import numpy as np
import scipy.linalg

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "GenerativeTests", "Fixtures")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20260101)
d = 16


def relu_features(n, shift, dead):
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    x = rng.normal(size=(n, d)) @ mix + shift
    x = np.maximum(x, 0)
    x[:, dead] = 0
    return x.astype(np.float32)


a = relu_features(400, 0.5, [])
b = relu_features(300, 0.3 + 0.2 * rng.random(d), [])


def fid(x, y):
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)), float(np.trace(covmean))


np.save(os.path.join(out, "fid_features_a.npy"), a)
np.save(os.path.join(out, "fid_features_b.npy"), b)
fab, tab = fid(a, b)
faa, _ = fid(a, a)
expected = {
    "fid_a_b": fab,
    "trace_sqrt_a_b": tab,
    "fid_a_a": faa,
    "source": "scripts/make_fid_fixtures.py: numpy.cov(rowvar=False), scipy.linalg.sqrtm(S1 @ S2).real",
}
with open(os.path.join(out, "fid_expected.json"), "w") as f:
    json.dump(expected, f, indent=2)
    f.write("\n")
print(expected)
