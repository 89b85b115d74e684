#!/usr/bin/env python3
"""PyTorch training-step throughput of the benchmark models, on CPU.

Same shapes, batch size, optimiser settings and data as `gen bench`; prints one JSON line of
the same shape (plus "framework"). A sample is one real image through one full D+G step (GAN)
or one image through forward + backward + Adam (VAE).

The GAN loop is the standard DCGAN-example loop (pytorch/examples dcgan): D on the real batch
and on G(z).detach(), then G through D reusing G(z). As in that example, D's parameters keep
requires_grad during G's update (their gradients are computed and discarded); --freeze-d turns
that off, which is what our trainer does.

Modes: eager (default), compile (torch.compile of the modules, the loss and the Adam steps; if
compilation fails the script prints a JSON line with "error" and exits 3).
"""
import os
import sys
import time

# Spinning OpenMP workers collapse 2-thread runs on a shared 2-core machine (see
# docs: engineering notes, benchmarking). Must be set before torch loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import mnist  # noqa: E402


def mlp(nn, widths, slope, out_act):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.LeakyReLU(slope))
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


def dcgan(nn):
    """GAN.dcgan's networks (Sources/Generative/DCGAN.swift), the same module order and names."""
    g, d, slope = common.DCGAN_SPEC["g"], common.DCGAN_SPEC["d"], common.DCGAN_SPEC["slope"]
    G = nn.Sequential(nn.Linear(common.LATENT_DIM, g[0] * 49), nn.Unflatten(1, (g[0], 7, 7)),
                      nn.BatchNorm2d(g[0]), nn.ReLU(), nn.ConvTranspose2d(g[0], g[1], 4, 2, 1),
                      nn.BatchNorm2d(g[1]), nn.ReLU(), nn.ConvTranspose2d(g[1], 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, d[0], 4, 2, 1), nn.LeakyReLU(slope), nn.Conv2d(d[0], d[1], 4, 2, 1),
                      nn.BatchNorm2d(d[1]), nn.LeakyReLU(slope), nn.Flatten(), nn.Linear(d[1] * 49, 1))
    return G, D


def make_gan_step(torch, nn, spec, batch, mode, freeze_d):
    if spec == "dcgan":
        G, D = dcgan(nn)
    else:
        G = mlp(nn, spec["g"], spec["slope"], nn.Tanh())
        D = mlp(nn, spec["d"], spec["slope"], None)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones = torch.ones(batch, 1)
    zeros = torch.zeros(batch, 1)
    g_fwd, d_fwd, step_g, step_d = G, D, opt_g.step, opt_d.step
    if mode == "compile":
        g_fwd, d_fwd = torch.compile(G), torch.compile(D)
        step_g, step_d = torch.compile(opt_g.step), torch.compile(opt_d.step)
    d_params = list(D.parameters())

    def step(real):
        z = torch.randn(batch, common.LATENT_DIM)
        fake = g_fwd(z)
        # D: maximise log D(x) + log(1 - D(G(z))).
        opt_d.zero_grad(set_to_none=True)
        loss_d = bce(d_fwd(real), ones) + bce(d_fwd(fake.detach()), zeros)
        loss_d.backward()
        step_d()
        # G: non-saturating, minimise -log D(G(z)).
        if freeze_d:
            for p in d_params:
                p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        loss_g = bce(d_fwd(fake), ones)
        loss_g.backward()
        step_g()
        if freeze_d:
            for p in d_params:
                p.requires_grad_(True)
        return loss_d, loss_g

    return step


