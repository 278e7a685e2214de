"""Compiling one function with XLA where the backend does not already.

On the JAX backend everything a Keras model runs is compiled by `jax.jit`;
on the TensorFlow backend Keras compiles nothing with XLA on a CPU-only
machine (`jit_compile="auto"` resolves to False there) and leaves it to
`model.compile(jit_compile=True)` elsewhere. A recurrent layer's time loop
is where XLA pays most (one fused computation per step instead of a dozen
small kernels and the loop's control ops), so `zoo.layers.RNN` can compile
its time loops by itself; these are the backend-specific pieces.
"""

import contextlib
import contextvars

import keras

_PLAIN_LOOPS = contextvars.ContextVar("zoo_plain_loops", default=False)


@contextlib.contextmanager
def plain_loops():
    """Within this context nothing is compiled with XLA by the zoo: every
    `zoo.layers.RNN` traces its plain time loops, whatever its `jit_compile`.

    A scoped flag the layers read when they trace (as Keras's own scopes
    are), restored on exit. What exports use: TensorFlow Serving runs an XLA
    function only when started with `--xla_cpu_compilation_enabled=true`
    (`zoo.export.plain_recurrent_loops` is this context).
    """
    token = _PLAIN_LOOPS.set(True)
    try:
        yield
    finally:
        _PLAIN_LOOPS.reset(token)


def compiles_functions():
    """Whether `xla_function` compiles anything here: on the TensorFlow
    backend, outside `plain_loops()`."""
    return keras.backend.backend() == "tensorflow" and not _PLAIN_LOOPS.get()


def in_graph():
    """True while a graph is traced (a `tf.function`, `model.predict`)."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.executing_eagerly()


def xla_function(fn):
    """`fn` as one XLA computation (TensorFlow: `tf.function(jit_compile=True)`).

    `fn(*args)` takes nested structures of tensors (and `None`) and returns
    one; it must not read variables (pass their values as arguments, e.g.
    under `keras.StatelessScope`). XLA compiles it once per distinct input
    shape (tracing generalizes to unknown dimensions after the first
    retrace), so call it with stable shapes.

    The result stays differentiable with respect to its floating-point
    arguments: TensorFlow cannot differentiate an XLA-compiled while loop
    from outside it (the loop's accumulators cannot cross the XLA boundary),
    so the forward pass runs the compiled function on inputs the tape does
    not see, and the backward pass runs `fn` again, uncompiled, under its own
    tape. On other backends `fn` is returned unchanged.
    """
    if not compiles_functions():
        return fn
    import tensorflow as tf

    compiled = tf.function(fn, jit_compile=True, autograph=False, reduce_retracing=True)

    def call(*args):
        flat_args = tf.nest.flatten(args)
        floats = [
            i
            for i, a in enumerate(flat_args)
            if a is not None and tf.as_dtype(a.dtype).is_floating
        ]

        def with_floats(values):
            flat = list(flat_args)
            for i, v in zip(floats, values):
                flat[i] = v
            return tf.nest.pack_sequence_as(args, flat)

        structure = {}

        def present(result):
            return [o for o in tf.nest.flatten(result) if o is not None]

        @tf.custom_gradient
        def run(*values):
            result = compiled(*with_floats([tf.stop_gradient(v) for v in values]))
            structure["result"] = result

            def grad(*upstream):
                with tf.GradientTape() as tape:
                    tape.watch(values)
                    again = present(fn(*with_floats(values)))
                return tape.gradient(again, list(values), output_gradients=list(upstream))

            return present(result), grad

        values = [tf.convert_to_tensor(flat_args[i]) for i in floats]
        outputs = iter(run(*values))
        result = structure["result"]
        flat = [None if o is None else next(outputs) for o in tf.nest.flatten(result)]
        return tf.nest.pack_sequence_as(result, flat)

    return call
