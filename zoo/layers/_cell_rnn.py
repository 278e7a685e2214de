"""Private base of the layers that build their own cell (LSTM, GRU, ...)."""

import inspect

import keras
from keras import ops

from zoo.layers.recurrent_cell import RecurrentCell
from zoo.layers.rnn import RNN

_LAYER_ONLY = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim")
_BASE_KEYS = ("name", "dtype", "trainable")


def _cell_arg_names(cell_class):
    names = set()
    for klass in cell_class.__mro__:
        if klass is keras.layers.Layer:
            break
        init = klass.__dict__.get("__init__")
        if init is not None:
            names.update(inspect.signature(init).parameters)
    return names - {"self", "kwargs"}


class CellRNN(RNN):
    """An `RNN` whose cell is built from the layer's own arguments.

    Subclasses set `cell_class`; every argument of that cell is an argument
    of the layer (as in `keras.layers.LSTM`), and `get_config()` is flat.
    """

    cell_class = RecurrentCell
    #: Whether the layer has a fused kernel and so a `use_cudnn` argument
    #: (LSTM, GRU; as in Keras, the other layers have neither).
    has_fused_kernel = False

    def __init__(
        self,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        jit_compile="auto",
        **kwargs,
    ):
        use_cudnn = "auto"
        if self.has_fused_kernel:
            use_cudnn = kwargs.pop("use_cudnn", "auto")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "`use_cudnn` must be one of 'auto', True, False. "
                f"Received: use_cudnn={use_cudnn!r}"
            )
        cell_names = _cell_arg_names(self.cell_class)
        unknown = set(kwargs) - cell_names - set(_LAYER_ONLY) - {"activity_regularizer"}
        if unknown:
            raise TypeError(
                f"{self.__class__.__name__} got unexpected arguments "
                f"{sorted(unknown)}. Received: {sorted(kwargs)}"
            )
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in cell_names}
        cell_kwargs["dtype"] = kwargs.get("dtype")
        cell_kwargs["trainable"] = kwargs.get("trainable", True)
        cell = self.cell_class(name="cell", **cell_kwargs)
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            jit_compile=jit_compile,
            **kwargs,
        )
        if self.has_fused_kernel:
            self.use_cudnn = use_cudnn
        if (
            self.has_fused_kernel
            and keras.backend.backend() == "tensorflow"
            and use_cudnn in (True, "auto")
            and self.fused_backend_fn() is not None
        ):
            # cuDNN ops are not XLA-compilable: keep `jit_compile="auto"` off,
            # as Keras's own LSTM / GRU do.
            self.supports_jit = False

    def __getattr__(self, name):
        # Expose the cell's arguments and weights (`layer.units`,
        # `layer.kernel`, ...) as Keras's LSTM/GRU do.
        if name != "cell" and "cell" in self.__dict__ and (
            name in _cell_arg_names(self.cell_class)
            or name in ("kernel", "recurrent_kernel", "bias")
        ):
            return getattr(self.cell, name)
        raise AttributeError(
            f"'{self.__class__.__name__}' object has no attribute '{name}'"
        )

    def fused_call(self, sequences, initial_state, mask, training):
        if not self.has_fused_kernel:
            return None
        backend_fn = self.fused_backend_fn()
        if backend_fn is None or self.use_cudnn is False or self.unroll:
            return self._no_fused()
        cell = self.cell
        if cell.recurrent_dropout:
            return self._no_fused()
        if training and cell.dropout:
            context = cell.begin_sequence(
                ops.shape(sequences)[0],
                training=True,
                input_shape=(sequences.shape[0],) + tuple(sequences.shape[2:]),
            )
            sequences = sequences * ops.expand_dims(context["input_mask"], 1)
        try:
            last, outputs, states = backend_fn(sequences, initial_state, mask)
        except NotImplementedError:
            return self._no_fused()
        return last, outputs, list(states)

    def _no_fused(self):
        if self.use_cudnn is True:
            raise ValueError(
                f"{self.__class__.__name__} `{self.name}`: use_cudnn=True but "
                "no fused kernel supports this configuration on this backend "
                "and device. Received: use_cudnn=True"
            )
        return None

    def fused_backend_fn(self):
        """`fn(sequences, initial_state, mask)` for a fused kernel, or None."""
        return None

    def get_config(self):
        config = super().get_config()
        cell_config = config.pop("cell")["config"]
        for key in _BASE_KEYS:
            cell_config.pop(key, None)
        cell_config.pop("dtype", None)
        config.update(cell_config)
        if self.has_fused_kernel:
            config["use_cudnn"] = self.use_cudnn
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if not cls.has_fused_kernel:
            config.pop("use_cudnn", None)  # written by earlier zoo versions
        return cls(**config)
