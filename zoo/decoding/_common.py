"""Pieces shared by the decoders: argument checks and nest helpers."""

from keras import ops
from keras import tree

# Stands in for -inf in scores: finite, so that sums and differences of
# "impossible" scores never produce NaN.
NEG_INF = -1e9


def check_decoding_args(max_length, end_id, vocabulary_size=None, beam_size=None):
    if not isinstance(max_length, int) or max_length < 1:
        raise ValueError(
            "`max_length` must be a positive int (the most tokens to "
            f"generate). Received: max_length={max_length!r}"
        )
    if end_id is not None and (not isinstance(end_id, int) or end_id < 0):
        raise ValueError(
            "`end_id` must be a non-negative int token id or None. "
            f"Received: end_id={end_id!r}"
        )
    if beam_size is not None and (not isinstance(beam_size, int) or beam_size < 1):
        raise ValueError(
            f"`beam_size` must be a positive int. Received: beam_size={beam_size!r}"
        )


def start_tokens(start_ids, batch_size=None):
    """`start_ids` as an int32 vector of one token per batch element."""
    start = ops.convert_to_tensor(start_ids)
    if len(start.shape) == 0:
        if batch_size is None:
            raise ValueError(
                "A scalar `start_ids` needs `batch_size`. "
                f"Received: start_ids={start_ids!r}, batch_size=None"
            )
        start = ops.full((batch_size,), start)
    if len(start.shape) != 1:
        raise ValueError(
            "`start_ids` must be a scalar or a vector `(batch,)` of token ids. "
            f"Received: start_ids.shape={tuple(start.shape)}"
        )
    return ops.cast(start, "int32")


def call_step(step_fn, tokens, state, constants, vocabulary_check=True):
    logits, new_state = step_fn(tokens, state, constants)
    if len(logits.shape) != 2:
        raise ValueError(
            "`step_fn` must return logits of shape (batch, vocabulary) and "
            f"the new state. Received: logits.shape={tuple(logits.shape)}"
        )
    # The loop needs the state's structure and dtypes unchanged.
    tree.assert_same_structure(state, new_state)
    new_state = tree.map_structure(
        lambda old, new: ops.cast(new, old.dtype), state, new_state
    )
    return ops.cast(logits, "float32"), new_state


def write_at(buffer, position, values):
    """`buffer[:, ..., position] = values` without a scatter (every backend)."""
    length = buffer.shape[-1]
    at = ops.equal(ops.arange(length, dtype="int32"), position)
    return ops.where(at, ops.expand_dims(values, -1), buffer)


def token_loop(step_fn, initial_state, start_ids, end_id, max_length, constants, pad_id, choose):
    """Generate one token a step, `choose(logits, step) -> ids`, until every
    sequence has produced `end_id` or `max_length` tokens.

    The loop of greedy search and sampling: a `keras.ops.while_loop` (it
    compiles under `tf.function` and `jax.jit`). Returns `(tokens, lengths)`.
    """
    flat = tree.flatten(initial_state)
    batch_size = ops.shape(flat[0])[0] if flat else None
    tokens_in = start_tokens(start_ids, batch_size)
    batch_size = ops.shape(tokens_in)[0]
    tokens = ops.full((batch_size, max_length), pad_id, dtype="int32")
    finished = ops.zeros((batch_size,), dtype="bool")
    lengths = ops.zeros((batch_size,), dtype="int32")
    step = ops.convert_to_tensor(0, dtype="int32")

    def cond(step, tokens_in, state, tokens, finished, lengths):
        return ops.logical_and(
            ops.less(step, max_length), ops.logical_not(ops.all(finished))
        )

    def body(step, tokens_in, state, tokens, finished, lengths):
        logits, state = call_step(step_fn, tokens_in, state, constants)
        next_ids = ops.cast(choose(logits, step), "int32")
        next_ids = ops.where(finished, pad_id, next_ids)
        tokens = write_at(tokens, step, next_ids)
        lengths = lengths + ops.cast(ops.logical_not(finished), "int32")
        if end_id is not None:
            finished = ops.logical_or(finished, ops.equal(next_ids, end_id))
        return step + 1, next_ids, state, tokens, finished, lengths

    _, _, _, tokens, _, lengths = ops.while_loop(
        cond,
        body,
        (step, tokens_in, initial_state, tokens, finished, lengths),
        maximum_iterations=max_length,
    )
    return tokens, lengths
