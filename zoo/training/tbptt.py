"""Truncated backpropagation through time (TBPTT).

A long sequence is cut into chunks of `k` steps. The network runs over the
chunks in order, the final states of one chunk becoming the initial states
of the next, but gradients stop at the chunk borders: each chunk is
backpropagated on its own, through at most `k` steps. Memory then grows with
`k`, not with the sequence length, at the price of a biased gradient that
cannot see dependencies longer than `k` steps (Williams & Peng 1990;
Sutskever 2013, section 2.8.6).
"""

import collections
import math

import keras
import numpy as np
from keras import ops

from zoo.training import _chain
from zoo.training import _grad
from zoo.training.clipping import make_optimizer

TruncatedBPTTResult = collections.namedtuple(
    "TruncatedBPTTResult", ["loss", "gradients", "states"]
)
TruncatedBPTTResult.__doc__ = """What `truncated_bptt_gradients` returns.

Attributes:
    loss: the total loss (a scalar tensor), as defined in
        `truncated_bptt_gradients`.
    gradients: one gradient per `model.trainable_variables`, in order,
        summed over the chunks.
    states: the final states carried out of the last chunk: one list of
        state tensors per zoo recurrent layer of the model, in order (for an
        LSTM `[h, c]`).
"""


class _Plan:
    """How to run a chain-like model chunk by chunk, carrying states."""

    def __init__(self, model, what):
        self.model = model
        self.layers = _chain.chain_layers(model, what)
        self.rnn_indices = _chain.recurrent_indices(self.layers)
        if not self.rnn_indices:
            raise _chain.no_recurrent_layer_error(model, self.layers, what)
        rnns = [self.layers[i] for i in self.rnn_indices]
        for layer in rnns:
            if layer.go_backwards:
                raise ValueError(
                    f"{what} runs the sequence forward, chunk after chunk; a "
                    "layer that reads it backwards cannot carry its state. "
                    f"Received: layer `{layer.name}` with go_backwards=True"
                )
            if layer.return_state:
                raise ValueError(
                    f"{what} needs recurrent layers with return_state=False "
                    "inside the model (it reads the states itself). Received: "
                    f"layer `{layer.name}` with return_state=True"
                )
        for layer in rnns[:-1]:
            if not layer.return_sequences:
                raise ValueError(
                    f"{what}: every recurrent layer but the last must have "
                    "return_sequences=True (each chunk's sequence feeds the "
                    f"next layer). Received: layer `{layer.name}` with "
                    "return_sequences=False"
                )
        # Per-step targets when the last recurrent layer returns sequences;
        # otherwise one target per sequence, read after the last chunk.
        self.per_step = rnns[-1].return_sequences

    def initial_states(self, x_chunk):
        self.ensure_built(x_chunk)
        batch_size = x_chunk.shape[0]
        states = []
        for i in self.rnn_indices:
            layer = self.layers[i]
            if layer.stateful:
                states.append([ops.convert_to_tensor(s) for s in layer.states])
            else:
                states.append(list(layer.get_initial_state(batch_size)))
        return states

    def ensure_built(self, x_chunk):
        if not self.model.built:
            self.model(x_chunk[:1])

    def step_mask(self, x):
        """The per-step mask of the whole sequence `x` (or None), as numpy."""
        first = self.rnn_indices[0]
        with keras.StatelessScope():
            _, mask = _chain.run_layers(self.layers[:first], x)
        return None if mask is None else np.asarray(ops.convert_to_numpy(mask), bool)

    def run(self, x, states, training, return_mask=False):
        """Forward one chunk: `(y_pred, new_states)` (and the output mask)."""
        mask = None
        new_states = []
        rnn_position = {index: n for n, index in enumerate(self.rnn_indices)}
        for i, layer in enumerate(self.layers):
            if i in rnn_position:
                with _chain.returning_state(layer):
                    out, mask = _chain.call_layer(
                        layer,
                        x,
                        mask,
                        training,
                        initial_state=list(states[rnn_position[i]]),
                    )
                x = out[0]
                new_states.append(list(out[1:]))
            else:
                x, mask = _chain.call_layer(layer, x, mask, training)
        if return_mask:
            return x, new_states, mask
        return x, new_states


