"""Greedy decoding over a step function, in `keras.ops` (every backend)."""

from keras import ops
from keras import tree

from zoo.decoding._common import call_step
from zoo.decoding._common import check_decoding_args
from zoo.decoding._common import start_tokens
from zoo.decoding._common import write_at


def greedy_search(
    step_fn,
    initial_state,
    start_ids,
    end_id,
    max_length,
    constants=None,
    pad_id=0,
):
    """Generate the most likely next token at each step until end-of-sequence.

    The loop is a `keras.ops.while_loop`: it compiles under `tf.function`
    (so it can live inside a SavedModel), `jax.jit` and runs eagerly on torch,
    and stops as soon as every sequence of the batch has produced `end_id`.

    Args:
        step_fn: `step_fn(token_ids, state, constants) -> (logits, state)`.
            `token_ids` is an int32 vector `(batch,)` (the previous tokens),
            `state` a nested structure of tensors with leading dimension
            `batch`, returned with the same structure and shapes;
            `constants` is passed through unchanged (e.g. encoder outputs).
            `logits` are `(batch, vocabulary)` logits or log-probabilities.
        initial_state: the decoder's state before the first token.
        start_ids: the first input token: an int or a vector `(batch,)`.
        end_id: the end-of-sequence token id; generation of a sequence stops
            after it (it is included in the output). `None` generates
            `max_length` tokens.
        max_length: the most tokens to generate.
        constants: anything `step_fn` needs that does not change.
        pad_id: fills the positions after a sequence's end.

    Returns:
        `(tokens, lengths)`: int32 `(batch, max_length)` tokens (the end
        token included, `pad_id` after it) and int32 `(batch,)` lengths.

    Example:

    >>> table = keras.ops.log(keras.ops.array([[0.1, 0.9], [0.8, 0.2]]))
    >>> step = lambda ids, state, _: (keras.ops.take(table, ids, axis=0), state)
    >>> tokens, lengths = greedy_search(step, (), start_ids=[0], end_id=0,
    ...                                 max_length=4)
    >>> keras.ops.convert_to_numpy(tokens).tolist()
    [[1, 0, 0, 0]]
    """
    check_decoding_args(max_length, end_id)
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
        next_ids = ops.cast(ops.argmax(logits, axis=-1), "int32")
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
