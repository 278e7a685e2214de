import keras
from keras import ops

from zoo.layers._utils import check_units
from zoo.layers._utils import loop_mask
from zoo.layers._utils import project_sequence
from zoo.layers.recurrent_cell import RecurrentCell
from zoo.ops import scan
from zoo.ops import xla_function


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
        implementation: accepted and stored for compatibility with Keras's
            argument (and configs that carry it); it has no effect: the
            zoo's cell always computes its gates with one fused matmul (the
            input projection hoisted out of the time loop).
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
        implementation=2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.implementation = implementation
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

    def scan_with_gradient(
        self, projected, states, context, return_sequences, compile_loops=False, mask=None
    ):
        """The whole loop with a hand-written backward pass (BPTT).

        As `zoo.layers.LSTMCell.scan_with_gradient` (a `mask` keeps the
        state at masked steps): returns
        `(last_output, ys, states)`, or `None` for recurrent dropout or
        activations other than tanh / sigmoid. The recurrent kernel's (and
        recurrent bias's) gradient is one matmul (sum) after the reverse
        loop.
        """
        if (
            "recurrent_mask" in context
            or self.activation is not keras.activations.tanh
            or self.recurrent_activation is not keras.activations.sigmoid
        ):
            return None
        units = self.units
        length = projected.shape[0]
        # Each loop as one XLA function (its arguments explicit, so that the
        # tape never sees the compiled while loop).
        compiled = xla_function if compile_loops else (lambda fn: fn)
        dtype = projected.dtype
        recurrent_kernel = ops.cast(ops.convert_to_tensor(self.recurrent_kernel), dtype)
        _, recurrent_bias = self._biases()
        if recurrent_bias is None:
            recurrent_bias = ops.zeros((3 * units,), dtype=dtype)
        recurrent_bias = ops.cast(ops.convert_to_tensor(recurrent_bias), dtype)
        reset_after = self.reset_after

        def unpack(upstream):
            if return_sequences:
                return upstream
            d_h = upstream[0] if isinstance(upstream, (list, tuple)) else upstream
            return None, d_h

        masked = mask is not None
        m = loop_mask(mask, length, dtype)

        @ops.custom_gradient
        def run(projected, h0, recurrent_kernel, recurrent_bias, m):
            def forward_loop(projected, h0, recurrent_kernel, recurrent_bias, m):
                def forward(h, xs):
                    x = xs["z"]
                    h_prev = h
                    x_z, x_r, x_n = ops.split(x, 3, axis=-1)
                    if reset_after:
                        inner = ops.matmul(h, recurrent_kernel) + recurrent_bias
                        h_z, h_r, h_n = ops.split(inner, 3, axis=-1)
                        z = ops.sigmoid(x_z + h_z)
                        r = ops.sigmoid(x_r + h_r)
                        n = ops.tanh(x_n + r * h_n)
                        extra = h_n
                    else:
                        inner = ops.matmul(h, recurrent_kernel[:, : 2 * units])
                        h_z, h_r = ops.split(inner, 2, axis=-1)
                        z = ops.sigmoid(x_z + h_z)
                        r = ops.sigmoid(x_r + h_r)
                        n = ops.tanh(
                            x_n + ops.matmul(r * h, recurrent_kernel[:, 2 * units :])
                        )
                        extra = r * h
                    h = z * h + (1.0 - z) * n
                    if masked:  # a masked step carries the state over
                        h = ops.where(ops.greater(xs["m"], 0.5), h, h_prev)
                    return h, ops.concatenate([z, r, n, extra, h], axis=-1)

                xs = {"z": projected, "m": m} if masked else {"z": projected}
                return scan(forward, h0, xs, length=length)

            h_last, record = compiled(forward_loop)(
                projected, h0, recurrent_kernel, recurrent_bias, m
            )
            hs = record[..., 4 * units :]
            outputs = (hs, h_last) if return_sequences else h_last

            def grad(*args, upstream=None):
                if upstream is None:
                    upstream = args
                    if len(args) == 1 and isinstance(args[0], (list, tuple)):
                        upstream = args[0]
                d_hs, d_h = unpack(upstream)
                h_prev = ops.concatenate([h0[None], hs[:-1]], axis=0)
                loop_xs = {"record": record, "h_prev": h_prev}
                if return_sequences:
                    loop_xs["d_h"] = d_hs
                if masked:
                    loop_xs["m"] = m
                kernel_t = ops.transpose(recurrent_kernel)
                kernel_zr_t = ops.transpose(recurrent_kernel[:, : 2 * units])
                kernel_n_t = ops.transpose(recurrent_kernel[:, 2 * units :])

                def backward_loop(d_h, loop_xs, kernel_t, kernel_zr_t, kernel_n_t):
                    def backward(d_h, x):
                        if "d_h" in x:
                            d_h = d_h + x["d_h"]
                        d_h_prev, d_step = unmasked_backward(d_h, x)
                        if "m" in x:
                            # A masked step passed the state through: its
                            # gradient goes straight to the previous step.
                            keep = x["m"]
                            return keep * d_h_prev + (1.0 - keep) * d_h, d_step * keep
                        return d_h_prev, d_step

                    def unmasked_backward(d_h, x):
                        rec = x["record"]
                        z = rec[:, :units]
                        r = rec[:, units : 2 * units]
                        n = rec[:, 2 * units : 3 * units]
                        extra = rec[:, 3 * units : 4 * units]
                        h_prev = x["h_prev"]
                        d_z = d_h * (h_prev - n) * z * (1.0 - z)
                        d_n = d_h * (1.0 - z) * (1.0 - n * n)
                        if reset_after:
                            d_r = d_n * extra * r * (1.0 - r)
                            d_inner = ops.concatenate([d_z, d_r, d_n * r], axis=-1)
                            d_h_prev = d_h * z + ops.matmul(d_inner, kernel_t)
                            return d_h_prev, ops.concatenate([d_z, d_r, d_n, d_n * r], axis=-1)
                        d_rh = ops.matmul(d_n, kernel_n_t)
                        d_r = d_rh * h_prev * r * (1.0 - r)
                        d_zr = ops.concatenate([d_z, d_r], axis=-1)
                        d_h_prev = d_h * z + d_rh * r + ops.matmul(d_zr, kernel_zr_t)
                        return d_h_prev, ops.concatenate([d_zr, d_n], axis=-1)

                    return scan(backward, d_h, loop_xs, length=length, reverse=True)

                d_h0, d_steps = compiled(backward_loop)(
                    d_h, loop_xs, kernel_t, kernel_zr_t, kernel_n_t
                )
                flat_h_prev_t = ops.transpose(ops.reshape(h_prev, (-1, units)))
                if reset_after:
                    d_projected = d_steps[..., : 3 * units]
                    d_inner = ops.concatenate(
                        [d_steps[..., : 2 * units], d_steps[..., 3 * units :]], axis=-1
                    )
                    d_inner = ops.reshape(d_inner, (-1, 3 * units))
                    d_kernel = ops.matmul(flat_h_prev_t, d_inner)
                    d_bias = ops.sum(d_inner, axis=0)
                else:
                    d_projected = d_steps
                    flat = ops.reshape(d_steps, (-1, 3 * units))
                    rh = ops.reshape(record[..., 3 * units : 4 * units], (-1, units))
                    d_kernel = ops.concatenate(
                        [
                            ops.matmul(flat_h_prev_t, flat[:, : 2 * units]),
                            ops.matmul(ops.transpose(rh), flat[:, 2 * units :]),
                        ],
                        axis=-1,
                    )
                    d_bias = ops.zeros_like(recurrent_bias)
                return d_projected, d_h0, d_kernel, d_bias, ops.zeros_like(m)

            return outputs, grad

        outputs = run(projected, states[0], recurrent_kernel, recurrent_bias, m)
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
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "use_bias": self.use_bias,
                "implementation": self.implementation,
                "reset_after": self.reset_after,
            }
        )
        return config
