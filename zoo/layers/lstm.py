import keras

from zoo.layers._cell_rnn import CellRNN
from zoo.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="zoo")
class LSTM(CellRNN):
    """Long short-term memory layer over a whole sequence.

    A drop-in for `keras.layers.LSTM`: the same arguments, semantics and
    weight layout (weights copy both ways with `set_weights`), plus
    `use_peepholes` and `layer_normalization`. The input projection of the
    whole sequence is one matmul outside the time loop and the loop compiles
    with XLA; where the backend has a fused kernel (cuDNN on a GPU) and the
    configuration allows it (no peepholes, layer normalization or recurrent
    dropout; tanh / sigmoid), the layer dispatches to it, as Keras does.

    Args:
        units: dimensionality of the output and states.
        use_cudnn: `"auto"` (use a fused kernel where possible), `True`
            (require one) or `False`.
        return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask, jit_compile: as in `zoo.layers.RNN`.
        **kwargs: the arguments of `zoo.layers.LSTMCell` (`activation`,
            `recurrent_activation`, `use_bias`, `unit_forget_bias`,
            `use_peepholes`, `layer_normalization`, initializers,
            regularizers, constraints, `dropout`, `recurrent_dropout`,
            `seed`, and Keras's `implementation`, stored but without
            effect) and of the base layer.

    Example:

    ```python
    x = keras.Input((None, 8))
    y = zoo.layers.LSTM(32, return_sequences=True)(x)
    ```

    Reference:
    - [Hochreiter & Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
    """

    cell_class = LSTMCell
    has_fused_kernel = True

    def __init__(self, units, **kwargs):
        super().__init__(units=units, **kwargs)

    def fused_backend_fn(self):
        cell = self.cell
        if cell.use_peepholes or cell.layer_normalization:
            return None
        from keras.src import backend as keras_backend  # fused kernels

        if not keras_backend.cudnn_ok(
            cell.activation, cell.recurrent_activation, self.unroll, cell.use_bias
        ):
            return None

        def run(sequences, initial_state, mask):
            return keras_backend.lstm(
                sequences,
                initial_state[0],
                initial_state[1],
                mask,
                kernel=cell.kernel,
                recurrent_kernel=cell.recurrent_kernel,
                bias=cell.bias,
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
                unroll=self.unroll,
            )

        return run