def _check_inputs(x, y, k, plan, what):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ValueError(f"`k` must be a positive integer. Received: k={k!r}")
    if len(x.shape) < 2:
        raise ValueError(
            f"{what} expects `x` of shape (batch, time, ...). "
            f"Received: x.shape={tuple(x.shape)}"
        )
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            "`x` and `y` must have the same batch size. Received: "
            f"x.shape={tuple(x.shape)}, y.shape={tuple(y.shape)}"
        )
    if plan.per_step and (len(y.shape) < 2 or y.shape[1] != x.shape[1]):
        raise ValueError(
            f"The model's last recurrent layer returns sequences, so {what} "
            "expects one target per step, `y` of shape (batch, time, ...) "
            "with the time of `x`. Received: "
            f"x.shape={tuple(x.shape)}, y.shape={tuple(y.shape)}"
        )


def _chunks(steps, k):
    return [(start, min(start + k, steps)) for start in range(0, steps, k)]


def _flatten_states(states):
    return [s for layer_states in states for s in layer_states]


def _unflatten_states(flat, like):
    out, i = [], 0
    for layer_states in like:
        out.append(list(flat[i : i + len(layer_states)]))
        i += len(layer_states)
    return out


def _chunk_grad_fn(plan, loss_fn, training, run_eagerly, what):
    """`g(x, y, weight, flat_states) -> (loss, grads, flat_new_states, updates)`."""
    model = plan.model
    variables = model.trainable_variables
    state_variables = model.non_trainable_variables
    like = [None]

    def fn(inputs, constants):
        x, y, weight, *flat_states = constants
        states = _unflatten_states(flat_states, like[0])
        y_pred, new_states, mask = plan.run(x, states, training, return_mask=True)
        if plan.per_step and mask is not None:
            # Masked steps do not count (as in `Model.fit`); `weight` turns
            # the sum over valid steps / (batch * steps) into the mean over
            # the valid steps of the whole sequence.
            loss = _chain.masked_loss(loss_fn, y, y_pred, mask)
        else:
            loss = _chain.mean_loss(loss_fn, y, y_pred)
        regularization = model.losses  # weight regularizers, activity losses
        if regularization:
            loss = loss + ops.sum(ops.stack([ops.sum(r) for r in regularization]))
        return loss * weight, [ops.stop_gradient(s) for s in _flatten_states(new_states)]

    vg = _grad.value_and_grad(
        fn, variables, state_variables, run_eagerly=run_eagerly, what=what
    )

    def g(x, y, weight, states):
        like[0] = states
        loss, flat_new, grads, _, updates = vg(
            [], [x, y, ops.convert_to_tensor(weight, "float32")] + _flatten_states(states)
        )
        return loss, grads, _unflatten_states(flat_new, states), updates

    return g, state_variables


def _forward_fn(plan, training, run_eagerly, what):
    """`f(x, states) -> new_states`: a chunk's forward pass, no gradient."""
    like = [None]

    def fn(constants):
        x, *flat_states = constants
        _, new_states = plan.run(x, _unflatten_states(flat_states, like[0]), training)
        return [ops.stop_gradient(s) for s in _flatten_states(new_states)]

    g = _grad.forward(fn, plan.model.variables, run_eagerly=run_eagerly, what=what)

    def f(x, states):
        like[0] = states
        return _unflatten_states(g([x] + _flatten_states(states)), states)

    return f


