import keras
from keras import ops

# Keras's `RNN` recognises cells that cache one dropout mask per sequence by
# this mixin (an `isinstance` check); it has no public name.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell


@keras.saving.register_keras_serializable(package="zoo")
class RecurrentCell(keras.layers.Layer, DropoutRNNCell):
    """Base class of the zoo's recurrent cells.

    A cell computes one time step. `zoo.layers.RNN` drives it over a whole
    sequence in three phases, so that work that does not depend on the
    previous state leaves the time loop:

    1. `begin_sequence(batch_size, training)` returns a context (dropout
       masks, weights fused once per call) shared by every step;
    2. `project_inputs(sequence, context)` transforms the whole time-major
       input sequence at once (for example the input projection `x @ W + b`,
       one large matmul instead of one per step);
    3. `step(projected_t, states, context)` returns `(output, new_states)`.

    Calling the cell directly (`cell(x_t, states)`) runs all three for a
    single step, so cells also work step by step in decoders and inside
    `keras.layers.RNN`. Inside `keras.layers.RNN` (or `zoo.layers.RNN`
    around stacked cells), which create the masks of Keras's
    `DropoutRNNCell` protocol before the loop (`get_dropout_mask`,
    `get_recurrent_dropout_mask`) and reset them after it, every step reuses
    those masks, one per sequence as in Keras; a cell called on its own
    (no mask created) draws new masks at each call.
    `project_inputs` must treat every step alike (no
    statistics across time): the XLA-compiled inference loop of
    `zoo.layers.RNN` (TensorFlow backend) calls it on one step at a time,
    as a sequence of length 1. `zoo.layers.project_sequence` does the usual
    `x @ W + b` for any length.

    Args:
        kernel_initializer: initializer of the input weights (`kernel`).
        recurrent_initializer: initializer of the recurrent weights
            (`recurrent_kernel`).
        bias_initializer: initializer of the bias.
        kernel_regularizer: regularizer of the input weights.
        recurrent_regularizer: regularizer of the recurrent weights.
        bias_regularizer: regularizer of the bias.
        kernel_constraint: constraint on the input weights.
        recurrent_constraint: constraint on the recurrent weights.
        bias_constraint: constraint on the bias.
        dropout: fraction of the inputs dropped, one mask per sequence.
        recurrent_dropout: fraction of the recurrent state dropped, one mask
            per sequence (Gal & Ghahramani 2016).
        seed: seed of the dropout masks.
        **kwargs: passed on to `keras.layers.Layer`.

    Example:

    ```python
    cell = zoo.layers.LSTMCell(8)
    h, [h, c] = cell(x_t, cell.get_initial_state(batch_size=4))
    ```

    Reference:
    - [Gal & Ghahramani, 2016](https://arxiv.org/abs/1512.05287)
    """

    #: rank of one step's input, batch included (2 for vectors, 4 for images).
    step_input_rank = 2

    def __init__(
        self,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        for name, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(value) < 1.0:
                raise ValueError(
                    f"`{name}` must be in [0, 1). Received: {name}={value}"
                )
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def add_cell_weight(self, role, shape, initializer=None, name=None):
        """Add the `role` ("kernel", "recurrent", "bias") weight."""
        return self.add_weight(
            shape=shape,
            name=name or {"recurrent": "recurrent_kernel"}.get(role, role),
            initializer=initializer or getattr(self, f"{role}_initializer"),
            regularizer=getattr(self, f"{role}_regularizer"),
            constraint=getattr(self, f"{role}_constraint"),
        )

    # -- state ---------------------------------------------------------
    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    def state_shapes(self, batch_size):
        """Shapes of the states for a batch, one tuple per state."""
        shapes = []
        for size in self.state_size:
            size = tuple(size) if isinstance(size, (list, tuple)) else (size,)
            shapes.append((batch_size,) + size)
        return shapes

    def get_initial_state(self, batch_size=None):
        dtype = self.compute_dtype
        return [ops.zeros(s, dtype=dtype) for s in self.state_shapes(batch_size)]

    # -- the three phases ---------------------------------------------
    def _draw_dropout_mask(self, shape, rate):
        ones = ops.ones(shape, dtype=self.compute_dtype)
        return keras.random.dropout(ones, rate=rate, seed=self.seed_generator)

    def begin_sequence(self, batch_size, training=False, input_shape=None):
        """Per-sequence context: dropout masks drawn once per sequence."""
        context = {}
        if training and self.dropout > 0:
            shape = (batch_size,) + tuple(input_shape[1:])
            context["input_mask"] = self._draw_dropout_mask(shape, self.dropout)
        if training and self.recurrent_dropout > 0:
            shape = self.state_shapes(batch_size)[0]
            context["recurrent_mask"] = self._draw_dropout_mask(
                shape, self.recurrent_dropout
            )
        return context

    def project_inputs(self, sequence, context):
        """Transform the time-major input sequence `(time, batch, ...)`."""
        if "input_mask" in context:
            sequence = sequence * context["input_mask"]
        return sequence

    def step(self, inputs, states, context):
        raise NotImplementedError

    def call(self, inputs, states, training=False):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        batch_size = ops.shape(inputs)[0]
        # Masks created before the loop by an RNN layer (see the class
        # docstring) are reused; the others are drawn for this call.
        cached = {
            "input_mask": getattr(self, "_dropout_mask", None),
            "recurrent_mask": getattr(self, "_recurrent_dropout_mask", None),
        }
        cached = {k: v for k, v in cached.items() if v is not None}
        context = self.begin_sequence(
            batch_size, training=training and not cached, input_shape=inputs.shape
        )
        if training:
            context.update({k: ops.cast(v, self.compute_dtype) for k, v in cached.items()})
        projected = self.project_inputs(ops.expand_dims(inputs, 0), context)
        projected = keras.tree.map_structure(lambda p: p[0], projected)
        return self.step(projected, states, context)

    def get_config(self):
        config = super().get_config()
        for role in ("kernel", "recurrent", "bias"):
            config[f"{role}_initializer"] = keras.initializers.serialize(
                getattr(self, f"{role}_initializer")
            )
            config[f"{role}_regularizer"] = keras.regularizers.serialize(
                getattr(self, f"{role}_regularizer")
            )
            config[f"{role}_constraint"] = keras.constraints.serialize(
                getattr(self, f"{role}_constraint")
            )
        config.update(
            {
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
