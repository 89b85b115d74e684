"""Model shapes, FLOP counts, batches and JSON output shared by the peer benchmark scripts.

The shapes match the Swift models (Sources/Generative): the article's GAN, the 784-400-20 VAE,
the larger benchmark GAN, the DCGAN (GANConfig.dcgan()) and the conv VAE (VAEConfig.conv()).
One output line has the shape of `gen bench --json`.
"""
import argparse
import json
import os
import platform

BATCH_SIZE = 128
MODELS = ("gan", "vae", "gan-large", "dcgan", "vae-conv")

# (layer widths, LeakyReLU negative slope) of generator and discriminator.
GAN_SPECS = {
    "gan": {"g": [100, 128, 784], "d": [784, 128, 1], "slope": 0.01},
    "gan-large": {"g": [100, 256, 512, 1024, 784], "d": [784, 512, 256, 1], "slope": 0.2},
}
LATENT_DIM = 100
VAE_SPEC = {"input": 784, "hidden": 400, "latent": 20}
# GAN.dcgan (Sources/Generative/DCGAN.swift): G Linear(100, g0*7*7), BN, ReLU, ConvT(g0, g1, 4, 2, 1),
# BN, ReLU, ConvT(g1, 1, 4, 2, 1), Tanh; D Conv(1, d0, 4, 2, 1), LeakyReLU(0.2), Conv(d0, d1, 4, 2, 1),
# BN, LeakyReLU(0.2), Flatten, Linear(d1*7*7, 1).
DCGAN_SPEC = {"g": [128, 64], "d": [64, 128], "slope": 0.2}
# VAE.conv (Sources/Generative/ConvVAE.swift): channels c0 (14x14), c1 (7x7), latent 20.
CONV_VAE_SPEC = {"c": [32, 64], "latent": 20}

# Default timed and warm-up steps per model: a few seconds each on 2 cores.
DEFAULT_STEPS = {"gan": 400, "vae": 400, "gan-large": 100, "dcgan": 40, "vae-conv": 100}
DEFAULT_WARMUP = {"gan": 50, "vae": 50, "gan-large": 20, "dcgan": 5, "vae-conv": 10}


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
    if model == "dcgan":
        return dcgan_flops_per_sample()
    if model == "vae-conv":
        return conv_vae_flops_per_sample()
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


def _conv_macs(cin, cout, k, out_side):
    """Multiply-adds of a k x k convolution per sample (or of the convolution a transposed one is
    the adjoint of, whose output side is then the transposed layer's input side)."""
    return cin * cout * k * k * out_side * out_side


def dcgan_flops_per_sample():
    """gemm FLOPs per sample of the DCGAN step, counted as `GANTrainer.flopsPerStep` does: per
    layer of m multiply-adds, forward 2m, dW 2m, dX 2m (none for the first layer of D on data and of
    G on z). Step: G forward; D forward + dW + dX on real and fake; D forward + dX (frozen);
    G dW + dX."""
    g, d = DCGAN_SPEC["g"], DCGAN_SPEC["d"]
    gm = [LATENT_DIM * g[0] * 49, _conv_macs(g[1], g[0], 4, 7), _conv_macs(1, g[1], 4, 14)]
    dm = [_conv_macs(1, d[0], 4, 14), _conv_macs(d[0], d[1], 4, 7), d[1] * 49]
    flops = 2 * sum(gm)
    flops += 2 * (2 * sum(dm) + 2 * sum(dm) + 2 * (sum(dm) - dm[0]))
    flops += 2 * sum(dm) + 2 * sum(dm)
    flops += 2 * sum(gm) + 2 * (sum(gm) - gm[0])
    return flops


def conv_vae_flops_per_sample():
    """gemm FLOPs per sample of the conv VAE step (`VAETrainer.flopsPerStep`): forward, dW, and
    dX except the encoder's first layer."""
    c, z = CONV_VAE_SPEC["c"], CONV_VAE_SPEC["latent"]
    m = [_conv_macs(1, c[0], 4, 14), _conv_macs(c[0], c[1], 4, 7), c[1] * 49 * z, c[1] * 49 * z,
         z * c[1] * 49, _conv_macs(c[0], c[1], 4, 7), _conv_macs(1, c[0], 4, 14)]
    return 2 * sum(m) + 2 * sum(m) + 2 * (sum(m) - m[0])


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
