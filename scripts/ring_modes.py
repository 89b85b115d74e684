#!/usr/bin/env python3
"""Counts the modes of the 8-Gaussian ring (scripts/make_ring.py) that samples cover.
A mode is covered when at least 1 % of the samples lie within 3 std (0.06) of its centre.
Usage: scripts/ring_modes.py SAMPLES.npy   (e.g. from `gen sample --count 10000 --out s.npy`)"""
import sys
import numpy as np

s = np.load(sys.argv[1]).astype(float)
theta = 2 * np.pi * np.arange(8) / 8
centres = np.stack([2 * np.cos(theta), 2 * np.sin(theta)], 1)
d = np.linalg.norm(s[:, None, :] - centres[None], axis=2)
nearest, dist = d.argmin(1), d.min(1)
counts = [int(((nearest == i) & (dist < 0.06)).sum()) for i in range(8)]
covered = sum(c >= 0.01 * len(s) for c in counts)
print(f"{covered} of 8 modes covered; within 3 std per mode: {counts}; "
      f"{(dist < 0.06).mean():.0%} of {len(s)} samples within 3 std of a mode")
