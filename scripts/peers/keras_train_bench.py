#!/usr/bin/env python3
"""Keras 3 (TensorFlow backend) training-step throughput of the benchmark models, on CPU.

Same shapes, batch size, optimiser settings and data as `gen bench`; prints one JSON line of
the same shape (plus "framework"). A sample is one real image through one full D+G step (GAN)
or one image through forward + backward + Adam (VAE).

A custom GradientTape train step, the usual way to train a GAN in Keras 3 on TensorFlow:
G(z) once; D updated on the real batch and G(z) (stop_gradient); then G updated through the
updated D. The G tape asks only for G's gradients, so TensorFlow computes no D weight gradients
there (the same work as our trainer).

Modes: tape (the step in tf.function, graph mode) and xla (tf.function(jit_compile=True)).
Threads: intra-op = --threads, inter-op = 1.
"""
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import mnist  # noqa: E402


def mlp(keras, widths, slope, out_activation):
    layers = [keras.Input((widths[0],))]
    for i, b in enumerate(widths[1:]):
        last = i == len(widths) - 2
        layers.append(keras.layers.Dense(b, activation=out_activation if last else None))
        if not last:
            layers.append(keras.layers.LeakyReLU(negative_slope=slope))
    return keras.Sequential(layers)


def dcgan(keras):
    """GAN.dcgan's networks in Keras (channels-last, the layout Keras uses on CPU): the same layers,
    4x4 stride-2 kernels with "same" padding (7 -> 14 -> 28, the same products as padding 1)."""
    L = keras.layers
    g, d, slope = common.DCGAN_SPEC["g"], common.DCGAN_SPEC["d"], common.DCGAN_SPEC["slope"]
    G = keras.Sequential([keras.Input((common.LATENT_DIM,)), L.Dense(g[0] * 49), L.Reshape((7, 7, g[0])),
                          L.BatchNormalization(momentum=0.9, epsilon=1e-5), L.ReLU(),
                          L.Conv2DTranspose(g[1], 4, strides=2, padding="same"),
                          L.BatchNormalization(momentum=0.9, epsilon=1e-5), L.ReLU(),
                          L.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")])
    D = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(d[0], 4, strides=2, padding="same"),
                          L.LeakyReLU(negative_slope=slope), L.Conv2D(d[1], 4, strides=2, padding="same"),
                          L.BatchNormalization(momentum=0.9, epsilon=1e-5), L.LeakyReLU(negative_slope=slope),
                          L.Flatten(), L.Dense(1)])
    return G, D


def make_gan_step(tf, keras, spec, batch, jit):
    if spec == "dcgan":
        G, D = dcgan(keras)
    else:
        G = mlp(keras, spec["g"], spec["slope"], "tanh")
        D = mlp(keras, spec["d"], spec["slope"], None)
    opt_g = keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.999)
    opt_d = keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.999)
    opt_g.build(G.trainable_variables)
    opt_d.build(D.trainable_variables)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    ones = tf.ones((batch, 1))
    zeros = tf.zeros((batch, 1))

    @tf.function(jit_compile=jit)
    def step(real):
        z = tf.random.normal((batch, common.LATENT_DIM))
        with tf.GradientTape() as g_tape:
            fake = G(z, training=True)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    loss_d = (bce(ones, D(real, training=True))
                              + bce(zeros, D(tf.stop_gradient(fake), training=True)))
                grads = d_tape.gradient(loss_d, D.trainable_variables)
                opt_d.apply_gradients(zip(grads, D.trainable_variables))
            loss_g = bce(ones, D(fake, training=True))   # non-saturating
        grads = g_tape.gradient(loss_g, G.trainable_variables)
        opt_g.apply_gradients(zip(grads, G.trainable_variables))
        return loss_d, loss_g

    return step


