import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class StackedRNN(keras.layers.Layer):
    """A deep RNN: recurrent layers stacked in time, with optional shortcuts.

    Layer `l` reads the output sequence of layer `l - 1`. Two kinds of
    shortcut help gradients through depth:

    - `residual=True`: `h_l = layer_l(h_{l-1}) + h_{l-1}` for every layer
      whose input and output widths match (Wu et al. 2016, from the second
      layer on);
    - `skip_connections=True`: every layer also reads the network's input,
      and the output is the concatenation of all layers' outputs
      (Graves 2013).

    Masks flow through every layer; with `return_sequences=False` the output
    is the last unmasked step of the final sequence.

    Args:
        layers: recurrent layers with `return_sequences=True` and no
            `return_state` (zoo layers, or `keras.layers.Bidirectional` around
            them).
        residual: add residual connections where widths match.
        skip_connections: input-to-every-layer and every-layer-to-output
            connections.
        return_sequences: return the whole output sequence.
        **kwargs: passed on to `keras.layers.Layer`.

    Example:

    ```python
    deep = zoo.layers.StackedRNN(
        [zoo.layers.LSTM(64, return_sequences=True) for _ in range(3)],
        residual=True,
    )
    y = deep(np.zeros((2, 10, 64), "float32"))  # (2, 64)
    ```

    Reference:
    - [Graves, 2013](https://arxiv.org/abs/1308.0850)
    - [Wu et al., 2016](https://arxiv.org/abs/1609.08144)
    """

    def __init__(
        self,
        layers,
        residual=False,
        skip_connections=False,
        return_sequences=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        layers = list(layers)
        if not layers:
            raise ValueError("`layers` must hold at least one layer. Received: layers=[]")
        for i, layer in enumerate(layers):
            if not getattr(layer, "return_sequences", False) or getattr(
                layer, "return_state", False
            ):
                raise ValueError(
                    "Every layer of a StackedRNN must have return_sequences=True "
                    f"and return_state=False. Received: layers[{i}]={layer.name} "
                    f"with return_sequences={getattr(layer, 'return_sequences', None)}, "
                    f"return_state={getattr(layer, 'return_state', None)}"
                )
        self.layers = layers
        self.residual = residual
        self.skip_connections = skip_connections
        self.return_sequences = return_sequences
        self.supports_masking = True

    def _plan(self, input_shape):
        """Input shape of each layer and whether each gets a residual."""
        shapes, residual_flags = [], []
        shape = tuple(input_shape)
        for i, layer in enumerate(self.layers):
            layer_in = shape
            if self.skip_connections and i > 0:
                layer_in = shape[:-1] + (shape[-1] + input_shape[-1],)
            out = tuple(layer.compute_output_shape(layer_in))
            shapes.append(layer_in)
            residual_flags.append(self.residual and i > 0 and out[-1] == shape[-1])
            shape = out
        return shapes, residual_flags

    def build(self, input_shape):
        shapes, self._residual_flags = self._plan(input_shape)
        for layer, shape in zip(self.layers, shapes):
            if not layer.built:
                layer.build(shape)

    def call(self, inputs, mask=None, training=False):
        h, outputs = inputs, []
        for i, layer in enumerate(self.layers):
            layer_in = h
            if self.skip_connections and i > 0:
                layer_in = ops.concatenate([h, inputs], axis=-1)
            out = layer(layer_in, mask=mask, training=training)
            h = out + h if self._residual_flags[i] else out
            outputs.append(h)
        if self.skip_connections:
            h = ops.concatenate(outputs, axis=-1)
        if self.return_sequences:
            return h
        return _last_step(h, mask)

    def compute_output_shape(self, input_shape):
        shapes, _ = self._plan(input_shape)
        last = tuple(self.layers[-1].compute_output_shape(shapes[-1]))
        if self.skip_connections:
            width = 0
            for layer, shape in zip(self.layers, shapes):
                width += layer.compute_output_shape(shape)[-1]
            last = last[:-1] + (width,)
        return last if self.return_sequences else (last[0],) + last[2:]

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layers": [keras.saving.serialize_keras_object(l) for l in self.layers],
                "residual": self.residual,
                "skip_connections": self.skip_connections,
                "return_sequences": self.return_sequences,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layers"] = [
            keras.saving.deserialize_keras_object(l, custom_objects=custom_objects)
            for l in config["layers"]
        ]
        return cls(**config)


def _last_step(sequences, mask):
    if mask is None:
        return sequences[:, -1]
    steps = ops.shape(sequences)[1]
    mask = ops.cast(mask, "int32")
    last = steps - 1 - ops.argmax(ops.flip(mask, axis=1), axis=1)
    index = ops.reshape(last, (-1, 1) + (1,) * (len(sequences.shape) - 2))
    return ops.squeeze(ops.take_along_axis(sequences, index, axis=1), axis=1)
