#!/usr/bin/env python3
"""Writes Tests/NNTests/Fixtures/clip_norm_reference.json: gradients of three tensors and what
torch.nn.utils.clip_grad_norm_ (norm_type 2) makes of them for several max norms.
Run with the peers venv: .venv-peers/bin/python scripts/clip_norm_reference.py"""
import json, pathlib
import numpy as np
import torch

rng = np.random.default_rng(7)
shapes = [(3, 4), (4,), (1, 5)]
grads = [rng.normal(0, 1, size=s).astype(np.float32) for s in shapes]
cases = []
for max_norm in [0.5, 2.0, 100.0]:
    params = [torch.nn.Parameter(torch.zeros(s)) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    cases.append({"max_norm": max_norm, "total_norm": float(total),
                  "clipped": [p.grad.flatten().tolist() for p in params]})
out = {"torch": torch.__version__, "shapes": [list(s) for s in shapes],
       "gradients": [g.flatten().tolist() for g in grads], "cases": cases}
path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NNTests/Fixtures/clip_norm_reference.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path)
