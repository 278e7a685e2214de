import keras

from zoo.layers._cell_rnn import CellRNN
from zoo.layers.conv_lstm_2d_cell import ConvLSTM2DCell


@keras.saving.register_keras_serializable(package="zoo")
class ConvLSTM2D(CellRNN):
    """Convolutional LSTM layer over a sequence of images.

    A drop-in for `keras.layers.ConvLSTM2D` (same arguments, semantics and
    weight layout): input `(batch, time, rows, cols, channels)` (channels
    last), output the last or every step's feature maps. The input
    convolution of the whole sequence runs once outside the time loop.

    Args:
        filters: number of output feature maps.
        kernel_size: int or pair.
        return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask, jit_compile: as in `zoo.layers.RNN`.
        **kwargs: the arguments of `zoo.layers.ConvLSTM2DCell` (`strides`,
            `padding`, `data_format`, `dilation_rate`, activations,
            initializers, regularizers, constraints, dropout, `seed`) and of
            the base layer.

    Example:

    ```python
    y = zoo.layers.ConvLSTM2D(8, 3, padding="same", return_sequences=True)(
        np.zeros((2, 5, 16, 16, 1), "float32"))  # (2, 5, 16, 16, 8)
    ```

    Reference:
    - [Shi et al., 2015](https://arxiv.org/abs/1506.04214)
    """

    cell_class = ConvLSTM2DCell

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters=filters, kernel_size=kernel_size, **kwargs)
