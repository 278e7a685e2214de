"""A time loop that compiles well on every Keras backend.

`keras.ops.scan` on the TensorFlow backend carries its state through a
one-element `TensorArray`, requires the per-step output to have the carry's
structure, and sets no `maximum_iterations`, so XLA cannot compile its
gradient. Recurrent layers need a tighter loop: this module dispatches to
`tf.while_loop` (with `maximum_iterations`), `jax.lax.scan`, or a Python loop
(torch, numpy), and is the only place in `zoo.layers` that knows the backend.
"""

import keras
from keras import ops
from keras import tree


def scan(fn, init, xs, length=None, reverse=False, collect=True, unroll=False):
    """Loop `fn(carry, x_t) -> (carry, y_t)` over the leading axis of `xs`.

    Args:
        fn: the step function. `carry` has the structure of `init`; `x_t` has
            the structure of `xs` with the leading (time) axis removed; `y_t`
            is a single tensor (or `None` when `collect=False`).
        init: the initial carry, a nested structure of tensors.
        xs: a nested structure of time-major tensors `(time, ...)`.
        length: the static number of steps, if known (needed by XLA on the
            TensorFlow backend; taken from `xs` when its shape is static).
        reverse: loop from the last step to the first (outputs stay aligned
            with `xs`).
        collect: stack and return the per-step outputs.
        unroll: unroll the loop in Python (needs a static `length`).

    Returns:
        `(final_carry, ys)`: `ys` is the time-major stack of `y_t`, or `None`
        when `collect=False`.
    """
    flat_xs = tree.flatten(xs)
    if length is None and flat_xs:
        length = flat_xs[0].shape[0]
    backend = keras.backend.backend()
    if unroll:
        if length is None:
            raise ValueError(
                "`unroll=True` needs a sequence length known when the layer "
                "is traced. Received: a sequence of unknown length."
            )
        return _python_scan(fn, init, xs, length, reverse, collect)
    if backend == "tensorflow":
        return _tf_scan(fn, init, xs, length, reverse, collect)
    if backend == "jax":
        import jax

        def jax_fn(carry, x):
            carry, y = fn(carry, x)
            return carry, (y if collect else None)

        return jax.lax.scan(jax_fn, init, xs, length=length, reverse=reverse)
    return _python_scan(fn, init, xs, length, reverse, collect)


def _python_scan(fn, init, xs, length, reverse, collect):
    if length is None:
        length = ops.shape(tree.flatten(xs)[0])[0]
    steps = range(length - 1, -1, -1) if reverse else range(length)
    carry, ys = init, []
    for t in steps:
        carry, y = fn(carry, tree.map_structure(lambda x: x[t], xs))
        if collect:
            ys.append(y)
    if not collect:
        return carry, None
    if reverse:
        ys = ys[::-1]
    return carry, ops.stack(ys, axis=0)


def _tf_scan(fn, init, xs, length, reverse, collect):
    import tensorflow as tf

    flat_xs = [tf.convert_to_tensor(x) for x in tree.flatten(xs)]
    n = length if length is not None else tf.shape(flat_xs[0])[0]
    inputs = [
        tf.TensorArray(x.dtype, size=n, element_shape=x.shape[1:]).unstack(x)
        for x in flat_xs
    ]
    y_dtype = tree.flatten(init)[0].dtype
    out = tf.TensorArray(y_dtype, size=n if collect else 0, infer_shape=True)

    def body(i, carry, out):
        t = n - 1 - i if reverse else i
        x_t = tree.pack_sequence_as(xs, [ta.read(t) for ta in inputs])
        new_carry, y = fn(carry, x_t)
        # Keep static shapes stable across iterations.
        new_carry = tree.map_structure(
            lambda new, old: tf.ensure_shape(new, old.shape), new_carry, carry
        )
        if collect:
            out = out.write(t, y)
        return i + 1, new_carry, out

    _, carry, out = tf.while_loop(
        lambda i, *_: i < n,
        body,
        (tf.constant(0), init, out),
        maximum_iterations=n,
        parallel_iterations=32,
    )
    if not collect:
        return carry, None
    ys = out.stack()
    if isinstance(n, int):
        ys = tf.ensure_shape(ys, [n] + [None] * (ys.shape.rank - 1))
    return carry, ys
