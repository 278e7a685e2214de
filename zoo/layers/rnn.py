import keras
from keras import ops
from keras import tree

from zoo.ops import compiles_functions
from zoo.ops import in_graph
from zoo.ops import prefers_custom_loop_gradient
from zoo.ops import scan
from zoo.ops import xla_function


class _Untracked:
    """Holds the compiled inference loop out of Keras's / TF's tracking."""

    def __init__(self):
        self.fn = None


@keras.saving.register_keras_serializable(package="zoo")
class RNN(keras.layers.Layer):
    """Runs a recurrent cell over a whole sequence.

    The zoo's counterpart of `keras.layers.RNN`, with the same arguments and
    the same semantics (masking, `go_backwards` returning outputs in processing
    order, `stateful`, initial states), so it also works inside
    `keras.layers.Bidirectional`. It differs in how it runs the cell: the input
    transformation of the whole sequence (`cell.project_inputs`) happens once,
    outside the time loop, and the loop itself (`zoo.ops.scan`) compiles with
    XLA on every backend. When training on a backend where it pays
    (`zoo.ops.prefers_custom_loop_gradient`: TensorFlow), a cell with a
    `scan_with_gradient` method (the zoo's LSTM, GRU and SimpleRNN cells)
    runs the loop with its hand-written backward pass instead of the
    autodiff of `step`'s loop, with or without a mask (any mask: a masked
    step keeps the states and passes their gradients straight through);
    the numbers are the same.

    On the TensorFlow backend the time loops run as XLA-compiled functions
    (`jit_compile`), which Keras itself never does on a CPU: inference
    (`training=False`, as in `model.predict` and `model.evaluate`) as one
    function in which each step projects its own input (`x_t W`; XLA fuses
    it with the recurrent matmul better than it reads a hoisted
    `(time, batch, 4 * units)` projection), and training, masked or not,
    as the forward and the reverse loop of `scan_with_gradient`, each one
    function. The numbers are those of the plain loops up to float rounding.

    A zoo cell's output at each step is its first state; any other cell's
    output is carried through the loop separately. `cell` may also be a
    list of cells, which run as `keras.layers.StackedRNNCells` (as in
    `keras.layers.RNN`; their states are then nested, one list per cell).
    Cells with dropout that follow Keras's `DropoutRNNCell` protocol
    (Keras's cells, and the zoo's run step by step) get their masks
    created before the loop and reset after it, so each sequence uses one
    mask per cell, as in Keras. A zoo cell's inputs are cast to its compute
    dtype (integer sequences too); outputs and states are cast to the
    layer's (a cell may have its own dtype policy, as in Keras).

    Args:
        cell: a `zoo.layers.RecurrentCell` (any Keras RNN cell with
            `state_size` and `call(x_t, states)` works too, step by step),
            or a list of cells (stacked).
        return_sequences: return the output of every step, `(batch, time,
            ...)`, instead of the last one.
        return_state: also return the final states.
        go_backwards: process the sequence from its end; outputs are returned
            in processing order, as in Keras.
        stateful: carry the final states of a batch over as the initial states
            of the next one (the batch size must then be fixed; a call with
            another batch size raises a `ValueError`).
        unroll: unroll the time loop in Python (short sequences only).
        zero_output_for_mask: output zeros at masked steps instead of
            repeating the last unmasked output (with `return_sequences`).
        jit_compile: compile the time loops with XLA (TensorFlow backend;
            JAX compiles everything already and torch never).
            `"auto"` (default): when a graph is traced (`model.fit`,
            `model.predict`, `model.evaluate`, a `tf.function`) for a
            sequence whose length is known, so that each shape compiles
            once; eager calls keep the plain loops. `True`: always, eager
            calls and unknown lengths too (XLA then compiles once per
            distinct length). `False`: never.
            A model exported with `zoo.export.export_saved_model` never
            contains XLA functions (TensorFlow Serving runs those only with
            `--xla_cpu_compilation_enabled`); one exported with
            `model.export` does where this applies, unless the export runs
            inside `zoo.export.plain_recurrent_loops(model)`.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        sequences: `(batch, time, ...)` tensor (for a zoo cell, cast to its
            compute dtype; other cells get it as it is).
        initial_state: list of initial states, one per `cell.state_size`
            (nested, one list per cell, for a list of cells).
        mask: boolean `(batch, time)`; masked steps keep the previous state.
            Any mask works (not only right padding).
        training: enables dropout.

    Example:

    ```python
    layer = zoo.layers.RNN(zoo.layers.LSTMCell(16), return_sequences=True)
    y = layer(np.zeros((2, 5, 3), "float32"))  # (2, 5, 16)
    ```

    Reference:
    - [Werbos, 1990](https://doi.org/10.1109/5.58337) (backpropagation through time)
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        jit_compile="auto",
        **kwargs,
    ):
        if not (jit_compile is True or jit_compile is False or jit_compile == "auto"):
            raise ValueError(
                "`jit_compile` must be one of 'auto', True, False. "
                f"Received: jit_compile={jit_compile!r}"
            )
        if isinstance(cell, (list, tuple)):
            cell = keras.layers.StackedRNNCells(cell)
        if not hasattr(type(cell), "state_size") and not hasattr(cell, "state_size"):
            raise ValueError(
                "`cell` must be a recurrent cell with a `state_size` "
                f"(e.g. zoo.layers.LSTMCell). Received: cell={cell!r}"
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.jit_compile = jit_compile
        self.supports_masking = True
        self.states = None
        self._compiled_inference = _Untracked()

    # -- shapes ----------------------------------------------------------
    @property
    def state_size(self):
        return self.cell.state_size

    def _step_input_rank(self):
        return getattr(self.cell, "step_input_rank", 2)

    def _check_sequences_shape(self, shape):
        expected = self._step_input_rank() + 1
        if len(shape) != expected:
            raise ValueError(
                f"{self.__class__.__name__} `{self.name}` expects `sequences` "
                f"of rank {expected} (batch, time, "
                f"{'features' if expected == 3 else 'rows, cols, channels'}). "
                f"Received: sequences.shape={tuple(shape)}"
            )

    def _is_zoo_cell(self):
        """A `RecurrentCell` (three phases; its output is its first state)."""
        return hasattr(self.cell, "project_inputs")

    def _cell_dtype(self):
        return getattr(self.cell, "compute_dtype", None) or self.compute_dtype

    def _state_structure(self, batch_size):
        """The states' shapes, nested as the cell takes its states.

        A flat list, one shape per state, except for stacked cells
        (`keras.layers.StackedRNNCells`): one entry per cell, a list of
        shapes, or a single shape for a cell whose `state_size` is one
        number (as `StackedRNNCells` passes them).
        """
        if isinstance(self.cell, keras.layers.StackedRNNCells):
            return [
                _cell_state_shapes(c, batch_size, unwrap_single=True)
                for c in self.cell.cells
            ]
        return _cell_state_shapes(self.cell, batch_size)

    def _state_shapes(self, batch_size):
        """The states' shapes, flat (the order of `tree.flatten`)."""
        return _flatten_shapes(self._state_structure(batch_size))

    def _output_shape(self, batch_size):
        """Shape of one step's output (a zoo cell's is its first state's)."""
        if not self._is_zoo_cell():
            size = getattr(self.cell, "output_size", None)
            if size is not None:
                return (batch_size,) + _as_shape(size)
        return self._state_shapes(batch_size)[0]

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_sequences_shape(sequences_shape)
        step_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if not self.cell.built:
            self.cell.build(step_shape)
        if self.stateful:
            batch_size = sequences_shape[0]
            if batch_size is None:
                raise ValueError(
                    "A stateful RNN needs a fixed batch size: pass "
                    "`batch_size=` to `keras.Input`. Received: "
                    f"sequences.shape={tuple(sequences_shape)}"
                )
            self.states = [
                self.add_weight(
                    shape=shape, name=f"state_{i}", initializer="zeros", trainable=False
                )
                for i, shape in enumerate(self._state_shapes(batch_size))
            ]

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch_size = sequences_shape[0]
        output_shape = self._output_shape(batch_size)
        if self.return_sequences:
            output_shape = (batch_size, sequences_shape[1]) + tuple(output_shape[1:])
        if self.return_state:
            return (tuple(output_shape),) + tuple(self._state_structure(batch_size))
        return tuple(output_shape)

    def compute_mask(self, sequences, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._state_structure(None))
        return output_mask

    # -- states ----------------------------------------------------------
    def reset_state(self):
        if self.states is not None:
            for state in self.states:
                state.assign(ops.zeros(state.shape, dtype=state.dtype))

    def reset_states(self):
        self.reset_state()

    def get_initial_state(self, batch_size):
        """Zero states, nested as the cell takes them (see `call`)."""
        if hasattr(self.cell, "get_initial_state"):
            state = self.cell.get_initial_state(batch_size=batch_size)
            return list(state) if tree.is_nested(state) else [state]
        dtype = self._cell_dtype()
        return [ops.zeros(s, dtype=dtype) for s in self._state_shapes(batch_size)]

    def _check_initial_state(self, initial_state, batch_size):
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = tree.flatten(list(initial_state))
        expected = self._state_shapes(batch_size)
        if len(initial_state) != len(expected):
            raise ValueError(
                f"{self.__class__.__name__} `{self.name}` expects "
                f"{len(expected)} initial state(s) of shapes {expected}. "
                f"Received: {len(initial_state)} initial state(s) of shapes "
                f"{[tuple(s.shape) for s in initial_state]}"
            )
        for i, (state, shape) in enumerate(zip(initial_state, expected)):
            got = tuple(state.shape)
            ok = len(got) == len(shape) and all(
                a is None or b is None or a == b for a, b in zip(got, shape)
            )
            if not ok:
                raise ValueError(
                    f"{self.__class__.__name__} `{self.name}`: initial_state[{i}] "
                    f"must have shape {shape}. Received: "
                    f"initial_state[{i}].shape={got}"
                )
        return initial_state

    def _check_stateful_batch_size(self, sequences_shape):
        expected = self.states[0].shape[0]
        if sequences_shape[0] is not None and sequences_shape[0] != expected:
            raise ValueError(
                f"{self.__class__.__name__} `{self.name}` is stateful: the "
                "batch size of `sequences` must be the batch size of its "
                f"states, {expected}. Received: "
                f"sequences.shape={tuple(sequences_shape)}"
            )

    # -- dropout masks of cells called step by step -----------------------
    def _configure_dropout_masks(self, cell, step_input, states):
        """Create the dropout masks of `cell` before the loop (Keras's protocol).

        A cell with Keras's `DropoutRNNCell` methods caches one mask per
        sequence: created here, outside the loop (under JAX, a mask first
        drawn inside the scan would leak its tracer), and dropped by
        `_reset_dropout_masks` after it. Stacked cells get theirs from the
        input each of them reads (the previous cell's output).
        """
        if _has_dropout_protocol(cell):
            first = tree.flatten(states)[0] if tree.is_nested(states) else states
            cell.get_dropout_mask(step_input)
            cell.get_recurrent_dropout_mask(first)
        if isinstance(cell, keras.layers.StackedRNNCells):
            cells = list(cell.cells)
            for i, (c, s) in enumerate(zip(cells, states)):
                self._configure_dropout_masks(c, step_input, s)
                if not any(_uses_dropout(later) for later in cells[i + 1 :]):
                    break
                s = list(s) if tree.is_nested(s) else [s]
                step_input, _ = c(step_input, s)

    def _reset_dropout_masks(self, cell):
        if _has_dropout_protocol(cell):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        if isinstance(cell, keras.layers.StackedRNNCells):
            for c in cell.cells:
                self._reset_dropout_masks(c)

    # -- the loop --------------------------------------------------------
    def call(
        self,
        sequences,
        initial_state=None,
        mask=None,
        training=False,
        hidden_offsets=None,
    ):
        """See the class docstring; `hidden_offsets` is for diagnostics.

        `hidden_offsets` (same shape as the per-step outputs, batch-major) is
        added to each step's output and first state before it feeds the next
        step. With zeros, the gradient of a loss with respect to it is the
        gradient with respect to the hidden state `h_t` through the
        recurrence (used by `zoo.diagnostics.gradient_flow`).
        """
        self._check_sequences_shape(sequences.shape)
        cell_dtype = self._cell_dtype()
        is_zoo_cell = self._is_zoo_cell()
        if is_zoo_cell:
            # Integer sequences too (Keras's layers take them); other cells
            # get the sequence as it is, as in `keras.layers.RNN`.
            sequences = ops.cast(sequences, cell_dtype)
        batch_size = ops.shape(sequences)[0]
        if self.stateful and self.states is not None:
            self._check_stateful_batch_size(sequences.shape)
        if initial_state is None:
            if self.stateful:
                initial_state = [ops.convert_to_tensor(s) for s in self.states]
            else:
                initial_state = tree.flatten(self.get_initial_state(batch_size))
        else:
            initial_state = self._check_initial_state(initial_state, sequences.shape[0])
        initial_state = [ops.cast(s, cell_dtype) for s in initial_state]
        if mask is not None:
            mask = ops.cast(mask, "bool")
            if tuple(mask.shape[:2]) != tuple(sequences.shape[:2]) and None not in mask.shape[:2] and None not in sequences.shape[:2]:
                raise ValueError(
                    f"{self.__class__.__name__} `{self.name}`: `mask` must have "
                    f"shape (batch, time) = {tuple(sequences.shape[:2])}. "
                    f"Received: mask.shape={tuple(mask.shape)}"
                )

        structure = self._state_structure(sequences.shape[0])
        result = None
        if hidden_offsets is None:
            result = self.fused_call(sequences, initial_state, mask, training)
        if result is None and hidden_offsets is None and not training and self._compiles_loops(
            sequences
        ):
            result = self._compiled_inference_loop(sequences, initial_state, mask)
        if result is None:
            if not is_zoo_cell:
                self._configure_dropout_masks(
                    self.cell, sequences[:, 0], _pack_states(structure, initial_state)
                )
            try:
                result = self.inner_loop(
                    sequences, initial_state, mask, training, hidden_offsets
                )
            finally:
                if not is_zoo_cell:
                    self._reset_dropout_masks(self.cell)
        last_output, outputs, states = result
        dtype = self.compute_dtype
        last_output = ops.cast(last_output, dtype)
        if outputs is not None:
            outputs = ops.cast(outputs, dtype)
        states = [ops.cast(s, dtype) for s in states]

        if self.stateful:
            for variable, state in zip(self.states, states):
                variable.assign(ops.cast(state, variable.dtype))
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output,) + tuple(_pack_states(structure, states))
        return output

    def fused_call(self, sequences, initial_state, mask, training):
        """Hook for a backend's fused kernel; `None` means not applicable."""
        return None

    def _compiles_loops(self, sequences):
        """Whether this call runs its time loops as XLA functions."""
        if (
            self.jit_compile is False
            or self.unroll
            or not compiles_functions()
            or not hasattr(self.cell, "project_inputs")
        ):
            return False
        if self.jit_compile is True:
            return True
        return in_graph() and sequences.shape[1] is not None

    def _compiled_inference_loop(self, sequences, initial_state, mask):
        """The inference loop as one XLA function (see `jit_compile`).

        Each step projects its own input. The cell's weights enter as
        arguments (their values, under a `keras.StatelessScope`), so the
        compiled function captures no variable and stays differentiable.
        """
        weights = list(self.cell.weights)
        if self._compiled_inference.fn is None:

            def loop(sequences, initial_state, mask, values):
                with keras.StatelessScope(state_mapping=list(zip(weights, values))):
                    return self.inner_loop(
                        sequences,
                        initial_state,
                        mask,
                        training=False,
                        project_per_step=True,
                    )

            self._compiled_inference.fn = xla_function(loop)
        # The variables' own dtype (inside a mixed-precision call, `.value`
        # is already cast to the compute dtype; the scope casts again).
        values = [ops.cast(w.value, w.dtype) for w in weights]
        return self._compiled_inference.fn(sequences, list(initial_state), mask, values)

    def inner_loop(
        self,
        sequences,
        initial_state,
        mask,
        training,
        hidden_offsets=None,
        project_per_step=False,
    ):
        cell = self.cell
        rank = len(sequences.shape)
        to_time_major = (1, 0) + tuple(range(2, rank))
        xs = ops.transpose(sequences, to_time_major)
        batch_size = ops.shape(sequences)[0]
        is_zoo_cell = hasattr(cell, "project_inputs")
        if is_zoo_cell:
            step_shape = (sequences.shape[0],) + tuple(sequences.shape[2:])
            context = cell.begin_sequence(batch_size, training=training, input_shape=step_shape)
            projected = xs if project_per_step else cell.project_inputs(xs, context)

            def cell_step(x_t, states):
                if project_per_step:  # a sequence of one step
                    x_t = cell.project_inputs(ops.expand_dims(x_t, 0), context)[0]
                return cell.step(x_t, states, context)

        else:  # any Keras cell, step by step, its states nested as it takes them
            projected = xs
            kwargs = {"training": training} if getattr(cell, "_call_has_training_arg", False) else {}
            structure = self._state_structure(None)

            def cell_step(x_t, states):
                out, new_states = cell(x_t, _pack_states(structure, states), **kwargs)
                return out, tree.flatten(new_states)

        if (
            is_zoo_cell
            and training
            and hidden_offsets is None
            and not self.unroll
            and hasattr(cell, "scan_with_gradient")
            and prefers_custom_loop_gradient()
        ):
            # Training: the cell's own loop with a hand-written backward pass
            # (same numbers, fewer ops per step), masked or not; `None` when
            # the cell's configuration has none.
            loop_input = ops.flip(projected, axis=0) if self.go_backwards else projected
            loop_mask = None
            if mask is not None:
                loop_mask = ops.transpose(mask, (1, 0))
                if self.go_backwards:
                    loop_mask = ops.flip(loop_mask, axis=0)
            result = cell.scan_with_gradient(
                loop_input,
                list(initial_state),
                context,
                self.return_sequences,
                compile_loops=self._compiles_loops(sequences),
                mask=loop_mask,
            )
            if result is not None:
                last_output, ys, states = result
                if loop_mask is not None:
                    # The loop gave the carried hidden states; Keras's outputs
                    # are the last unmasked output (zeros before the first
                    # unmasked step), or zeros at masked steps.
                    seen = ops.greater(ops.cumsum(ops.cast(loop_mask, "int32"), axis=0), 0)
                    last_output = ops.where(ops.expand_dims(seen[-1], -1), last_output,
                                            ops.zeros_like(last_output))
                    if self.return_sequences:
                        keep = loop_mask if self.zero_output_for_mask else seen
                        ys = ops.where(ops.expand_dims(keep, -1), ys, ops.zeros_like(ys))
                outputs = None
                if self.return_sequences:
                    outputs = ops.transpose(ys, to_time_major)
                return last_output, outputs, list(states)

        loop_xs = {"x": projected}
        if mask is not None:
            loop_xs["mask"] = ops.transpose(mask, (1, 0))
        if hidden_offsets is not None:
            loop_xs["offset"] = ops.transpose(
                ops.cast(hidden_offsets, initial_state[0].dtype), to_time_major
            )
        if self.go_backwards:
            loop_xs = tree.map_structure(lambda t: ops.flip(t, axis=0), loop_xs)

        initial_state = list(initial_state)
        # A zoo cell's output is its first state, so without a mask the loop
        # carries the states alone (one loop variable and one gradient
        # accumulator fewer); a mask needs the last unmasked output too, and
        # any other cell's output is carried separately.
        masked = mask is not None
        carries_output = masked or not is_zoo_cell
        if is_zoo_cell:
            no_output = ops.zeros_like(initial_state[0])
        else:
            no_output = ops.zeros(
                self._output_shape(batch_size), dtype=initial_state[0].dtype
            )
        init = (initial_state, no_output) if carries_output else initial_state
        zero_output_for_mask = self.zero_output_for_mask

        def body(carry, inputs):
            states, prev_output = carry if carries_output else (carry, None)
            output, new_states = cell_step(inputs["x"], states)
            new_states = list(new_states)
            if "offset" in inputs:
                output = output + inputs["offset"]
                new_states[0] = new_states[0] + inputs["offset"]
            if not masked:
                if carries_output:
                    return (new_states, output), output
                return new_states, output
            m = ops.reshape(inputs["mask"], (-1,) + (1,) * (len(output.shape) - 1))
            new_states = [ops.where(m, n, s) for n, s in zip(new_states, states)]
            output = ops.where(m, output, prev_output)
            y = ops.where(m, output, ops.zeros_like(output)) if zero_output_for_mask else output
            return (new_states, output), y

        carry, ys = scan(
            body,
            init,
            loop_xs,
            length=sequences.shape[1],
            collect=self.return_sequences,
            unroll=self.unroll,
        )
        states, last_output = carry if carries_output else (carry, carry[0])
        outputs = None
        if self.return_sequences:
            outputs = ops.transpose(ys, to_time_major)
        return last_output, outputs, list(states)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "jit_compile": self.jit_compile,
                "cell": keras.saving.serialize_keras_object(self.cell),
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cell"] = keras.saving.deserialize_keras_object(
            config["cell"], custom_objects=custom_objects
        )
        return cls(**config)


