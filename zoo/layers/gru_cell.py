import keras
from keras import ops

from zoo.layers._utils import check_units
from zoo.layers._utils import project_sequence
from zoo.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="zoo")
class GRUCell(RecurrentCell):
    """Gated recurrent unit cell.

    With update gate `z`, reset gate `r` and candidate `n`:

        z = sigmoid(x W_z + h U_z + b_z),  r = sigmoid(x W_r + h U_r + b_r)
        n = tanh(x W_n + r * (h U_n + b'_n))     # reset_after=True (cuDNN)
        n = tanh(x W_n + (r * h) U_n + b_n)      # reset_after=False (paper)
        h_t = z * h_{t-1} + (1 - z) * n

    Weights are laid out as in `keras.layers.GRUCell` (gate order z, r, n;
    with `reset_after=True` the bias has shape `(2, 3 * units)`: input bias and
    recurrent bias), so they copy both ways.

    Args:
        units: dimensionality of the hidden state.
        activation: activation of the candidate. Default: `"tanh"`.
        recurrent_activation: activation of the gates. Default: `"sigmoid"`.
        use_bias: whether to add biases.
        reset_after: apply the reset gate after the recurrent matmul (the
            cuDNN convention, Keras's default) or before it (Cho et al.).
        **kwargs: initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout` and `seed` as in `zoo.layers.RecurrentCell`,
            and the base layer's arguments.

    Example:

    ```python
    y = zoo.layers.RNN(zoo.layers.GRUCell(32))(np.zeros((4, 10, 8), "float32"))
    ```

    Reference:
    - [Cho et al., 2014](https://arxiv.org/abs/1406.1078)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        reset_after=True,
        **kwargs,
    ):
        kwargs.pop("implementation", None)  # accepted for Keras compatibility
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.reset_after = reset_after

    @property
    def state_size(self):
        return [self.units]

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        units = self.units
        self.kernel = self.add_cell_weight("kernel", (input_shape[-1], 3 * units))
        self.recurrent_kernel = self.add_cell_weight("recurrent", (units, 3 * units))
        self.bias = None
        if self.use_bias:
            shape = (2, 3 * units) if self.reset_after else (3 * units,)
            self.bias = self.add_cell_weight("bias", shape)

    def _biases(self):
        if self.bias is None:
            return None, None
        if self.reset_after:
            return self.bias[0], self.bias[1]
        return self.bias, None

    def project_inputs(self, sequence, context):
        sequence = super().project_inputs(sequence, context)
        input_bias, _ = self._biases()
        return project_sequence(sequence, self.kernel, input_bias)

    def step(self, inputs, states, context):
        h_prev = states[0]
        h_in = h_prev
        if "recurrent_mask" in context:
            h_in = h_prev * context["recurrent_mask"]
        units = self.units
        x_z, x_r, x_n = ops.split(inputs, 3, axis=-1)
        if self.reset_after:
            inner = ops.matmul(h_in, self.recurrent_kernel)
            _, recurrent_bias = self._biases()
            if recurrent_bias is not None:
                inner = inner + recurrent_bias
            h_z, h_r, h_n = ops.split(inner, 3, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            n = self.activation(x_n + r * h_n)
        else:
            inner = ops.matmul(h_in, self.recurrent_kernel[:, : 2 * units])
            h_z, h_r = ops.split(inner, 2, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            n = self.activation(
                x_n + ops.matmul(r * h_in, self.recurrent_kernel[:, 2 * units :])
            )
        h = z * h_prev + (1.0 - z) * n
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "use_bias": self.use_bias,
                "reset_after": self.reset_after,
            }
        )
        return config
