import keras

from zoo.layers._cell_rnn import CellRNN
from zoo.layers.simple_rnn_cell import SimpleRNNCell


@keras.saving.register_keras_serializable(package="zoo")
class SimpleRNN(CellRNN):
    """Elman recurrent layer over a whole sequence.

    A drop-in for `keras.layers.SimpleRNN` (same arguments, semantics and
    weight layout); the input projection is one matmul outside the loop.

    Args:
        units: dimensionality of the output and state.
        return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask, jit_compile: as in `zoo.layers.RNN`.
        **kwargs: the arguments of `zoo.layers.SimpleRNNCell` and of the
            base layer.

    Example:

    ```python
    y = zoo.layers.SimpleRNN(16)(np.zeros((2, 7, 4), "float32"))  # (2, 16)
    ```

    Reference:
    - [Elman, 1990](https://doi.org/10.1207/s15516709cog1402_1)
    """

    cell_class = SimpleRNNCell

    def __init__(self, units, **kwargs):
        super().__init__(units=units, **kwargs)
