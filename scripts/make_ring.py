#!/usr/bin/env python3
"""The 8-Gaussian ring (Metz et al. 2017; Srivastava et al. 2017): 10,000 points, 8 modes
evenly spaced on a circle of radius 2, each an isotropic Gaussian of std 0.02, modes drawn
uniformly. numpy's default_rng(0), so the file is reproducible. Writes data/toy/ring8.csv."""
import pathlib
import numpy as np

rng = np.random.default_rng(0)
k = rng.integers(0, 8, 10000)
theta = 2 * np.pi * k / 8
x = np.stack([2 * np.cos(theta), 2 * np.sin(theta)], 1) + rng.normal(0, 0.02, (10000, 2))
out = pathlib.Path(__file__).resolve().parent.parent / "data" / "toy" / "ring8.csv"
np.savetxt(out, x, delimiter=",", fmt="%.6f")
print(f"wrote {out}")
