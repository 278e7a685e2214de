"""Greedy decoding over a step function, in `keras.ops` (every backend)."""

from keras import ops

from zoo.decoding._common import check_decoding_args
from zoo.decoding._common import token_loop


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
    return token_loop(
        step_fn, initial_state, start_ids, end_id, max_length, constants, pad_id,
        choose=lambda logits, step: ops.argmax(logits, axis=-1),
    )
