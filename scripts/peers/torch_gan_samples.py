#!/usr/bin/env python3
"""Trains the article's MLP GAN in PyTorch on CPU and saves 10,000 samples for `gen eval`.

G 100-128-784 (Linear, LeakyReLU(0.01), Linear, Tanh), D 784-128-1 (Linear, LeakyReLU(0.01),
Linear), PyTorch's default Linear initialisation, non-saturating BCE-with-logits losses,
Adam(lr, betas (0.5, 0.999)) for both (lr 1e-3 by default, as `gen train gan`), batch 128 (last partial batch dropped), MNIST training
images in [-1, 1], reshuffled every epoch. Loop as in the PyTorch DCGAN example: D on the real
batch and on G(z).detach(), then G through the updated D.

Output: float32 .npy of shape (count, 784) in [-1, 1] (written to a temp file, then renamed).
Usage: torch_gan_samples.py --out FILE.npy [--epochs 30] [--seed 0] [--threads 2] [--count 10000]
       [--lr 1e-3]
"""
import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import mnist  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="output .npy")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--count", type=int, default=10000, help="samples to save")
    p.add_argument("--batch-size", type=int, default=common.BATCH_SIZE)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of both players")
    args = p.parse_args()
    if args.epochs < 1 or args.count < 1 or args.threads < 1 or args.batch_size < 1:
        sys.exit("torch_gan_samples: epochs, count, threads and batch size must be >= 1")

    import numpy as np
    import torch
    from torch import nn
    from torch_train_bench import mlp

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    spec = common.GAN_SPECS["gan"]
    G = mlp(nn, spec["g"], spec["slope"], nn.Tanh())
    D = mlp(nn, spec["d"], spec["slope"], None)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    b = args.batch_size
    ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)

    images = torch.from_numpy(mnist.load_images(value_range="symmetric"))
    per_epoch = len(images) // b
    t_start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = torch.from_numpy(rng.permutation(len(images)))
        sum_d = sum_g = 0.0
        for i in range(per_epoch):
            real = images[order[i * b:(i + 1) * b]]
            fake = G(torch.randn(b, common.LATENT_DIM))
            opt_d.zero_grad(set_to_none=True)
            loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad(set_to_none=True)
            loss_g = bce(D(fake), ones)
            loss_g.backward()
            opt_g.step()
            sum_d += loss_d.item()
            sum_g += loss_g.item()
        if not (np.isfinite(sum_d) and np.isfinite(sum_g)):
            sys.exit(f"torch_gan_samples: non-finite loss in epoch {epoch}")
        print(f"epoch {epoch}/{args.epochs}  D loss {sum_d / per_epoch:.4f}  "
              f"G loss {sum_g / per_epoch:.4f}  {time.perf_counter() - t_start:.0f} s",
              file=sys.stderr, flush=True)

    G.eval()
    with torch.no_grad():
        x = torch.cat([G(torch.randn(min(1000, args.count - i), common.LATENT_DIM))
                       for i in range(0, args.count, 1000)]).numpy().astype(np.float32)
    assert x.shape == (args.count, 784)
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + f".tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        np.save(f, x)
    os.replace(tmp, out)
    print(f"torch_gan_samples: wrote {args.count}x784 samples in [{x.min():.3f}, {x.max():.3f}] "
          f"to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
