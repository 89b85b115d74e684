#!/usr/bin/env python3
"""numpy matmul GFLOP/s on the shapes of a gemm-bench run (peer comparison for gemm-bench).

Usage:
    gemm-bench --json > swift.json
    python3 scripts/gemm-bench-numpy.py swift.json [--repeat 5] [--min-seconds 0.05]

Reads the JSON array gemm-bench prints (name, m, n, k, transposeA, transposeB, threads, ...),
times `np.matmul(op(A), op(B), out=C)` in float32 for each shape with the same method as
gemm-bench (iterations calibrated so one repetition takes >= --min-seconds, median of --repeat
repetitions; transposes are `.T` views, so numpy passes a transpose flag to sgemm instead of
copying), and prints one side-by-side table: Swift Matrix, raw cblas (both from the JSON, same
gemm-bench invocation) and numpy. With --json-out it also writes the numpy figures.

Threads: numpy's own OpenBLAS reads OPENBLAS_NUM_THREADS when it loads, so this script sets it
from the JSON's thread count *before* importing numpy (unless already set). It does not touch
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: the wrapper scripts/gemm-bench-compare decides those and
says which it did; this script prints what it saw.
"""
import argparse
import json
import os
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("swift_json", help="output of gemm-bench --json ('-' for stdin)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--min-seconds", type=float, default=0.05)
    p.add_argument("--json-out", help="also write numpy's figures here")
    args = p.parse_args()

    src = sys.stdin if args.swift_json == "-" else open(args.swift_json)
    rows = json.load(src)
    if not rows:
        sys.exit("gemm-bench-numpy: no shapes in the gemm-bench JSON")
    threads = rows[0]["threads"]
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))

    import numpy as np  # after OPENBLAS_NUM_THREADS is set

    env = {k: os.environ.get(k, "(unset)") for k in
           ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    print(f"numpy {np.__version__}; numpy run environment: "
          + ", ".join(f"{k}={v}" for k, v in env.items()))

    rng = np.random.default_rng(2024)
    out = []
    for r in rows:
        m, n, k = r["m"], r["n"], r["k"]
        a_shape = (k, m) if r["transposeA"] else (m, k)
        b_shape = (n, k) if r["transposeB"] else (k, n)
        a = rng.uniform(-1, 1, a_shape).astype(np.float32)
        b = rng.uniform(-1, 1, b_shape).astype(np.float32)
        opa = a.T if r["transposeA"] else a
        opb = b.T if r["transposeB"] else b
        c = np.empty((m, n), dtype=np.float32)
        np.matmul(opa, opb, out=c)  # warm-up

        def run(iters):
            t0 = time.perf_counter()
            for _ in range(iters):
                np.matmul(opa, opb, out=c)
            return time.perf_counter() - t0

        iters = 1
        while True:
            t = run(iters)
            if t >= args.min_seconds:
                break
            iters = max(iters * 2, int(iters * args.min_seconds * 1.2 / max(t, 1e-9)) + 1)
        flops = 2.0 * m * n * k
        g = sorted(flops * iters / run(iters) / 1e9 for _ in range(args.repeat))
        med = g[len(g) // 2] if len(g) % 2 else 0.5 * (g[len(g) // 2 - 1] + g[len(g) // 2])
        ref = (opa.astype(np.float64) @ opb.astype(np.float64))
        assert np.max(np.abs(c - ref)) <= 1e-3 * k, "numpy result wrong"
        out.append({"name": r["name"], "numpy_gflops": med, "iterations": iters})

    name_w = max(len(r["name"]) for r in rows)
    print(f"{'shape':<{name_w}}  {'m':>5} {'n':>5} {'k':>5}  {'Swift Matrix':>12}  {'raw cblas':>10}"
          f"  {'numpy':>8}  {'Matrix/numpy':>12}   (GFLOP/s, medians; threads {threads})")
    for r, o in zip(rows, out):
        print(f"{r['name']:<{name_w}}  {r['m']:>5} {r['n']:>5} {r['k']:>5}  {r['matrix_gflops']:>12.1f}"
              f"  {r['cblas_gflops']:>10.1f}  {o['numpy_gflops']:>8.1f}  {r['matrix_gflops'] / o['numpy_gflops']:>12.3f}")
    if args.json_out:
        with open(args.json_out + ".tmp", "w") as f:
            json.dump(out, f, indent=1)
        os.replace(args.json_out + ".tmp", args.json_out)


if __name__ == "__main__":
    main()