def conv_vae(keras):
    """VAE.conv's encoder (with its two heads) and decoder in Keras, channels-last."""
    L = keras.layers
    c, z = common.CONV_VAE_SPEC["c"], common.CONV_VAE_SPEC["latent"]
    x_in = keras.Input((28, 28, 1))
    h = L.Conv2D(c[0], 4, strides=2, padding="same", activation="relu")(x_in)
    h = L.Flatten()(L.Conv2D(c[1], 4, strides=2, padding="same", activation="relu")(h))
    encoder = keras.Model(x_in, [L.Dense(z)(h), L.Dense(z)(h)])
    decoder = keras.Sequential([keras.Input((z,)), L.Dense(c[1] * 49, activation="relu"), L.Reshape((7, 7, c[1])),
                                L.Conv2DTranspose(c[0], 4, strides=2, padding="same", activation="relu"),
                                L.Conv2DTranspose(1, 4, strides=2, padding="same")])
    return encoder, decoder, z


def make_vae_step(tf, keras, batch, jit, conv=False):
    v = common.VAE_SPEC
    if conv:
        encoder, decoder, latent = conv_vae(keras)
        v = dict(v, latent=latent)
    else:
        x_in = keras.Input((v["input"],))
        h = keras.layers.Dense(v["hidden"], activation="relu")(x_in)
        encoder = keras.Model(x_in, [keras.layers.Dense(v["latent"])(h),
                                     keras.layers.Dense(v["latent"])(h)])
        decoder = keras.Sequential([keras.Input((v["latent"],)),
                                    keras.layers.Dense(v["hidden"], activation="relu"),
                                    keras.layers.Dense(v["input"])])
    variables = encoder.trainable_variables + decoder.trainable_variables
    opt = keras.optimizers.Adam(learning_rate=1e-3)
    opt.build(variables)

    @tf.function(jit_compile=jit)
    def step(x):
        eps = tf.random.normal((batch, v["latent"]))
        with tf.GradientTape() as tape:
            mu, logvar = encoder(x, training=True)
            logits = decoder(mu + eps * tf.exp(0.5 * logvar), training=True)
            # Negative ELBO (Kingma & Welling 2014): BCE summed over the batch + KL.
            bce = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))
            kl = -0.5 * tf.reduce_sum(1 + logvar - tf.square(mu) - tf.exp(logvar))
            loss = bce + kl
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return (loss,)

    return step


def main():
    p = common.base_parser(__doc__.splitlines()[0], ["tape", "xla"], "tape")
    args = p.parse_args()
    common.resolve_steps(args)

    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    keras.utils.set_random_seed(args.seed)

    value_range = "unit" if args.model in ("vae", "vae-conv") else "symmetric"
    images = mnist.load_images(value_range=value_range)
    if args.model in ("dcgan", "vae-conv"):
        images = images.reshape(-1, 28, 28, 1)   # NHWC, Keras's layout
    batches = common.Batches(images, args.batch_size, args.seed, tf.constant)
    jit = args.mode == "xla"
    if args.model in ("vae", "vae-conv"):
        step = make_vae_step(tf, keras, args.batch_size, jit, conv=args.model == "vae-conv")
    elif args.model == "dcgan":
        step = make_gan_step(tf, keras, "dcgan", args.batch_size, jit)
    else:
        step = make_gan_step(tf, keras, common.GAN_SPECS[args.model], args.batch_size, jit)

    framework = f"keras-{args.mode}"
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__}
    # One tensor per batch, made once. Not slicing a captured data set inside the step:
    # XLA embeds a captured tensor as a constant, and as an argument it runs ~100x slower.
    split = tf.split(batches.data, batches.count)
    t0 = time.perf_counter()
    out = step(split[batches.next_index()])   # traces (and compiles with XLA)
    first = [float(t) for t in out]
    first_step_seconds = time.perf_counter() - t0
    for _ in range(max(args.warmup - 1, 0)):
        out = step(split[batches.next_index()])
    [float(t) for t in out]   # wait for the warm-up work

    t0 = time.perf_counter()
    for _ in range(args.steps):
        out = step(split[batches.next_index()])
    losses = [float(t) for t in out]   # reading the result waits for the last step
    seconds = time.perf_counter() - t0
    if not all(np.isfinite(losses + first)):
        raise SystemExit(f"non-finite loss: first {first}, last {losses}")
    common.emit(args, framework, seconds, versions,
                {"last_losses": losses, "first_step_seconds": first_step_seconds})


if __name__ == "__main__":
    main()
