import keras
from keras import ops

from zoo.layers._utils import check_units
from zoo.layers._utils import project_sequence
from zoo.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="zoo")
class SimpleRNNCell(RecurrentCell):
    """Elman recurrent cell: `h_t = tanh(x_t W_xh + h_{t-1} W_hh + b)`.

    Weights are laid out as in `keras.layers.SimpleRNNCell` (`kernel`,
    `recurrent_kernel`, `bias`), so they copy both ways with `set_weights`.
    The input projection of a whole sequence is one matmul outside the loop.

    Args:
        units: dimensionality of the hidden state.
        activation: activation of the state update. Default: `"tanh"`.
        use_bias: whether to add a bias.
        **kwargs: initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout` and `seed` as in `zoo.layers.RecurrentCell`,
            and the base layer's arguments.

    Example:

    ```python
    layer = zoo.layers.RNN(zoo.layers.SimpleRNNCell(32))
    y = layer(np.zeros((4, 10, 8), "float32"))  # (4, 32)
    ```

    Reference:
    - [Elman, 1990](https://doi.org/10.1207/s15516709cog1402_1)
    """

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    @property
    def state_size(self):
        return [self.units]

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        self.kernel = self.add_cell_weight("kernel", (input_shape[-1], self.units))
        self.recurrent_kernel = self.add_cell_weight(
            "recurrent", (self.units, self.units)
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_cell_weight("bias", (self.units,))

    def project_inputs(self, sequence, context):
        sequence = super().project_inputs(sequence, context)
        return project_sequence(sequence, self.kernel, self.bias)

    def step(self, inputs, states, context):
        h = states[0]
        if "recurrent_mask" in context:
            h = h * context["recurrent_mask"]
        h = self.activation(inputs + ops.matmul(h, self.recurrent_kernel))
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
            }
        )
        return config
