#!/usr/bin/env python3
"""Writes the NPY fixtures for Tests/DatasetsTests with numpy's own writer (np.save).

Run from the repository root:  python3 scripts/make_npy_fixtures.py
The values are simple formulas so the Swift tests can state them independently.
"""
import os

import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "DatasetsTests", "Fixtures")
os.makedirs(out, exist_ok=True)

# float32 2-D: a[i, j] = i * 10 + j / 4 - 1.5  (3 x 5)
i, j = np.meshgrid(np.arange(3), np.arange(5), indexing="ij")
np.save(os.path.join(out, "f32_3x5.npy"), (i * 10 + j / 4 - 1.5).astype("<f4"))
# float32 1-D with special values
np.save(os.path.join(out, "f32_1d.npy"), np.array([0.1, -2.0, 3e-39, 1e30, np.inf], dtype="<f4"))
# uint8 3-D (n, h, w) = (2, 3, 4): b = (k * 12 + y * 4 + x) * 10 % 256
k, y, x = np.meshgrid(np.arange(2), np.arange(3), np.arange(4), indexing="ij")
np.save(os.path.join(out, "u8_2x3x4.npy"), ((k * 12 + y * 4 + x) * 10 % 256).astype(np.uint8))
# unsupported: float64, Fortran order
np.save(os.path.join(out, "f64_2x2.npy"), np.eye(2, dtype="<f8"))
np.save(os.path.join(out, "f32_fortran.npy"), np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
print("wrote NPY fixtures to", os.path.normpath(out))
