"""How far back in time does the loss reach? The norm of dLoss/dh_t."""

import numpy as np
from keras import ops

from zoo.training import _chain
from zoo.training import _grad
from zoo.layers.rnn import RNN


def gradient_flow(model, x, y, loss=None, layer=None, training=False):
    """The norm of the loss gradient with respect to each hidden state `h_t`.

    Backpropagation through time carries the gradient from the loss back to
    every earlier hidden state through one Jacobian `dh_t / dh_{t-1}` per
    step. In a vanilla RNN with small recurrent weights (or saturated `tanh`)
    the product of these Jacobians shrinks geometrically, so
    `||dL/dh_t||` decays toward early steps and early inputs barely affect
    learning: the vanishing gradient problem (Bengio et al. 1994). The
    LSTM's additive cell-state path ("highway") with forget gates near 1
    lets the gradient cross many steps (Hochreiter & Schmidhuber 1997).

    `dL/dh_t` here is the total derivative through the recurrence: the
    gradient with respect to a zero offset added to `h_t` (the step's output
    and first state) before it feeds step `t + 1` and the layers above
    (`zoo.layers.RNN`'s `hidden_offsets`). For a many-to-one model only
    `h_T` reaches the loss directly.

    The model must be chain-like: a `keras.Sequential`, or a functional model
    where each layer feeds the next, with a zoo recurrent layer
    (`zoo.layers.SimpleRNN`, `LSTM`, `GRU`, `RNN`, `ConvLSTM2D`) at the top
    level. The model's variables are not changed (stateful layers keep
    their states). Works on the TensorFlow and JAX backends.

    Args:
        model: a chain-like Keras model.
        x: inputs, `(batch, time, ...)`.
        y: targets, as the model's loss expects them.
        loss: a Keras loss (name, function or `keras.losses.Loss`); `None`
            uses the loss the model was compiled with. It is averaged over
            the batch, as in training.
        layer: the recurrent layer to probe: a layer of the model, its name,
            or its index in the chain; `None` picks the first zoo recurrent
            layer.
        training: the `training` flag passed to the layers (dropout).

    Returns:
        A NumPy array of shape `(time,)`: for each step `t` (in input order,
        also for `go_backwards` layers) the mean over the batch of
        `||dL/dh_t||` (the L2 norm over the state's features).

    Example:

    ```python
    model = keras.Sequential([
        keras.Input((100, 2)), zoo.layers.SimpleRNN(64), keras.layers.Dense(1)
    ])
    norms = zoo.diagnostics.gradient_flow(model, x, y, loss="mse")
    print(norms[0] / norms[-1])  # tiny: the gradient vanishes
    ```

    Reference:
    - [Bengio et al., 1994](https://doi.org/10.1109/72.279181)
    - [Pascanu et al., 2013](https://arxiv.org/abs/1211.5063)
    - [Hochreiter & Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
    """
    what = "gradient_flow"
    _grad.check_backend(what)
    layers = _chain.chain_layers(model, what)
    index = _pick_layer(model, layers, layer, what)
    loss_fn = _chain.resolve_loss(model, loss, what)
    x = ops.convert_to_tensor(x)
    y = ops.convert_to_tensor(y)
    if len(x.shape) < 2:
        raise ValueError(
            f"{what} expects `x` of shape (batch, time, ...). "
            f"Received: x.shape={tuple(x.shape)}"
        )
    if not model.built:
        model(x[:1])
    rnn = layers[index]
    state_variables = model.non_trainable_variables

    def fn(inputs, constants):
        (offsets,) = inputs
        x_in, y_true = constants
        h, mask = _chain.run_layers(layers[:index], x_in, training=training)
        out, mask = _chain.call_layer(rnn, h, mask, training, hidden_offsets=offsets)
        if rnn.return_state:
            out = out[0]
        y_pred, _ = _chain.run_layers(layers[index + 1 :], out, mask, training)
        return _chain.mean_loss(loss_fn, y_true, y_pred), []

    # The shape of h_t: run the layers below the recurrent one once.
    sequences, _ = _chain.run_layers(layers[:index], x, training=training)
    step_shape = _step_shape(rnn, sequences.shape)
    offsets = ops.zeros((x.shape[0], x.shape[1]) + step_shape, dtype=rnn.compute_dtype)
    vg = _grad.value_and_grad(fn, (), state_variables, run_eagerly=False, what=what)
    _, _, _, (grad,), _ = vg([offsets], [x, y])
    grad = np.asarray(ops.convert_to_numpy(grad), dtype="float64")
    norms = np.sqrt(np.sum(grad.reshape(grad.shape[0], grad.shape[1], -1) ** 2, axis=-1))
    return norms.mean(axis=0)


def _step_shape(rnn, sequences_shape):
    shape = rnn.compute_output_shape(tuple(sequences_shape))
    if rnn.return_state:
        shape = shape[0]
    shape = tuple(shape)
    return shape[2:] if rnn.return_sequences else shape[1:]


def _pick_layer(model, layers, layer, what):
    indices = _chain.recurrent_indices(layers)
    if not indices:
        raise _chain.no_recurrent_layer_error(model, layers, what)
    if layer is None:
        return indices[0]
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if not 0 <= layer < len(layers) or layer not in indices:
            raise ValueError(
                f"`layer` must be the index of a zoo recurrent layer in the "
                f"model's chain of layers, one of {indices}. Received: layer={layer}"
            )
        return int(layer)
    if isinstance(layer, str):
        matches = [i for i in indices if layers[i].name == layer]
        if not matches:
            raise ValueError(
                "`layer` must name a zoo recurrent layer of the model, one of "
                f"{[layers[i].name for i in indices]}. Received: layer={layer!r}"
            )
        return matches[0]
    if isinstance(layer, RNN):
        for i in indices:
            if layers[i] is layer:
                return i
    raise ValueError(
        "`layer` must be a zoo recurrent layer of the model, its name or its "
        f"index, or None. Received: layer={layer!r}"
    )
