import keras
from keras import ops

from zoo.layers._utils import check_units
from zoo.layers._utils import loop_mask
from zoo.layers._utils import LAYER_NORM_EPSILON
from zoo.layers._utils import gate_layer_norm
from zoo.layers._utils import project_sequence
from zoo.layers.recurrent_cell import RecurrentCell
from zoo.ops import scan
from zoo.ops import xla_function


@keras.saving.register_keras_serializable(package="zoo")
class LSTMCell(RecurrentCell):
    """Long short-term memory cell.

    With gates input `i`, forget `f`, candidate `g` and output `o`:

        z = x_t W + h_{t-1} U + b            # split into i, f, g, o
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
        h_t = sigmoid(o) * tanh(c_t)

    The additive cell-state path `c_t = f * c_{t-1} + ...` is the "highway"
    that lets gradients cross many steps (see `zoo.diagnostics`). Weights are
    laid out as in `keras.layers.LSTMCell` (gate order i, f, c, o), so they copy
    both ways; peephole and layer-normalization weights come after them.

    Args:
        units: dimensionality of the hidden and cell states.
        activation: activation of the candidate and of the output cell state.
            Default: `"tanh"`.
        recurrent_activation: activation of the gates. Default: `"sigmoid"`.
        use_bias: whether to add a bias.
        unit_forget_bias: initialize the forget-gate bias to 1
            (Jozefowicz et al. 2015). Default: `True`.
        use_peepholes: add diagonal peephole connections from the cell state
            to the gates (Gers & Schmidhuber 2000).
        layer_normalization: normalize each gate's pre-activation and the cell
            state before the output activation (Ba et al. 2016).
        implementation: accepted and stored for compatibility with Keras's
            argument (and configs that carry it); it has no effect: the
            zoo's cell always computes its gates with one fused matmul (the
            input projection hoisted out of the time loop).
        **kwargs: initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout` and `seed` as in `zoo.layers.RecurrentCell`,
            and the base layer's arguments.

    Example:

    ```python
    cell = zoo.layers.LSTMCell(64, use_peepholes=True)
    y = zoo.layers.RNN(cell)(np.zeros((4, 10, 8), "float32"))  # (4, 64)
    ```

    Reference:
    - [Hochreiter & Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
    - [Gers & Schmidhuber, 2000](https://doi.org/10.1109/IJCNN.2000.861302)
    - [Ba et al., 2016](https://arxiv.org/abs/1607.06450)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        unit_forget_bias=True,
        use_peepholes=False,
        layer_normalization=False,
        implementation=2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.implementation = implementation
        self.units = check_units(units)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.unit_forget_bias = unit_forget_bias
        self.use_peepholes = use_peepholes
        self.layer_normalization = layer_normalization

    @property
    def state_size(self):
        return [self.units, self.units]

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        units = self.units
        self.kernel = self.add_cell_weight("kernel", (input_shape[-1], 4 * units))
        self.recurrent_kernel = self.add_cell_weight("recurrent", (units, 4 * units))
        self.bias = None
        if self.use_bias:
            initializer = self.bias_initializer
            if self.unit_forget_bias:
                base = self.bias_initializer

                def initializer(shape, dtype=None):
                    return ops.concatenate(
                        [
                            base((units,), dtype=dtype),
                            ops.ones((units,), dtype=dtype),
                            base((units * 2,), dtype=dtype),
                        ]
                    )

            self.bias = self.add_cell_weight("bias", (4 * units,), initializer)
        if self.use_peepholes:
            self.peephole_weights = self.add_weight(
                shape=(3, units), name="peephole_weights", initializer="zeros"
            )
        if self.layer_normalization:
            self.gate_gamma = self.add_weight(
                shape=(4 * units,), name="gate_gamma", initializer="ones"
            )
            self.gate_beta = self.add_weight(
                shape=(4 * units,), name="gate_beta", initializer="zeros"
            )
            self.cell_gamma = self.add_weight(
                shape=(units,), name="cell_gamma", initializer="ones"
            )
            self.cell_beta = self.add_weight(
                shape=(units,), name="cell_beta", initializer="zeros"
            )

    def project_inputs(self, sequence, context):
        sequence = super().project_inputs(sequence, context)
        return project_sequence(sequence, self.kernel, self.bias)

    def step(self, inputs, states, context):
        h_prev, c_prev = states
        if "recurrent_mask" in context:
            h_prev = h_prev * context["recurrent_mask"]
        z = inputs + ops.matmul(h_prev, self.recurrent_kernel)
        if self.layer_normalization:
            z = gate_layer_norm(z, self.gate_gamma, self.gate_beta, groups=4)
        # One activation per gate: in the plain TensorFlow loop this was
        # 5-11% faster than one sigmoid over all four blocks plus a tanh on
        # a column slice (commit 6b3f552; bench/layers.md history).
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
        if self.use_peepholes:
            z_i = z_i + self.peephole_weights[0] * c_prev
            z_f = z_f + self.peephole_weights[1] * c_prev
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_g)
        if self.use_peepholes:
            z_o = z_o + self.peephole_weights[2] * c
        o = self.recurrent_activation(z_o)
        c_out = c
        if self.layer_normalization:
            c_out = gate_layer_norm(c, self.cell_gamma, self.cell_beta, groups=1)
        h = o * self.activation(c_out)
        return h, [h, c]

    def scan_with_gradient(
        self, projected, states, context, return_sequences, compile_loops=False, mask=None
    ):
        """The whole loop with a hand-written backward pass (BPTT).

        `projected` is the time-major output of `project_inputs`, in
        processing order; `mask`, if given, is a time-major `(time, batch)`
        boolean in the same order: a masked step keeps the previous states
        (any mask, not only padding). Returns `(last_output, ys, states)`
        (`ys` time-major, or `None` without `return_sequences`; with a mask
        `last_output` and `ys` are the carried hidden states, which
        `zoo.layers.RNN` turns into Keras's masked outputs), or `None` where
        this configuration has no hand-written gradient (recurrent dropout,
        activations other than tanh / sigmoid); then `zoo.layers.RNN`
        differentiates `step`'s loop.

        The forward loop is `step`'s; it also records the gates and states
        (and, with layer normalization, the normalized values and their
        inverse deviations), and the reverse loop turns them into the
        pre-activation gradients with one matmul per step (`dz_t U^T`). The
        gradient of the recurrent kernel is then one matmul over the whole
        sequence, those of the peephole and normalization weights are sums
        over the sequence, and the input projection's gradient flows on
        through `project_inputs`. With `compile_loops` (TensorFlow; see
        `zoo.layers.RNN`'s `jit_compile`) each of the two loops runs as one
        XLA function.
        """
        if (
            "recurrent_mask" in context
            or self.activation is not keras.activations.tanh
            or self.recurrent_activation is not keras.activations.sigmoid
        ):
            return None
        units = self.units
        length = projected.shape[0]
        dtype = projected.dtype
        # Each loop as one XLA function (its arguments explicit, so that the
        # tape never sees the compiled while loop).
        compiled = xla_function if compile_loops else (lambda fn: fn)
        recurrent_kernel = ops.cast(ops.convert_to_tensor(self.recurrent_kernel), dtype)
        masked = mask is not None
        m = loop_mask(mask, length, dtype)
        peepholes = self.use_peepholes
        normalized = self.layer_normalization
        peephole_weights = ops.cast(
            ops.convert_to_tensor(self.peephole_weights) if peepholes else ops.zeros((3, units)),
            dtype,
        )
        # gate gamma, gate beta (4 units each), cell gamma, cell beta.
        norm_weights = ops.cast(
            ops.concatenate([ops.convert_to_tensor(w) for w in (
                self.gate_gamma, self.gate_beta, self.cell_gamma, self.cell_beta)])
            if normalized else ops.zeros((10 * units,)),
            dtype,
        )

        def normalize(x, groups):
            """`(x_hat, inverse deviation)` per group, as `gate_layer_norm`."""
            shaped = ops.reshape(x, (-1, groups, units))
            mean = ops.mean(shaped, axis=-1, keepdims=True)
            inv = ops.rsqrt(ops.var(shaped, axis=-1, keepdims=True) + LAYER_NORM_EPSILON)
            return ops.reshape((shaped - mean) * inv, (-1, groups * units)), ops.reshape(inv, (-1, groups))

        def normalize_backward(d_x_hat, x_hat, inv, groups):
            """The gradient through `normalize` of a gradient on `x_hat`."""
            d = ops.reshape(d_x_hat, (-1, groups, units))
            xh = ops.reshape(x_hat, (-1, groups, units))
            d = d - ops.mean(d, axis=-1, keepdims=True) - xh * ops.mean(d * xh, axis=-1, keepdims=True)
            return ops.reshape(d * ops.expand_dims(inv, -1), (-1, groups * units))

        @ops.custom_gradient
        def run(projected, h0, c0, recurrent_kernel, m, peephole_weights, norm_weights):
            def forward_loop(projected, h0, c0, recurrent_kernel, m, peephole_weights, norm_weights):
                gate_gamma, gate_beta = norm_weights[: 4 * units], norm_weights[4 * units : 8 * units]
                cell_gamma, cell_beta = norm_weights[8 * units : 9 * units], norm_weights[9 * units :]

                def forward(carry, x):
                    h_prev, c_prev = carry
                    z = x["z"] + ops.matmul(h_prev, recurrent_kernel)
                    extra = []
                    if normalized:
                        z_hat, gate_inv = normalize(z, 4)
                        z = z_hat * gate_gamma + gate_beta
                        extra = [z_hat, gate_inv]
                    if peepholes:
                        i = ops.sigmoid(z[:, :units] + peephole_weights[0] * c_prev)
                        f = ops.sigmoid(z[:, units : 2 * units] + peephole_weights[1] * c_prev)
                        g = ops.tanh(z[:, 2 * units : 3 * units])
                        c = f * c_prev + i * g
                        o = ops.sigmoid(z[:, 3 * units :] + peephole_weights[2] * c)
                    else:
                        i, f, _, o = ops.split(ops.sigmoid(z), 4, axis=-1)
                        g = ops.tanh(z[:, 2 * units : 3 * units])
                        c = f * c_prev + i * g
                    c_out = c
                    if normalized:
                        c_hat, cell_inv = normalize(c, 1)
                        c_out = c_hat * cell_gamma + cell_beta
                        extra += [c_hat, cell_inv]
                    h = o * ops.tanh(c_out)
                    if masked:  # a masked step carries the states over
                        keep = ops.greater(x["m"], 0.5)
                        c = ops.where(keep, c, c_prev)
                        h = ops.where(keep, h, h_prev)
                    return (h, c), ops.concatenate([i, f, g, o, c, h] + extra, axis=-1)

                xs = {"z": projected, "m": m} if masked else {"z": projected}
                return scan(forward, (h0, c0), xs, length=length)

            (h_last, c_last), record = compiled(forward_loop)(
                projected, h0, c0, recurrent_kernel, m, peephole_weights, norm_weights
            )
            hs = record[..., 5 * units : 6 * units]
            outputs = (hs, h_last, c_last) if return_sequences else (h_last, c_last)

            def grad(*args, upstream=None):
                if upstream is None:
                    upstream = args
                    if len(args) == 1 and isinstance(args[0], (list, tuple)):
                        upstream = args[0]
                if return_sequences:
                    d_hs, d_h, d_c = upstream
                else:
                    d_h, d_c = upstream
                cs = record[..., 4 * units : 5 * units]
                c_prev = ops.concatenate([c0[None], cs[:-1]], axis=0)
                h_prev = ops.concatenate([h0[None], hs[:-1]], axis=0)
                kernel_t = ops.transpose(recurrent_kernel)
                loop_xs = {"record": record, "c_prev": c_prev}
                if return_sequences:
                    loop_xs["d_h"] = d_hs
                if masked:
                    loop_xs["m"] = m

                def backward_loop(d_h, d_c, loop_xs, kernel_t, peephole_weights, norm_weights):
                    gate_gamma = norm_weights[: 4 * units]
                    cell_gamma, cell_beta = norm_weights[8 * units : 9 * units], norm_weights[9 * units :]

                    def backward(carry, x):
                        d_h, d_c = carry
                        r = x["record"]
                        i = r[:, :units]
                        f = r[:, units : 2 * units]
                        g = r[:, 2 * units : 3 * units]
                        o = r[:, 3 * units : 4 * units]
                        c = r[:, 4 * units : 5 * units]
                        if "d_h" in x:
                            d_h = d_h + x["d_h"]
                        if normalized:
                            z_hat = r[:, 6 * units : 10 * units]
                            gate_inv = r[:, 10 * units : 10 * units + 4]
                            c_hat = r[:, 10 * units + 4 : 11 * units + 4]
                            cell_inv = r[:, 11 * units + 4 :]
                            tanh_c = ops.tanh(c_hat * cell_gamma + cell_beta)
                        else:
                            tanh_c = ops.tanh(c)
                        d_c_in = d_c
                        d_o = d_h * tanh_c * o * (1.0 - o)
                        d_c_out = d_h * o * (1.0 - tanh_c * tanh_c)
                        if normalized:
                            d_c = d_c + normalize_backward(d_c_out * cell_gamma, c_hat, cell_inv, 1)
                        else:
                            d_c = d_c + d_c_out
                        if peepholes:  # o reads c, i and f read c_prev
                            d_c = d_c + d_o * peephole_weights[2]
                        d_i = d_c * g * i * (1.0 - i)
                        d_f = d_c * x["c_prev"] * f * (1.0 - f)
                        # The gradient on the gates' pre-activations (after
                        # normalization), then on z = x W + h U + b.
                        d_y = ops.concatenate([d_i, d_f, d_c * i * (1.0 - g * g), d_o], axis=-1)
                        d_z = normalize_backward(d_y * gate_gamma, z_hat, gate_inv, 4) if normalized else d_y
                        d_c_prev = d_c * f
                        if peepholes:
                            d_c_prev = d_c_prev + d_i * peephole_weights[0] + d_f * peephole_weights[1]
                        if "m" in x:
                            # A masked step passed the states through: its
                            # gradients go straight to the previous step.
                            keep = x["m"]
                            d_z, d_y, d_c_out = d_z * keep, d_y * keep, d_c_out * keep
                            carry = (ops.matmul(d_z, kernel_t) + (1.0 - keep) * d_h,
                                     keep * d_c_prev + (1.0 - keep) * d_c_in)
                        else:
                            carry = (ops.matmul(d_z, kernel_t), d_c_prev)
                        if normalized:
                            return carry, ops.concatenate([d_z, d_y, d_c_out], axis=-1)
                        return carry, d_z

                    return scan(backward, (d_h, d_c), loop_xs, length=length, reverse=True)

                (d_h0, d_c0), d_steps = compiled(backward_loop)(
                    d_h, d_c, loop_xs, kernel_t, peephole_weights, norm_weights
                )
                d_zs = d_steps[..., : 4 * units]
                d_ys = d_steps[..., 4 * units : 8 * units] if normalized else d_zs
                d_kernel = ops.matmul(
                    ops.transpose(ops.reshape(h_prev, (-1, units))),
                    ops.reshape(d_zs, (-1, 4 * units)),
                )
                d_peepholes = ops.zeros_like(peephole_weights)
                if peepholes:  # sums over time and batch
                    d_peepholes = ops.stack([
                        ops.sum(d_ys[..., :units] * c_prev, axis=(0, 1)),
                        ops.sum(d_ys[..., units : 2 * units] * c_prev, axis=(0, 1)),
                        ops.sum(d_ys[..., 3 * units :] * cs, axis=(0, 1)),
                    ])
                d_norm = ops.zeros_like(norm_weights)
                if normalized:
                    d_c_outs = d_steps[..., 8 * units :]
                    z_hats = record[..., 6 * units : 10 * units]
                    c_hats = record[..., 10 * units + 4 : 11 * units + 4]
                    d_norm = ops.concatenate([
                        ops.sum(d_ys * z_hats, axis=(0, 1)),
                        ops.sum(d_ys, axis=(0, 1)),
                        ops.sum(d_c_outs * c_hats, axis=(0, 1)),
                        ops.sum(d_c_outs, axis=(0, 1)),
                    ])
                return d_zs, d_h0, d_c0, d_kernel, ops.zeros_like(m), d_peepholes, d_norm

            return outputs, grad

        h0, c0 = states
        outputs = run(projected, h0, c0, recurrent_kernel, m, peephole_weights, norm_weights)
        if return_sequences:
            hs, h_last, c_last = outputs
        else:
            hs, (h_last, c_last) = None, outputs
        return h_last, hs, [h_last, c_last]

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
                "unit_forget_bias": self.unit_forget_bias,
                "use_peepholes": self.use_peepholes,
                "layer_normalization": self.layer_normalization,
            }
        )
        return config
