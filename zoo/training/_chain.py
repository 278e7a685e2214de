"""Private: run a chain-like Keras model layer by layer.

Truncated BPTT and `zoo.diagnostics.gradient_flow` must pass extra arguments
to the model's recurrent layer (`initial_state`, `hidden_offsets`) and read
its final states. They do so on models that are a linear stack of layers
(`keras.Sequential`, or a functional model where each layer feeds the next),
run here one layer at a time with the masks propagated explicitly.
"""

import contextlib
import inspect

import keras

from zoo.layers.rnn import RNN


def _describe(model):
    return f"{model.__class__.__name__} `{getattr(model, 'name', model)}`"


def chain_layers(model, what):
    """The layers of a chain-like model, in order (nested chains flattened)."""
    if not isinstance(model, keras.Model):
        if isinstance(model, keras.layers.Layer):
            return [model]
        raise TypeError(
            f"{what} expects a Keras model (a `keras.Sequential` or a chain-like "
            f"functional model). Received: model={model!r}"
        )
    if isinstance(model, keras.Sequential):
        layers = list(model.layers)
    elif hasattr(model, "_nodes_by_depth") and hasattr(model, "outputs"):
        layers = _functional_chain(model, what)
    else:
        raise ValueError(
            f"{what} needs a chain-like model (`keras.Sequential` or a "
            "functional model where each layer feeds the next), to run it "
            f"layer by layer. Received: model={_describe(model)}, a subclassed "
            "model"
        )
    flat = []
    for layer in layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model) and (
            isinstance(layer, keras.Sequential) or hasattr(layer, "_nodes_by_depth")
        ):
            flat.extend(chain_layers(layer, what))
        else:
            flat.append(layer)
    return flat


def _functional_chain(model, what):
    def not_a_chain(reason):
        return ValueError(
            f"{what} needs a chain-like model (each layer feeding the next), "
            f"to run it layer by layer; {reason}. Received: "
            f"model={_describe(model)}"
        )

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise not_a_chain(
            f"it has {len(model.inputs)} input(s) and {len(model.outputs)} output(s)"
        )
    layers = []
    tensor = model.outputs[0]
    source = model.inputs[0]
    while tensor is not source:
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if node.is_input:
            break
        if len(node.input_tensors) != 1 or len(node.outputs) != 1:
            raise not_a_chain(
                f"layer `{operation.name}` has {len(node.input_tensors)} tensor "
                f"input(s) and {len(node.outputs)} output(s)"
            )
        if not isinstance(operation, keras.layers.Layer):
            raise not_a_chain(f"`{operation.name}` is an op, not a layer")
        layers.append(operation)
        tensor = node.input_tensors[0]
    layers.reverse()
    others = [
        op
        for op in model.operations
        if not isinstance(op, keras.layers.InputLayer) and op not in layers
    ]
    if others or len(layers) != len(
        [op for op in model.operations if not isinstance(op, keras.layers.InputLayer)]
    ):
        raise not_a_chain("some layers are off the input-to-output path or shared")
    return layers


def recurrent_indices(layers):
    """Indices of the zoo recurrent layers (`zoo.layers.RNN` subclasses)."""
    return [i for i, layer in enumerate(layers) if isinstance(layer, RNN)]


def no_recurrent_layer_error(model, layers, what):
    names = [f"{l.name} ({l.__class__.__name__})" for l in layers]
    return ValueError(
        f"{what} needs a model with a zoo recurrent layer (a `zoo.layers.RNN`, "
        "`LSTM`, `GRU`, `SimpleRNN` or `ConvLSTM2D`) among its top-level "
        "layers (wrappers such as `Bidirectional` and `StackedRNN` are not "
        f"looked into). Received: model={_describe(model)} with layers {names}"
    )


def _accepts(layer, argument):
    try:
        return argument in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def call_layer(layer, x, mask, training, **kwargs):
    """Call one layer, returning `(output, mask)`; extra kwargs go to `call`."""
    if mask is not None and _accepts(layer, "mask"):
        kwargs["mask"] = mask
    if _accepts(layer, "training"):
        kwargs["training"] = training
    output = layer(x, **kwargs)
    new_mask = layer.compute_mask(x, mask)
    if isinstance(new_mask, (list, tuple)):
        new_mask = new_mask[0]
    return output, new_mask


@contextlib.contextmanager
def returning_state(layer):
    """Temporarily make a zoo RNN layer return its final states."""
    previous = layer.return_state
    layer.return_state = True
    try:
        yield
    finally:
        layer.return_state = previous


def run_layers(layers, x, mask=None, training=False):
    for layer in layers:
        x, mask = call_layer(layer, x, mask, training)
    return x, mask


def resolve_loss(model, loss, what):
    """`loss` as a callable, or the compiled model's loss."""
    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError(
                f"{what} needs a loss: pass `loss=` (e.g. 'mse') or compile the "
                f"model with one. Received: loss=None for an uncompiled "
                f"model={_describe(model)}"
            )
    if isinstance(loss, (list, tuple, dict)):
        raise ValueError(
            f"{what} supports single-output models with one loss. "
            f"Received: loss={loss!r}"
        )
    fn = keras.losses.get(loss)
    if fn is None or not callable(fn):
        raise ValueError(f"Unknown or invalid loss. Received: loss={loss!r}")
    return fn


def mean_loss(loss_fn, y_true, y_pred):
    from keras import ops

    value = loss_fn(y_true, y_pred)
    return ops.mean(value) if len(value.shape) else value


def masked_loss(loss_fn, y_true, y_pred, mask):
    """Sum of the loss over the unmasked steps / (batch * steps)."""
    from keras import ops

    y_pred = ops.multiply(y_pred, 1)  # a fresh tensor: no Keras mask attached
    weights = ops.cast(mask, y_pred.dtype)
    if isinstance(loss_fn, keras.losses.Loss):
        return loss_fn(y_true, y_pred, sample_weight=weights)
    values = loss_fn(y_true, y_pred)
    return ops.mean(values * ops.reshape(weights, ops.shape(values)))
