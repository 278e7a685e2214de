import math

import keras
from keras import ops

from zoo.layers._utils import check_units
from zoo.layers.recurrent_cell import RecurrentCell


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(
            f"`{name}` must be an int or a pair of positive ints. "
            f"Received: {name}={value}"
        )
    return value


@keras.saving.register_keras_serializable(package="zoo")
class ConvLSTM2DCell(RecurrentCell):
    """Convolutional LSTM cell: the LSTM's matmuls become 2-D convolutions.

        z = conv(x_t, W) + conv(h_{t-1}, U, "same") + b  # split into i, f, g, o
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
        h_t = sigmoid(o) * tanh(c_t)

    The states are feature maps. Weights are laid out as in Keras's
    `ConvLSTM2D` (kernel `(kh, kw, in, 4 * filters)`, gate order i, f, c, o),
    so they copy both ways. The input convolution of a whole sequence runs
    once, with time folded into the batch, outside the time loop.

    Args:
        filters: number of output feature maps.
        kernel_size: int or pair, size of both convolutions.
        strides: int or pair, strides of the input convolution.
        padding: `"valid"` or `"same"`, padding of the input convolution
            (the recurrent one always uses `"same"`).
        data_format: `"channels_last"` or `"channels_first"`; default from
            `keras.config.image_data_format()`.
        dilation_rate: int or pair, dilation of the input convolution
            (strides and dilation cannot both exceed 1).
        activation: candidate and output activation. Default: `"tanh"`.
        recurrent_activation: gate activation. Default: `"sigmoid"`.
        use_bias: whether to add a bias.
        unit_forget_bias: initialize the forget-gate bias to 1.
        **kwargs: initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout` and `seed` as in `zoo.layers.RecurrentCell`.

    Example:

    ```python
    layer = zoo.layers.RNN(zoo.layers.ConvLSTM2DCell(8, 3, padding="same"))
    y = layer(np.zeros((2, 5, 16, 16, 1), "float32"))  # (2, 16, 16, 8)
    ```

    Reference:
    - [Shi et al., 2015](https://arxiv.org/abs/1506.04214)
    """

    step_input_rank = 4

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_units(filters, "filters")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(
                f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}"
            )
        self.padding = str(padding).lower()
        self.data_format = data_format or keras.config.image_data_format()
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "`data_format` must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format!r}"
            )
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with "
                "`dilation_rate > 1`. Received: "
                f"strides={strides}, dilation_rate={dilation_rate}"
            )
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.unit_forget_bias = unit_forget_bias
        self.spatial_shape = None

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    @property
    def state_size(self):
        if self.spatial_shape is None:
            raise ValueError(
                "The ConvLSTM2DCell's state size is known once it is built. "
                "Received: an unbuilt cell"
            )
        rows, cols = self.spatial_shape
        if self.data_format == "channels_last":
            return [(rows, cols, self.filters)] * 2
        return [(self.filters, rows, cols)] * 2

    @property
    def output_size(self):
        return self.state_size[0]

    def state_shapes(self, batch_size):
        return [(batch_size,) + tuple(s) for s in self.state_size]

    def _out_length(self, length, k, stride, dilation):
        if length is None:
            return None
        if self.padding == "same":
            return math.ceil(length / stride)
        return math.ceil((length - dilation * (k - 1)) / stride)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "ConvLSTM2DCell expects steps of rank 4 (batch, rows, cols, "
                f"channels). Received: input_shape={tuple(input_shape)}"
            )
        if self.data_format == "channels_last":
            rows, cols, channels = input_shape[1:]
        else:
            channels, rows, cols = input_shape[1:]
        if channels is None:
            raise ValueError(
                "ConvLSTM2DCell needs a known number of input channels. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.spatial_shape = tuple(
            self._out_length(n, k, s, d)
            for n, k, s, d in zip(
                (rows, cols), self.kernel_size, self.strides, self.dilation_rate
            )
        )
        f4 = 4 * self.filters
        self.kernel = self.add_cell_weight("kernel", self.kernel_size + (channels, f4))
        self.recurrent_kernel = self.add_cell_weight(
            "recurrent", self.kernel_size + (self.filters, f4)
        )
        self.bias = None
        if self.use_bias:
            initializer = self.bias_initializer
            if self.unit_forget_bias:
                base, n = self.bias_initializer, self.filters

                def initializer(shape, dtype=None):
                    return ops.concatenate(
                        [
                            base((n,), dtype=dtype),
                            ops.ones((n,), dtype=dtype),
                            base((2 * n,), dtype=dtype),
                        ]
                    )

            self.bias = self.add_cell_weight("bias", (f4,), initializer)

    def _add_bias(self, z):
        if self.bias is None:
            return z
        if self.data_format == "channels_last":
            return z + self.bias
        return z + ops.reshape(self.bias, (-1, 1, 1))

    def project_inputs(self, sequence, context):
        sequence = super().project_inputs(sequence, context)
        shape = ops.shape(sequence)
        flat = ops.reshape(sequence, (-1,) + tuple(sequence.shape[2:]))
        z = ops.conv(
            flat,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        z = self._add_bias(z)
        return ops.reshape(z, (shape[0], shape[1]) + tuple(z.shape[1:]))

    def step(self, inputs, states, context):
        h_prev, c_prev = states
        if "recurrent_mask" in context:
            h_prev = h_prev * context["recurrent_mask"]
        z = inputs + ops.conv(
            h_prev, self.recurrent_kernel, padding="same", data_format=self.data_format
        )
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=self._channel_axis)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_g)
        h = self.recurrent_activation(z_o) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": keras.activations.serialize(self.activation),
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "use_bias": self.use_bias,
                "unit_forget_bias": self.unit_forget_bias,
            }
        )
        return config
