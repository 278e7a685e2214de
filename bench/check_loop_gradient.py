"""Check the zoo layers' hand-written loop gradients against Keras's layers.

`zoo.layers.RNN` uses a cell's `scan_with_gradient` (a hand-written backward
loop) only when training without a mask on the TensorFlow backend, a path
that forward-only or `training=False` parity checks never reach. This script
compares outputs and gradients (inputs, initial states, every weight) with
`training=True`, with and without XLA, `return_sequences` and `go_backwards`.

    PYTHONPATH=. python bench/check_loop_gradient.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo.layers  # noqa: E402

CASES = [
    ("LSTM", {}),
    ("SimpleRNN", {}),
    ("GRU", {"reset_after": True}),
    ("GRU", {"reset_after": False}),
    ("GRU", {"reset_after": True, "use_bias": False}),
]


def main(tolerance=1e-5):
    worst = 0.0
    for name, extra in CASES:
        for jit in (False, True):
            for rs in (False, True):
                for gb in (False, True):
                    kw = dict(return_sequences=rs, return_state=True, go_backwards=gb, **extra)
                    k = getattr(keras.layers, name)(7, **kw)
                    z = getattr(zoo.layers, name)(7, **kw)
                    x = tf.constant(np.random.default_rng(1).standard_normal((3, 6, 4)).astype("float32"))
                    n_states = 2 if name == "LSTM" else 1
                    s0 = [
                        tf.constant(np.random.default_rng(2 + j).standard_normal((3, 7)).astype("float32"))
                        for j in range(n_states)
                    ]
                    k(x)
                    z(x)
                    k.set_weights(
                        [np.random.default_rng(i).uniform(-0.5, 0.5, w.shape).astype("float32")
                         for i, w in enumerate(k.get_weights())]
                    )
                    z.set_weights(k.get_weights())
                    res = []
                    for layer in (k, z):

                        @tf.function(jit_compile=jit)
                        def f(x, s0, layer=layer):
                            with tf.GradientTape() as tape:
                                tape.watch(x)
                                tape.watch(s0)
                                out = layer(x, initial_state=s0, training=True)
                                loss = sum(
                                    tf.reduce_sum(o * (j + 1.3) * tf.sin(o)) for j, o in enumerate(out)
                                )
                            return out, tape.gradient(loss, [x] + s0 + layer.trainable_weights)

                        out, g = f(x, s0)
                        res.append([o.numpy() for o in out] + [gi.numpy() for gi in g])
                    d = max(float(np.abs(a - b).max()) for a, b in zip(*res))
                    worst = max(worst, d)
                    print(f"{name} {extra} jit={jit} return_sequences={rs} go_backwards={gb}: {d:.2e}")
    print(f"largest difference {worst:.2e}")
    if worst > tolerance:
        raise SystemExit(f"FAILED: {worst:.2e} > {tolerance:.0e}")


if __name__ == "__main__":
    main()
