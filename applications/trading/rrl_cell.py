"""The RRL trader as a Keras recurrent cell."""

import keras
from keras import ops

from zoo.layers import project_sequence
from zoo.layers.recurrent_cell import RecurrentCell
from zoo.saving import former_names


@former_names("zoo>RRLCell")  # its name until 2026-12
@keras.saving.register_keras_serializable(package="trading")
class RRLCell(RecurrentCell):
    """Moody & Saffell's recurrent trader: `F_t = tanh(b + u . x_t + v F_{t-1})`.

    The state is the previous position; the output is the new position in
    (-1, 1) (1: fully long the market, -1: fully short). Weights: `kernel`
    `(features, 1)` (`u`), `recurrent_kernel` `(1, 1)` (`v`), `bias` `(1,)`
    (`b`), so `applications.trading.rrl`'s `theta = [b, u, v]` maps onto them
    (`set_theta` / `get_theta`). Driven by `zoo.layers.RNN` over a sequence,
    or called step by step with the previous position as its state.

    Args:
        **kwargs: initializers, regularizers and constraints as in
            `zoo.layers.RecurrentCell`, and the base layer's arguments.

    Example:

    ```python
    cell = RRLCell()
    positions = zoo.layers.RNN(cell, return_sequences=True)(np.zeros((1, 30, 8), "float32"))  # (1, 30, 1)
    new_position, _ = cell(x_t, [previous_position])            # one step, (batch, 1)
    ```

    Reference:
    - [Moody & Saffell, 2001](https://doi.org/10.1109/72.935097)
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_initializer", keras.initializers.RandomNormal(stddev=0.1))
        kwargs.setdefault("recurrent_initializer", keras.initializers.RandomNormal(stddev=0.1))
        super().__init__(**kwargs)

    @property
    def state_size(self):
        return [1]

    @property
    def output_size(self):
        return 1

    def build(self, input_shape):
        self.kernel = self.add_cell_weight("kernel", (input_shape[-1], 1))
        self.recurrent_kernel = self.add_cell_weight("recurrent", (1, 1))
        self.bias = self.add_cell_weight("bias", (1,))

    def project_inputs(self, sequence, context):
        sequence = super().project_inputs(sequence, context)
        return project_sequence(sequence, self.kernel, self.bias)

    def step(self, inputs, states, context):
        (previous,) = states
        position = ops.tanh(inputs + ops.matmul(previous, self.recurrent_kernel))
        return position, [position]

    def set_theta(self, theta):
        """Load `[b, u_1..u_d, v]` (see `applications.trading.rrl`)."""
        theta = ops.convert_to_numpy(theta).astype("float32").reshape(-1)
        if theta.size != self.kernel.shape[0] + 2:
            raise ValueError(
                f"theta must hold {self.kernel.shape[0] + 2} numbers [b, u, v]. Received: theta.shape={theta.shape}"
            )
        self.bias.assign(theta[:1])
        self.kernel.assign(theta[1:-1].reshape(-1, 1))
        self.recurrent_kernel.assign(theta[-1:].reshape(1, 1))

    def get_theta(self):
        """`[b, u_1..u_d, v]` as a float64 numpy array."""
        import numpy as np

        return np.concatenate(
            [
                ops.convert_to_numpy(self.bias).reshape(-1),
                ops.convert_to_numpy(self.kernel).reshape(-1),
                ops.convert_to_numpy(self.recurrent_kernel).reshape(-1),
            ]
        ).astype("float64")
