#!/usr/bin/env python3
"""Golden optimizer trajectories for Tests/NNTests (OptimizerTests).

Writes Tests/NNTests/Fixtures/optimizer_reference.json: for each case, the initial 2x3
parameter, five 2x3 gradients (fixed, independent of the parameter) and the parameter after
each of the five steps. The updates are written from the published algorithms, in float64, in
the same form as torch.optim (Adam/AdamW: Kingma & Ba 2015 with bias correction, eps outside
the sqrt; SGD with momentum/nesterov, dampening 0; RMSprop centered=False):
https://pytorch.org/docs/stable/optim.html

Run: python3 scripts/nn_optimizer_reference.py
"""
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/NNTests/Fixtures/optimizer_reference.json"
STEPS = 5


def adam(p, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p.copy())
    return out


def sgd(p, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    buf = None
    out = []
    for g in grads:
        g = g + weight_decay * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p.copy())
    return out


def rmsprop(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    sq = np.zeros_like(p)
    out = []
    for g in grads:
        g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        p = p - lr * g / (np.sqrt(sq) + eps)
        out.append(p.copy())
    return out


def main():
    rng = np.random.default_rng(20261129)
    # Float32-representable starting values so Swift starts from exactly the same numbers.
    p0 = rng.normal(size=(2, 3)).astype(np.float32).astype(np.float64)
    grads = [rng.normal(scale=0.5, size=(2, 3)).astype(np.float32).astype(np.float64)
             for _ in range(STEPS)]
    cases = [
        ("adam", dict(learningRate=1e-3), lambda: adam(p0, grads, lr=1e-3)),
        ("adam", dict(learningRate=0.05, beta1=0.8, beta2=0.99, eps=1e-6, weightDecay=0.1),
         lambda: adam(p0, grads, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1)),
        ("adamw", dict(learningRate=0.05, weightDecay=0.1),
         lambda: adam(p0, grads, lr=0.05, weight_decay=0.1, decoupled=True)),
        ("sgd", dict(learningRate=0.1, weightDecay=0.01), lambda: sgd(p0, grads, lr=0.1, weight_decay=0.01)),
        ("sgd", dict(learningRate=0.1, momentum=0.9), lambda: sgd(p0, grads, lr=0.1, momentum=0.9)),
        ("sgd", dict(learningRate=0.1, momentum=0.9, nesterov=1, weightDecay=0.01),
         lambda: sgd(p0, grads, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        ("rmsprop", dict(learningRate=1e-2), lambda: rmsprop(p0, grads, lr=1e-2)),
        ("rmsprop", dict(learningRate=1e-3, alpha=0.9, eps=1e-6, weightDecay=0.05),
         lambda: rmsprop(p0, grads, lr=1e-3, alpha=0.9, eps=1e-6, weight_decay=0.05)),
    ]
    out = {
        "initial": p0.ravel().tolist(),
        "rows": 2, "cols": 3,
        "gradients": [g.ravel().tolist() for g in grads],
        "cases": [{"optimizer": name, "hyper": hyper,
                   "expected": [p.ravel().tolist() for p in run()]} for name, hyper, run in cases],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