def conv_vae_modules(nn):
    """VAE.conv's networks (Sources/Generative/ConvVAE.swift)."""
    c, z = common.CONV_VAE_SPEC["c"], common.CONV_VAE_SPEC["latent"]
    enc = nn.Sequential(nn.Conv2d(1, c[0], 4, 2, 1), nn.ReLU(), nn.Conv2d(c[0], c[1], 4, 2, 1), nn.ReLU(),
                        nn.Flatten())
    mu = nn.Sequential(nn.Linear(c[1] * 49, z))
    logvar = nn.Sequential(nn.Linear(c[1] * 49, z))
    dec = nn.Sequential(nn.Linear(z, c[1] * 49), nn.ReLU(), nn.Unflatten(1, (c[1], 7, 7)),
                        nn.ConvTranspose2d(c[1], c[0], 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(c[0], 1, 4, 2, 1))
    return enc, mu, logvar, dec


def make_conv_vae_step(torch, nn, batch, mode):
    z_dim = common.CONV_VAE_SPEC["latent"]

    class ConvVAELoss(nn.Module):
        """Negative ELBO of the conv VAE (Kingma & Welling 2014), summed over the batch."""

        def __init__(self):
            super().__init__()
            self.encoder, self.mu, self.logvar, self.decoder = conv_vae_modules(nn)

        def forward(self, x, eps):
            h = self.encoder(x)
            mu, logvar = self.mu(h), self.logvar(h)
            logits = self.decoder(mu + eps * torch.exp(0.5 * logvar))
            bce = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            return bce + kl

    model = ConvVAELoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    fwd, opt_step = model, opt.step
    if mode == "compile":
        fwd, opt_step = torch.compile(model), torch.compile(opt.step)

    def step(x):
        eps = torch.randn(batch, z_dim)
        opt.zero_grad(set_to_none=True)
        loss = fwd(x, eps)
        loss.backward()
        opt_step()
        return loss

    return step


def make_vae_step(torch, nn, batch, mode):
    v = common.VAE_SPEC

    class VAELoss(nn.Module):
        """Kingma & Welling 2014: negative ELBO = BCE(x, decoder logits) summed + KL, per batch."""

        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(v["input"], v["hidden"])
            self.mu = nn.Linear(v["hidden"], v["latent"])
            self.logvar = nn.Linear(v["hidden"], v["latent"])
            self.dec1 = nn.Linear(v["latent"], v["hidden"])
            self.dec2 = nn.Linear(v["hidden"], v["input"])

        def forward(self, x, eps):
            h = torch.relu(self.enc(x))
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + eps * torch.exp(0.5 * logvar)
            logits = self.dec2(torch.relu(self.dec1(z)))
            bce = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            return bce + kl

    model = VAELoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    fwd, opt_step = model, opt.step
    if mode == "compile":
        fwd, opt_step = torch.compile(model), torch.compile(opt.step)

    def step(x):
        eps = torch.randn(batch, v["latent"])
        opt.zero_grad(set_to_none=True)
        loss = fwd(x, eps)
        loss.backward()
        opt_step()
        return loss

    return step


def main():
    p = common.base_parser(__doc__.splitlines()[0], ["eager", "compile"], "eager")
    p.add_argument("--freeze-d", action="store_true",
                   help="no D weight gradients during G's update (GANs)")
    args = p.parse_args()
    common.resolve_steps(args)

    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)

    value_range = "unit" if args.model in ("vae", "vae-conv") else "symmetric"
    images = mnist.load_images(value_range=value_range)
    if args.model in ("dcgan", "vae-conv"):
        images = images.reshape(-1, 1, 28, 28)   # NCHW, as the conv modules take them
    batches = common.Batches(images, args.batch_size, args.seed, torch.from_numpy)
    if args.model == "vae":
        step = make_vae_step(torch, nn, args.batch_size, args.mode)
    elif args.model == "vae-conv":
        step = make_conv_vae_step(torch, nn, args.batch_size, args.mode)
    elif args.model == "dcgan":
        step = make_gan_step(torch, nn, "dcgan", args.batch_size, args.mode, args.freeze_d)
    else:
        step = make_gan_step(torch, nn, common.GAN_SPECS[args.model], args.batch_size,
                             args.mode, args.freeze_d)

    framework = f"torch-{args.mode}"
    versions = {"torch": torch.__version__, "numpy": np.__version__}
    compile_seconds = None
    try:
        t0 = time.perf_counter()
        out = step(batches.next())   # first step: compiles in compile mode
        compile_seconds = time.perf_counter() - t0
        for _ in range(max(args.warmup - 1, 0)):
            out = step(batches.next())
    except Exception as e:  # torch.compile needs a C++ toolchain and may fail: report, don't crash
        if args.mode != "compile":
            raise
        import json
        print(json.dumps({"model": args.model, "framework": framework,
                          "error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}",
                          "versions": versions}), flush=True)
        sys.exit(3)

    t0 = time.perf_counter()
    for _ in range(args.steps):
        out = step(batches.next())
    seconds = time.perf_counter() - t0
    losses = [float(t.detach()) for t in (out if isinstance(out, tuple) else (out,))]
    if not all(np.isfinite(losses)):
        raise SystemExit(f"non-finite loss after the timed steps: {losses}")
    extra = {"torch_threads": torch.get_num_threads(), "last_losses": losses}
    if args.model not in ("vae", "vae-conv"):
        extra["freeze_d"] = args.freeze_d
    if args.mode == "compile":
        extra["first_step_seconds"] = compile_seconds
    common.emit(args, framework, seconds, versions, extra)


if __name__ == "__main__":
    main()
