#!/usr/bin/env python3
"""Table of medians from the JSON lines written by scripts/bench-peers.

Each input line is one run: the JSON object of `gen bench --json` or a peer script, plus
"impl" (ours or a peer name), "rep" and "load1" (1-minute load average before the run).
Failed runs are lines with "error". Prints: model | ours median | each peer's median |
ratio ours/peer, then the paired (same-repetition) ratios, the load range and the versions.
Usage: summarize.py RUNS.jsonl [--peers a,b,...]
"""
import argparse
import json
import statistics
import sys


def main():
    p = argparse.ArgumentParser(description="Summarise bench-peers JSON lines.")
    p.add_argument("runs")
    p.add_argument("--peers", default=None, help="column order (default: as found)")
    args = p.parse_args()

    rows, errors, versions, loads, by_rep = {}, {}, {}, [], {}
    models, impls = [], []
    with open(args.runs) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{args.runs}:{n}: not JSON ({e})")
            model, impl = r.get("model"), r.get("impl")
            if model not in models:
                models.append(model)
            if impl not in impls:
                impls.append(impl)
            if isinstance(r.get("load1"), (int, float)):
                loads.append(r["load1"])
            if "error" in r or "samples_per_sec" not in r:
                errors.setdefault((model, impl), []).append(str(r.get("error", "no samples_per_sec")))
                continue
            rows.setdefault((model, impl), []).append(float(r["samples_per_sec"]))
            by_rep.setdefault((model, r.get("rep")), {})[impl] = float(r["samples_per_sec"])
            if impl != "ours" and "versions" in r:
                versions[impl] = r["versions"]

    peers = args.peers.split(",") if args.peers else [i for i in impls if i != "ours"]
    cols = ["ours"] + peers

    def med(model, impl):
        v = rows.get((model, impl))
        return statistics.median(v) if v else None

    head = ["model"] + [f"{c} (n)" for c in cols] + [f"ours/{c}" for c in peers]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for m in models:
        cells = [m]
        for c in cols:
            v = med(m, c)
            n = len(rows.get((m, c), []))
            cells.append(f"{v:,.0f} ({n})" if v is not None else
                         ("failed" if (m, c) in errors else "-"))
        ours = med(m, "ours")
        for c in peers:
            v = med(m, c)
            cells.append(f"{ours / v:.2f}" if ours is not None and v else "-")
        print("| " + " | ".join(cells) + " |")
    print()
    print("samples/s, median over repetitions (n runs); ratio > 1 means ours is faster.")
    # Paired ratios: ours/peer within each repetition (runs minutes apart share the machine's
    # state), then the median and range over repetitions: less sensitive to load drift.
    paired = []
    for m in models:
        for c in peers:
            r = sorted(v["ours"] / v[c] for (mm, _), v in by_rep.items()
                       if mm == m and "ours" in v and v.get(c))
            if r:
                paired.append(f"{m} ours/{c} {statistics.median(r):.2f} [{r[0]:.2f}-{r[-1]:.2f}]")
    if paired:
        print("paired ratios, median [min-max] over repetitions: " + "; ".join(paired))
    if loads:
        print(f"1-min load average before runs: min {min(loads):.2f}, "
              f"median {statistics.median(loads):.2f}, max {max(loads):.2f}")
    for impl, v in versions.items():
        print(f"{impl}: " + ", ".join(f"{k} {x}" for k, x in v.items()))
    for (m, c), errs in errors.items():
        print(f"{m} {c}: {len(errs)} failed run(s): {errs[0][:200]}")
    spreads = []
    for (m, c), v in rows.items():
        if len(v) > 1:
            spreads.append(f"{m}/{c} {min(v):,.0f}-{max(v):,.0f}")
    if spreads:
        print("range (min-max): " + "; ".join(spreads))


if __name__ == "__main__":
    main()
