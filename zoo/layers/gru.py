import keras

from zoo.layers._cell_rnn import CellRNN
from zoo.layers.gru_cell import GRUCell


@keras.saving.register_keras_serializable(package="zoo")
class GRU(CellRNN):
    """Gated recurrent unit layer over a whole sequence.

    A drop-in for `keras.layers.GRU`: the same arguments, semantics and
    weight layout, both `reset_after` conventions. The input projection is
    hoisted out of the time loop; with `reset_after=True`, tanh / sigmoid and
    no recurrent dropout it dispatches to the backend's fused kernel (cuDNN
    on a GPU) where one exists.

    Args:
        units: dimensionality of the output and state.
        use_cudnn: `"auto"`, `True` or `False`, as in `zoo.layers.LSTM`.
        return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask, jit_compile: as in `zoo.layers.RNN`.
        **kwargs: the arguments of `zoo.layers.GRUCell` (`reset_after`,
            activations, initializers, regularizers, constraints, dropout,
            `seed`, and Keras's `implementation`, stored but without
            effect) and of the base layer.

    Example:

    ```python
    y = zoo.layers.GRU(16, reset_after=False)(np.zeros((2, 7, 4), "float32"))
    ```

    Reference:
    - [Cho et al., 2014](https://arxiv.org/abs/1406.1078)
    """

    cell_class = GRUCell
    has_fused_kernel = True

    def __init__(self, units, **kwargs):
        super().__init__(units=units, **kwargs)

    def fused_backend_fn(self):
        cell = self.cell
        from keras.src import backend as keras_backend  # fused kernels

        if not cell.reset_after:
            return None
        # Only the TensorFlow backend's check knows the GRU conventions.
        extra = {"reset_after": True} if keras.backend.backend() == "tensorflow" else {}
        if not keras_backend.cudnn_ok(
            cell.activation, cell.recurrent_activation, self.unroll, cell.use_bias, **extra
        ):
            return None

        def run(sequences, initial_state, mask):
            return keras_backend.gru(
                sequences,
                initial_state[0],
                mask,
                kernel=cell.kernel,
                recurrent_kernel=cell.recurrent_kernel,
                bias=cell.bias,
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
                unroll=self.unroll,
                reset_after=cell.reset_after,
            )

        return run
