"""A time loop that compiles well on every Keras backend.

`keras.ops.scan` on the TensorFlow backend carries its state through a
one-element `TensorArray`, requires the per-step output to have the carry's
structure, and sets no `maximum_iterations`, so XLA cannot compile its
gradient. Recurrent layers need a tighter loop: this module dispatches to
`tf.while_loop` (with `maximum_iterations`), `jax.lax.scan`, or a Python loop
(torch, numpy). It and `zoo.ops.compile` are the only modules the zoo's
layers use that know the backend.
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


def prefers_custom_loop_gradient():
    """Whether a hand-written backward loop beats autodiff of `scan` here.

    On the TensorFlow backend the gradient of a `tf.while_loop` pushes every
    intermediate of every step onto accumulator stacks and accumulates the
    recurrent-weight gradient with one small matmul per step; a cell that
    knows its own derivative (`step` of the zoo's LSTM / GRU / SimpleRNN
    cells) can instead run a reverse loop with one matmul per step and get
    the weight gradient from one large matmul after it. `jax.lax.scan`'s
    autodiff is already tight, so JAX (and the Python loop) keep it.
    """
    return keras.backend.backend() == "tensorflow"


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


# Steps of the time loop run per `tf.while_loop` iteration on the TensorFlow
# backend (at most; the largest divisor of a static length up to it, and 1 for
# a length unknown when tracing). Unrolling a few steps per
# iteration amortizes the per-iteration cost of the loop (its control ops,
# TensorArray reads and writes, and the gradient accumulators) over several
# steps; read when a loop is traced.
TF_STEPS_PER_ITERATION = 4


def _tf_steps_per_iteration(length):
    k = max(1, int(TF_STEPS_PER_ITERATION))
    if not isinstance(length, int):
        return 1
    while k > 1 and length % k:
        k -= 1
    return k


def _split_time(tf, x, n, k):
    """`(n, ...)` -> `(n // k, k, ...)`, dynamic where a dimension is unknown."""
    rest = x.shape.as_list()[1:]
    if None in rest:
        dynamic = tf.shape(x)
        rest = [d if d is not None else dynamic[i + 1] for i, d in enumerate(rest)]
    return tf.reshape(x, [n // k, k] + rest)


def _tf_scan(fn, init, xs, length, reverse, collect):
    import tensorflow as tf

    flat_xs = [tf.convert_to_tensor(x) for x in tree.flatten(xs)]
    n = length if length is not None else tf.shape(flat_xs[0])[0]
    k = _tf_steps_per_iteration(n)
    if k > 1:
        # Blocks of k steps: (n // k, k, ...).
        flat_xs = [_split_time(tf, x, n, k) for x in flat_xs]
    iterations = n // k if k > 1 else n
    inputs = [
        tf.TensorArray(x.dtype, size=iterations, element_shape=x.shape[1:]).unstack(x)
        for x in flat_xs
    ]
    flat_init = tree.flatten(init)

    def keep_shape(new, old):
        # Keep static shapes stable across iterations.
        if new.shape != old.shape:
            new = tf.ensure_shape(new, old.shape)
        return new

    def run_steps(i, carry):
        t = iterations - 1 - i if reverse else i
        blocks = [ta.read(t) for ta in inputs]
        if k == 1:
            new_carry, y = fn(carry, tree.pack_sequence_as(xs, blocks))
            return new_carry, y
        steps = [tf.unstack(b, num=k, axis=0) for b in blocks]
        order = range(k - 1, -1, -1) if reverse else range(k)
        ys = [None] * k
        for j in order:
            x_t = tree.pack_sequence_as(xs, [s[j] for s in steps])
            carry, ys[j] = fn(carry, x_t)
        return carry, (tf.stack(ys, axis=0) if collect else None)

    if collect:
        out = tf.TensorArray(flat_init[0].dtype, size=iterations, infer_shape=True)

        def body(i, carry, out):
            new_carry, y = run_steps(i, carry)
            new_carry = tree.map_structure(keep_shape, new_carry, carry)
            t = iterations - 1 - i if reverse else i
            return i + 1, new_carry, out.write(t, y)

        loop_vars = (tf.constant(0), init, out)
    else:
        # No output TensorArray at all: nothing to write per step, and XLA
        # can differentiate the loop (an unused, empty TensorArray in the
        # loop state cannot be).
        def body(i, carry):
            new_carry, _ = run_steps(i, carry)
            return i + 1, tree.map_structure(keep_shape, new_carry, carry)

        loop_vars = (tf.constant(0), init)

    result = tf.while_loop(
        lambda i, *_: i < iterations,
        body,
        loop_vars,
        maximum_iterations=iterations,
        parallel_iterations=32,
    )
    carry = result[1]
    if not collect:
        return carry, None
    ys = result[2].stack()
    if k > 1:
        shape = tf.shape(ys)
        ys = tf.reshape(ys, tf.concat([[n], shape[2:]], axis=0))
    if isinstance(n, int):
        ys = tf.ensure_shape(ys, [n] + [None] * (ys.shape.rank - 1))
    return carry, ys