def truncated_bptt_gradients(
    model, x, y, k, loss=None, initial_states=None, training=True, run_eagerly=False
):
    """Gradients of a sequence loss by truncated backpropagation through time.

    The sequence `x` is cut into chunks of `k` steps (the last one may be
    shorter). The model runs over them in order, each chunk starting from
    the states the previous one ended with; each chunk is differentiated on
    its own, so gradients stop at the chunk borders, and the chunks'
    gradients are summed. The states carried across borders are the exact
    forward states: the last chunk ends in the state a full-sequence forward
    pass would reach.

    Two kinds of model are supported:

    - many-to-many (the last recurrent layer has `return_sequences=True`):
      `y` holds one target per step, `(batch, time, ...)`. The loss is the
      mean over all steps: each chunk's mean loss is weighted by its share of
      the steps, so with `k >= time` the result is exactly the full-sequence
      loss and its full BPTT gradient (the model's regularization losses
      are added to each chunk's mean loss, so they too count once). Steps
      masked by the model (`Embedding(mask_zero=True)`, `Masking`) do not
      count, as in `Model.fit`: the loss is the mean over the valid steps;
    - many-to-one (`return_sequences=False`): `y` holds one target per
      sequence; the loss is computed after the last chunk, and earlier
      chunks only carry the state forward (no gradient reaches them).

    The model must be chain-like (a `keras.Sequential`, or a functional model
    where each layer feeds the next) with one or more zoo recurrent layers
    (`zoo.layers.LSTM`, `GRU`, `SimpleRNN`, `RNN`, `ConvLSTM2D`) at the top
    level; the layers other than the recurrent ones must act on each step
    independently (`Dense`, `Embedding`, `Dropout`, ...). The model's
    variables are not changed.

    Works on the TensorFlow and JAX backends.

    Args:
        model: a chain-like Keras model with zoo recurrent layers.
        x: inputs, `(batch, time, ...)`.
        y: targets, `(batch, time, ...)` or `(batch, ...)` (see above).
        k: the truncation length, a positive number of steps.
        loss: a Keras loss (name, function or `keras.losses.Loss`); `None`
            uses the loss the model was compiled with.
        initial_states: the states the first chunk starts from, one list per
            zoo recurrent layer (as in the returned `states`); `None` starts
            from zeros (or, for a stateful layer, from its stored states).
        training: the `training` flag passed to the layers (dropout).
        run_eagerly: `False` compiles the per-chunk computation
            (`tf.function` on TensorFlow, `jax.jit` on JAX), traced once per
            chunk length; `True` runs it eagerly.

    Returns:
        A `TruncatedBPTTResult(loss, gradients, states)`.

    Example:

    ```python
    model = keras.Sequential([
        keras.Input((100, 4)),
        zoo.layers.LSTM(32, return_sequences=True),
        keras.layers.Dense(1),
    ])
    result = zoo.training.truncated_bptt_gradients(model, x, y, k=20, loss="mse")
    h, c = result.states[0]
    ```

    Reference:
    - [Williams & Peng, 1990](https://doi.org/10.1162/neco.1990.2.4.490)
    - [Sutskever, 2013](https://www.cs.utoronto.ca/~ilya/pubs/ilya_sutskever_phd_thesis.pdf)
    """
    what = "truncated_bptt_gradients"
    plan = _Plan(model, what)
    x = ops.convert_to_tensor(x)
    y = ops.convert_to_tensor(y)
    _check_inputs(x, y, k, plan, what)
    loss_fn = _chain.resolve_loss(model, loss, what)
    steps = x.shape[1]
    chunks = _chunks(steps, k)
    states = _initial(plan, x[:, : chunks[0][1]], initial_states, what)
    grad_fn, _ = _chunk_grad_fn(plan, loss_fn, training, run_eagerly, what)
    forward = _forward_fn(plan, training, run_eagerly, what)
    mask = plan.step_mask(x) if plan.per_step else None
    total_loss, total_grads = None, None
    for n, (start, stop) in enumerate(chunks):
        x_chunk = x[:, start:stop]
        if plan.per_step:
            y_chunk, weight = y[:, start:stop], (stop - start) / steps
            if mask is not None:
                weight = mask.shape[0] * (stop - start) / max(mask.sum(), 1)
        elif n == len(chunks) - 1:
            y_chunk, weight = y, 1.0
        else:
            states = forward(x_chunk, states)
            continue
        chunk_loss, grads, states, _ = grad_fn(x_chunk, y_chunk, weight, states)
        if total_grads is None:
            total_loss, total_grads = chunk_loss, list(grads)
        else:
            total_loss = total_loss + chunk_loss
            total_grads = [a + b for a, b in zip(total_grads, grads)]
    return TruncatedBPTTResult(total_loss, total_grads, states)


def _initial(plan, x_chunk, initial_states, what):
    defaults = plan.initial_states(x_chunk)
    if initial_states is None:
        return defaults
    initial_states = list(initial_states)
    if len(initial_states) != len(defaults) or any(
        len(given) != len(default) for given, default in zip(initial_states, defaults)
    ):
        raise ValueError(
            f"{what}: `initial_states` must hold one list of states per zoo "
            f"recurrent layer, with {[len(d) for d in defaults]} state(s). "
            f"Received: initial_states with "
            f"{[len(s) for s in initial_states]} state(s)"
        )
    return [
        [ops.cast(ops.convert_to_tensor(s), d.dtype) for s, d in zip(given, default)]
        for given, default in zip(initial_states, defaults)
    ]


