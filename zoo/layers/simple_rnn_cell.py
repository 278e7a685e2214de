import keras
from keras import ops

from zoo.layers._utils import check_units
from zoo.layers._utils import loop_mask
from zoo.layers._utils import project_sequence
from zoo.layers.recurrent_cell import RecurrentCell
from zoo.ops import scan
from zoo.ops import xla_function


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

    def scan_with_gradient(
        self, projected, states, context, return_sequences, compile_loops=False, mask=None
    ):
        """The whole loop with a hand-written backward pass (BPTT).

        As `zoo.layers.LSTMCell.scan_with_gradient` (a `mask` keeps the
        state at masked steps): returns `(last_output, ys, states)`, or
        `None` for recurrent dropout or an activation other than tanh.
        """
        if "recurrent_mask" in context or self.activation is not keras.activations.tanh:
            return None
        units = self.units
        length = projected.shape[0]
        # Each loop as one XLA function (its arguments explicit, so that the
        # tape never sees the compiled while loop).
        compiled = xla_function if compile_loops else (lambda fn: fn)
        recurrent_kernel = ops.cast(
            ops.convert_to_tensor(self.recurrent_kernel), projected.dtype
        )

        masked = mask is not None
        m = loop_mask(mask, length, projected.dtype)

        @ops.custom_gradient
        def run(projected, h0, recurrent_kernel, m):
            def forward_loop(projected, h0, recurrent_kernel, m):
                def forward(h_prev, x):
                    h = ops.tanh(x["z"] + ops.matmul(h_prev, recurrent_kernel))
                    if masked:  # a masked step carries the state over
                        h = ops.where(ops.greater(x["m"], 0.5), h, h_prev)
                    return h, h

                xs = {"z": projected, "m": m} if masked else {"z": projected}
                return scan(forward, h0, xs, length=length)

            h_last, hs = compiled(forward_loop)(projected, h0, recurrent_kernel, m)
            outputs = (hs, h_last) if return_sequences else h_last

            def grad(*args, upstream=None):
                if upstream is None:
                    upstream = args
                    if len(args) == 1 and isinstance(args[0], (list, tuple)):
                        upstream = args[0]
                if return_sequences:
                    d_hs, d_h = upstream
                else:
                    d_h = upstream[0] if isinstance(upstream, (list, tuple)) else upstream
                h_prev = ops.concatenate([h0[None], hs[:-1]], axis=0)
                kernel_t = ops.transpose(recurrent_kernel)
                loop_xs = {"h": hs}
                if return_sequences:
                    loop_xs["d_h"] = d_hs
                if masked:
                    loop_xs["m"] = m

                def backward_loop(d_h, loop_xs, kernel_t):
                    def backward(d_h, x):
                        if "d_h" in x:
                            d_h = d_h + x["d_h"]
                        d_z = d_h * (1.0 - x["h"] * x["h"])
                        if "m" in x:  # a masked step passed the state through
                            d_z = d_z * x["m"]
                            return ops.matmul(d_z, kernel_t) + (1.0 - x["m"]) * d_h, d_z
                        return ops.matmul(d_z, kernel_t), d_z

                    return scan(backward, d_h, loop_xs, length=length, reverse=True)

                d_h0, d_zs = compiled(backward_loop)(d_h, loop_xs, kernel_t)
                d_kernel = ops.matmul(
                    ops.transpose(ops.reshape(h_prev, (-1, units))),
                    ops.reshape(d_zs, (-1, units)),
                )
                return d_zs, d_h0, d_kernel, ops.zeros_like(m)

            return outputs, grad

        outputs = run(projected, states[0], recurrent_kernel, m)
        if return_sequences:
            hs, h_last = outputs
        else:
            hs, h_last = None, outputs
        return h_last, hs, [h_last]

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
