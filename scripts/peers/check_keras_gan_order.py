#!/usr/bin/env python3
"""Checks that the graph-mode Keras GAN step of keras_train_bench.py runs in program order.

tf.function may reorder ops that have no data dependency; if D(G(z)) in G's update read D's
weights before D's Adam update, the Keras peer would do a different (cheaper) step than ours.
This runs three steps eagerly (strict program order) and three as a tf.function from the same
weights, noise and batch, and exits 1 unless the losses agree to 1e-5. As a sensitivity check
it also runs a step whose D update is skipped, whose G loss must differ by more than that.
Usage: .venv-peers/bin/python scripts/peers/check_keras_gan_order.py
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
import common  # noqa: E402
import keras_train_bench as kb  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
z = tf.constant(np.random.default_rng(1).standard_normal((128, 100)).astype(np.float32))
tf.random.normal = lambda shape, *a, **k: z   # same noise in both modes (read at trace time)
real = tf.constant(np.random.default_rng(2).uniform(-1, 1, (128, 784)).astype(np.float32))


def run(eager, skip_d_update=False):
    tf.config.run_functions_eagerly(eager)
    keras.utils.set_random_seed(0)
    if skip_d_update:
        original = keras.optimizers.Adam.apply_gradients
        calls = {"n": 0}

        def apply(self, grads_and_vars, *a, **k):
            calls["n"] += 1
            if calls["n"] % 2 == 1:   # the D optimiser is applied first in each step
                return None
            return original(self, grads_and_vars, *a, **k)
        keras.optimizers.Adam.apply_gradients = apply
    try:
        step = kb.make_gan_step(tf, keras, common.GAN_SPECS["gan"], 128, jit=False)
        return np.array([[float(t) for t in step(real)] for _ in range(3 if not skip_d_update else 1)])
    finally:
        if skip_d_update:
            keras.optimizers.Adam.apply_gradients = original


eager, graph = run(True), run(False)
stale = run(True, skip_d_update=True)
diff = np.abs(eager - graph).max()
sensitivity = abs(stale[0, 1] - eager[0, 1])
print(f"eager {eager.tolist()}\ngraph {graph.tolist()}\nmax |eager - graph| = {diff:.3g}; "
      f"G loss change from D's update on step 1 = {sensitivity:.3g}")
ok = diff <= 1e-5 and sensitivity > 1e-5
print("ok" if ok else "FAILED")
sys.exit(0 if ok else 1)
