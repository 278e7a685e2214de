"""Private: one gradient helper for the TensorFlow and JAX backends.

`zoo.layers` only use `keras.ops`; differentiating is the one thing Keras 3
leaves to each backend (`tf.GradientTape`, `jax.grad`). This module is the
only place in `zoo.training` and `zoo.diagnostics` that knows the backend.
"""

import keras

SUPPORTED_BACKENDS = ("tensorflow", "jax")


def check_backend(what):
    backend = keras.backend.backend()
    if backend not in SUPPORTED_BACKENDS:
        raise NotImplementedError(
            f"{what} supports the {' and '.join(SUPPORTED_BACKENDS)} backends. "
            f"Received: keras.backend.backend()={backend!r}"
        )
    return backend


def value_and_grad(fn, variables=(), state_variables=(), run_eagerly=True, what="This function"):
    """Wrap `fn(inputs, constants) -> (loss, aux)` into one that differentiates.

    Args:
        fn: a function of two lists of tensors, `inputs` (differentiated)
            and `constants` (not differentiated: integer token ids, targets,
            carried states), returning a scalar `loss` and any nested
            structure of tensors `aux`. It may read Keras variables
            and assign non-trainable ones.
        variables: Keras variables to differentiate with respect to.
        state_variables: non-trainable Keras variables that `fn` may assign
            (RNN states of stateful layers, dropout seeds, ...). `fn` runs in
            a `keras.StatelessScope`, so it changes no variable; their new
            values are returned instead.
        run_eagerly: `False` compiles the function (`tf.function` on
            TensorFlow, `jax.jit` on JAX). It then retraces for new shapes.
        what: the caller's name, for the error on other backends.

    Returns:
        A function `g(inputs, constants) -> (loss, aux, variable_grads,
        input_grads, new_state_values)`; gradients of unconnected tensors are
        zeros.
    """
    backend = check_backend(what)
    variables = list(variables)
    state_variables = list(state_variables)
    if backend == "tensorflow":
        return _tf_value_and_grad(fn, variables, state_variables, run_eagerly)
    return _jax_value_and_grad(fn, variables, state_variables, run_eagerly)


def _tf_value_and_grad(fn, variables, state_variables, run_eagerly):
    import tensorflow as tf

    def g(inputs, constants):
        inputs = [tf.convert_to_tensor(t) for t in inputs]
        constants = [tf.stop_gradient(tf.convert_to_tensor(t)) for t in constants]
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            # Reads of the variables inside the tape, so gradients reach them
            # (also through regularizers, which read the scope's values).
            mapping = [(v, tf.identity(v.value)) for v in variables]
            mapping += [(v, tf.identity(v.value)) for v in state_variables]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                loss, aux = fn(inputs, constants)
        grads = tape.gradient(
            loss,
            variables + inputs,
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        # Dense gradients (embeddings give IndexedSlices), to sum over chunks.
        grads = [tf.convert_to_tensor(g) for g in grads]
        new_states = []
        for variable in state_variables:
            value = scope.get_current_value(variable)
            new_states.append(variable.value if value is None else value)
        return loss, aux, grads[: len(variables)], grads[len(variables) :], new_states

    return g if run_eagerly else tf.function(g)


def _jax_value_and_grad(fn, variables, state_variables, run_eagerly):
    import jax

    def pure(variable_values, state_values, inputs, constants):
        mapping = list(zip(variables, variable_values))
        mapping += list(zip(state_variables, state_values))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            loss, aux = fn(inputs, [jax.lax.stop_gradient(t) for t in constants])
        new_states = [scope.get_current_value(v) for v in state_variables]
        return loss, (aux, new_states)

    vg = jax.value_and_grad(pure, argnums=(0, 2), has_aux=True)
    if not run_eagerly:
        vg = jax.jit(vg)

    def g(inputs, constants):
        (loss, (aux, new_states)), (variable_grads, input_grads) = vg(
            [v.value for v in variables],
            [v.value for v in state_variables],
            [jax.numpy.asarray(t) for t in inputs],
            [jax.numpy.asarray(t) for t in constants],
        )
        return loss, aux, list(variable_grads), list(input_grads), new_states

    return g


def forward(fn, variables=(), run_eagerly=True, what="This function"):
    """Wrap `fn(constants) -> outputs` to run without changing any variable.

    `fn` runs in a `keras.StatelessScope` (assignments are dropped). When
    compiled on JAX, the values of `variables` are arguments of the compiled
    function, so later updates of the variables are seen.

    Returns:
        A function `g(constants) -> outputs`.
    """
    backend = check_backend(what)
    variables = list(variables)
    if backend == "tensorflow":
        import tensorflow as tf

        def g(constants):
            with keras.StatelessScope():
                return fn([tf.convert_to_tensor(t) for t in constants])

        return g if run_eagerly else tf.function(g)

    import jax

    def pure(values, constants):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(constants)

    compiled = pure if run_eagerly else jax.jit(pure)

    def g(constants):
        return compiled(
            [v.value for v in variables], [jax.numpy.asarray(t) for t in constants]
        )

    return g
