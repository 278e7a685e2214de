"""An LSTM trading policy cell that sees its own previous position."""

import keras
from keras import ops

from zoo.layers import check_units
from zoo.layers import project_sequence
from zoo.layers.lstm_cell import LSTMCell
from zoo.layers.recurrent_cell import RecurrentCell
from zoo.saving import former_names


@former_names("zoo>LSTMPolicyCell")  # its name until 2026-12
@keras.saving.register_keras_serializable(package="trading")
class LSTMPolicyCell(RecurrentCell):
    """A `zoo.layers.LSTMCell` whose input includes the previous position.

    `h_t, c_t = LSTM([x_t, F_{t-1}], h_{t-1}, c_{t-1})`,
    `F_t = tanh(h_t . w + b)`: the LSTM counterpart of `RRLCell`, trained on
    the same objective by backpropagation through time. States are
    `[F, h, c]` (the output, the position, comes first, as `zoo.layers.RNN`
    requires).

    Args:
        units: the LSTM's hidden size.
        **kwargs: the base layer's arguments (`dropout`, `seed`, ... as in
            `zoo.layers.RecurrentCell`).

    Example:

    ```python
    cell = LSTMPolicyCell(8)
    positions = zoo.layers.RNN(cell, return_sequences=True)(np.zeros((1, 30, 8), "float32"))  # (1, 30, 1)
    ```

    Reference:
    - [Hochreiter & Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
    - [Moody & Saffell, 2001](https://doi.org/10.1109/72.935097)
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.lstm = LSTMCell(self.units, name="lstm")

    @property
    def state_size(self):
        return [1, self.units, self.units]

    @property
    def output_size(self):
        return 1

    def build(self, input_shape):
        features = input_shape[-1]
        self.lstm.build((None, features + 1))  # the inputs and the previous position
        self.output_kernel = self.add_weight(
            shape=(self.units, 1), name="output_kernel", initializer=keras.initializers.RandomNormal(stddev=0.1)
        )
        self.output_bias = self.add_weight(shape=(1,), name="output_bias", initializer="zeros")

    def project_inputs(self, sequence, context):
        sequence = super().project_inputs(sequence, context)
        features = sequence.shape[-1]
        return project_sequence(sequence, self.lstm.kernel[:features], self.lstm.bias)

    def step(self, inputs, states, context):
        previous, h, c = states
        z = inputs + previous * self.lstm.kernel[-1:]  # the previous position's input weights
        h, (h, c) = self.lstm.step(z, [h, c], {})
        position = ops.tanh(ops.matmul(h, self.output_kernel) + self.output_bias)
        return position, [position, h, c]

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config
