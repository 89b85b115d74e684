"""Model shapes, FLOP counts, batches and JSON output shared by the peer benchmark scripts.

The shapes match the Swift models (Sources/Generative): the article's GAN, the 784-400-20 VAE
and the larger benchmark GAN. One output line has the shape of `gen bench --json`.
"""
import argparse
import json
import os
import platform

BATCH_SIZE = 128
MODELS = ("gan", "vae", "gan-large")

# (layer widths, LeakyReLU negative slope) of generator and discriminator.
GAN_SPECS = {
    "gan": {"g": [100, 128, 784], "d": [784, 128, 1], "slope": 0.01},
    "gan-large": {"g": [100, 256, 512, 1024, 784], "d": [784, 512, 256, 1], "slope": 0.2},
}
LATENT_DIM = 100
VAE_SPEC = {"input": 784, "hidden": 400, "latent": 20}

# Default timed and warm-up steps per model: a few seconds each on 2 cores.
DEFAULT_STEPS = {"gan": 400, "vae": 400, "gan-large": 100}
DEFAULT_WARMUP = {"gan": 50, "vae": 50, "gan-large": 20}


def _macs(widths):
    return [a * b for a, b in zip(widths[:-1], widths[1:])]


def nominal_flops_per_sample(model):
    """gemm FLOPs per sample of the minimal training step, the same count for every implementation.

    Per Dense layer of m = in*out multiply-adds and one sample: forward 2m, weight gradient 2m,
    input gradient 2m (skipped for a layer whose input is data or noise). GAN step: G forward;
    D forward + dW + dX on the real and the fake batch; then D forward on the fake batch, dX
    through the frozen D (no dW) and G's backward. VAE step: forward + backward of
    784-400-(20,20)-400-784. Bias and element-wise work are not counted.
    """
    if model == "vae":
        v = VAE_SPEC
        m = [v["input"] * v["hidden"], v["hidden"] * v["latent"], v["hidden"] * v["latent"],
             v["latent"] * v["hidden"], v["hidden"] * v["input"]]
        return 2 * sum(m) + 2 * sum(m) + 2 * (sum(m) - m[0])
    spec = GAN_SPECS[model]
    g, d = _macs(spec["g"]), _macs(spec["d"])
    flops = 2 * sum(g)                                        # G forward
    flops += 2 * (2 * sum(d) + 2 * sum(d) + 2 * (sum(d) - d[0]))  # D fwd+dW+dX, real and fake
    flops += 2 * sum(d) + 2 * sum(d)                          # D forward + dX for G's update
    flops += 2 * sum(g) + 2 * (sum(g) - g[0])                 # G dW + dX
    return flops


def base_parser(description, modes, default_mode):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("model", choices=MODELS)
    p.add_argument("--mode", choices=modes, default=default_mode)
    p.add_argument("--steps", type=int, default=None, help="timed steps (default per model)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default per model)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print only the JSON line on stdout")
    return p


def resolve_steps(args):
    if args.steps is None:
        args.steps = DEFAULT_STEPS[args.model]
    if args.warmup is None:
        args.warmup = DEFAULT_WARMUP[args.model]
    if args.steps < 1 or args.warmup < 0 or args.threads < 1 or args.batch_size < 1:
        raise SystemExit("steps and threads and batch size must be >= 1, warmup >= 0")


class Batches:
    """Contiguous batches of a once-shuffled float32 array, cycling; no copies per step."""

    def __init__(self, images, batch_size, seed, to_tensor):
        import numpy as np
        rng = np.random.default_rng(seed)
        x = images[rng.permutation(len(images))]
        self.count = len(x) // batch_size
        self.batch_size = batch_size
        self.data = to_tensor(x[: self.count * batch_size])
        self.i = 0

    def next_index(self):
        i = self.i
        self.i = (i + 1) % self.count
        return i

    def next(self):
        i = self.next_index()
        return self.data[i * self.batch_size:(i + 1) * self.batch_size]


def emit(args, framework, seconds, versions, extra=None):
    samples = args.steps * args.batch_size
    rate = samples / seconds
    out = {
        "model": args.model,
        "samples_per_sec": rate,
        "threads": args.threads,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "gflops": rate * nominal_flops_per_sample(args.model) / 1e9,
        "framework": framework,
        "seconds": seconds,
        "warmup": args.warmup,
        "versions": dict(versions, python=platform.python_version()),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }
    if extra:
        out.update(extra)
    print(json.dumps(out), flush=True)