def _as_shape(size):
    """A state or output size (a number or a shape) as a shape tuple."""
    if isinstance(size, int):
        return (size,)
    return tuple(size)


def _cell_state_shapes(cell, batch_size, unwrap_single=False):
    if hasattr(cell, "state_shapes"):
        return [tuple(s) for s in cell.state_shapes(batch_size)]
    sizes = cell.state_size
    if not isinstance(sizes, (list, tuple)):
        shape = (batch_size,) + _as_shape(sizes)
        return shape if unwrap_single else [shape]
    return [(batch_size,) + _as_shape(s) for s in sizes]


def _flatten_shapes(structure):
    """Shapes (tuples) from nested lists of them."""
    if isinstance(structure, tuple):
        return [structure]
    return [shape for part in structure for shape in _flatten_shapes(part)]


def _pack_states(structure, flat):
    """Flat states nested as `structure` (from `RNN._state_structure`)."""
    flat = iter(flat)

    def pack(part):
        if isinstance(part, tuple):
            return next(flat)
        return [pack(p) for p in part]

    return pack(structure)


def _has_dropout_protocol(cell):
    """Whether `cell` caches its dropout masks as Keras's `DropoutRNNCell`."""
    return all(
        hasattr(cell, name)
        for name in (
            "get_dropout_mask",
            "get_recurrent_dropout_mask",
            "reset_dropout_mask",
            "reset_recurrent_dropout_mask",
        )
    )


def _uses_dropout(cell):
    if isinstance(cell, keras.layers.StackedRNNCells):
        return any(_uses_dropout(c) for c in cell.cells)
    return _has_dropout_protocol(cell) and (
        getattr(cell, "dropout", 0) > 0 or getattr(cell, "recurrent_dropout", 0) > 0
    )