def fit_truncated_bptt(
    model,
    x,
    y,
    k,
    loss=None,
    optimizer=None,
    epochs=1,
    batch_size=32,
    shuffle=True,
    seed=None,
    verbose="auto",
    run_eagerly=False,
):
    """Train a recurrent model with truncated BPTT, one update per chunk.

    Each batch of sequences is cut into chunks of `k` steps and the model
    runs over them in order, carrying its states across chunk borders (and
    starting every batch from zero states). Each chunk is differentiated on
    its own (gradients stop at its borders) and the optimizer takes one step
    per chunk (Williams & Peng 1990). For many-to-one models (the last
    recurrent layer has `return_sequences=False`), only the last chunk has a
    loss and causes an update; earlier chunks carry the state forward.

    The default optimizer is `zoo.training.make_optimizer()`: Adam with
    global-norm gradient clipping at 1.0, the usual guard against the
    exploding gradients of recurrent networks.

    Works on the TensorFlow and JAX backends.

    Args:
        model: a chain-like Keras model with zoo recurrent layers (see
            `truncated_bptt_gradients`).
        x: inputs, a NumPy array `(samples, time, ...)`.
        y: targets, `(samples, time, ...)` for many-to-many models, or
            `(samples, ...)` for many-to-one models.
        k: the truncation length, a positive number of steps.
        loss: a Keras loss; `None` uses the loss the model was compiled with.
        optimizer: a `keras.optimizers.Optimizer`; `None` uses the compiled
            model's optimizer if any, else `make_optimizer()`.
        epochs: passes over the data.
        batch_size: sequences per batch.
        shuffle: shuffle the sequences before each epoch.
        seed: seed of the shuffling.
        verbose: `0` silent, `1` (or `"auto"`) a progress bar per epoch.
        run_eagerly: `False` compiles the per-chunk step (`tf.function` on
            TensorFlow, `jax.jit` on JAX).

    Returns:
        A dict `{"loss": [mean loss of each epoch]}` (the mean of the
        per-chunk losses, each chunk's loss being the mean over its steps).

    Example:

    ```python
    history = zoo.training.fit_truncated_bptt(
        model, x, y, k=25, loss="sparse_categorical_crossentropy", epochs=3
    )
    ```

    Reference:
    - [Williams & Peng, 1990](https://doi.org/10.1162/neco.1990.2.4.490)
    """
    what = "fit_truncated_bptt"
    plan = _Plan(model, what)
    x = np.asarray(x)
    y = np.asarray(y)
    _check_inputs(x, y, k, plan, what)
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"`epochs` must be a non-negative integer. Received: epochs={epochs!r}")
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"
        )
    loss_fn = _chain.resolve_loss(model, loss, what)
    if optimizer is None:
        optimizer = getattr(model, "optimizer", None) or make_optimizer()
    plan.ensure_built(ops.convert_to_tensor(x[:1, :k]))
    grad_fn, state_variables = _chunk_grad_fn(plan, loss_fn, True, run_eagerly, what)
    forward = _forward_fn(plan, True, run_eagerly, what)
    variables = model.trainable_variables
    steps = x.shape[1]
    chunks = _chunks(steps, k)
    rng = np.random.default_rng(seed)
    num_batches = math.ceil(len(x) / batch_size)
    history = {"loss": []}
    for epoch in range(epochs):
        order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
        if verbose:
            print(f"Epoch {epoch + 1}/{epochs}")
            progbar = keras.utils.Progbar(num_batches, stateful_metrics=["loss"])
        losses = []
        for b in range(num_batches):
            index = order[b * batch_size : (b + 1) * batch_size]
            xb = ops.convert_to_tensor(x[index])
            yb = ops.convert_to_tensor(y[index])
            states = plan.initial_states(xb[:, : chunks[0][1]])
            mask = plan.step_mask(xb) if plan.per_step else None
            for n, (start, stop) in enumerate(chunks):
                x_chunk = xb[:, start:stop]
                weight = 1.0
                if plan.per_step:
                    y_chunk = yb[:, start:stop]
                    if mask is not None:  # the mean over the chunk's valid steps
                        valid = mask[:, start:stop].sum()
                        weight = mask.shape[0] * (stop - start) / max(valid, 1)
                elif n == len(chunks) - 1:
                    y_chunk = yb
                else:
                    states = forward(x_chunk, states)
                    continue
                chunk_loss, grads, states, updates = grad_fn(x_chunk, y_chunk, weight, states)
                for variable, value in zip(state_variables, updates):
                    variable.assign(value)
                optimizer.apply(grads, variables)
                losses.append(float(chunk_loss))
            if verbose:
                progbar.update(b + 1, [("loss", float(np.mean(losses)))])
        history["loss"].append(float(np.mean(losses)) if losses else float("nan"))
    return history
