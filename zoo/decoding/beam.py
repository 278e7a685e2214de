"""Batched beam search with a length penalty, in `keras.ops` (every backend)."""

from keras import ops
from keras import tree

from zoo.decoding._common import NEG_INF
from zoo.decoding._common import call_step
from zoo.decoding._common import check_decoding_args
from zoo.decoding._common import start_tokens
from zoo.decoding._common import write_at


def length_penalty(length, alpha):
    """GNMT's length penalty `((5 + length) / 6) ** alpha` (Wu et al., 2016).

    A hypothesis's score is its log-probability divided by this; `alpha=0`
    ranks by log-probability alone, larger `alpha` favours longer outputs.
    """
    length = ops.cast(length, "float32")
    return ops.power((5.0 + length) / 6.0, alpha)


def _gather_beams(values, indices):
    """`values[b, indices[b, k]]` for `values` `(batch, beams, ...)`."""
    extra = len(values.shape) - 2
    idx = ops.reshape(indices, tuple(ops.shape(indices)) + (1,) * extra)
    return ops.take_along_axis(values, idx, axis=1) if extra == 0 else (
        ops.take_along_axis(
            values,
            ops.broadcast_to(idx, tuple(ops.shape(indices)) + tuple(ops.shape(values)[2:])),
            axis=1,
        )
    )


def _tile(x, beam_size):
    """`(batch, ...)` -> `(batch * beam_size, ...)`, each row repeated."""
    return ops.repeat(x, beam_size, axis=0)


def repeated_ngram_mask(tokens, step, ngram_size, vocabulary_size):
    """Which next tokens would repeat an n-gram: bool `(rows, vocabulary)`.

    `tokens` `(rows, max_length)` holds each row's generated tokens at
    positions `0 .. step - 1`. A token is banned for a row when the row's
    last `ngram_size - 1` tokens, followed by it, already occur as an
    n-gram earlier in the row (the `no_repeat_ngram_size` rule of Paulus
    et al. 2017, as in fairseq and Hugging Face generation). Built with
    one scatter, without a `(rows, max_length, vocabulary)` tensor.
    """
    n = ngram_size
    rows = ops.shape(tokens)[0]
    length = tokens.shape[-1]
    if n < 1 or length is None or length < n:
        return ops.zeros((rows, vocabulary_size), dtype="bool")
    starts = length - n + 1  # n-grams that fit: they start at 0 .. length - n
    match = ops.ones((rows, starts), dtype="bool")
    for i in range(n - 1):
        # The row's (n - 1 - i)-th last token, against each n-gram's i-th.
        position = ops.maximum(step - (n - 1) + i, 0)
        last = ops.take(tokens, ops.reshape(position, (1,)), axis=1)  # (rows, 1)
        match = ops.logical_and(match, ops.equal(tokens[:, i : i + starts], last))
    # Only complete n-grams before the current step, and only once the row
    # has n - 1 tokens of its own.
    start = ops.arange(starts, dtype="int32")
    valid = ops.logical_and(ops.less_equal(start, step - n), ops.greater_equal(step, n - 1))
    match = ops.logical_and(match, ops.expand_dims(valid, 0))
    following = tokens[:, n - 1 : n - 1 + starts]  # the n-gram's last token
    row = ops.broadcast_to(ops.expand_dims(ops.arange(rows, dtype="int32"), 1), ops.shape(following))
    indices = ops.stack([ops.reshape(row, (-1,)), ops.reshape(following, (-1,))], axis=1)
    counts = ops.scatter(indices, ops.reshape(ops.cast(match, "float32"), (-1,)),
                         (rows, vocabulary_size))
    return ops.greater(counts, 0.0)


def beam_search(
    step_fn,
    initial_state,
    start_ids,
    end_id,
    max_length,
    beam_size=5,
    alpha=0.6,
    constants=None,
    pad_id=0,
    no_repeat_ngram_size=0,
):
    """Find high-scoring sequences by keeping the `beam_size` best prefixes.

    Every batch element keeps `beam_size` *alive* prefixes (ranked by
    log-probability) and the `beam_size` best *finished* hypotheses (ranked
    by log-probability / `length_penalty(length, alpha)`), as in
    Tensor2Tensor's beam search: each step extends the alive prefixes,
    moves those that produced `end_id` to the finished pool, and stops early
    once no alive prefix can still beat the worst finished hypothesis of
    every batch element. With `beam_size=1` and `alpha=0` it is greedy search.

    The state is reordered with the beams at every step; `constants` (e.g.
    encoder outputs) are tiled once and never reordered, since all beams of a
    batch element share them.

    Args:
        step_fn: `step_fn(token_ids, state, constants) -> (logits, state)`,
            as for `greedy_search`; it sees `batch * beam_size` rows.
        initial_state: nested structure of `(batch, ...)` tensors.
        start_ids: the first input token: an int or a vector `(batch,)`.
        end_id: the end-of-sequence token id.
        max_length: the most tokens a hypothesis may have (end included).
        beam_size: the number of hypotheses kept per batch element.
        alpha: the length penalty's exponent (0 = no normalization).
        constants: nested structure of `(batch, ...)` tensors passed to
            `step_fn` tiled to `batch * beam_size` rows, or None.
        pad_id: fills positions after a hypothesis's end.
        no_repeat_ngram_size: if > 0, no hypothesis contains the same
            n-gram of this many tokens twice (`repeated_ngram_mask`): a
            guard against the loops ("y los hijos de los hijos de los
            hijos ...") an undertrained model falls into on unfamiliar
            input. 0 (the default) turns it off.

    Returns:
        `(tokens, scores, lengths)`: int32 `(batch, beam_size, max_length)`
        hypotheses, best first; float32 `(batch, beam_size)` normalized
        scores; int32 `(batch, beam_size)` lengths (end token included). A
        hypothesis that reached `max_length` without `end_id` is kept with
        its score normalized at `max_length`.

    Example:

    >>> table = keras.ops.log(keras.ops.array([[0.1, 0.9], [0.8, 0.2]]))
    >>> step = lambda ids, state, _: (keras.ops.take(table, ids, axis=0), state)
    >>> tokens, scores, lengths = beam_search(
    ...     step, (), start_ids=[0], end_id=0, max_length=3, beam_size=2)
    >>> keras.ops.convert_to_numpy(tokens[0, 0]).tolist()
    [1, 0, 0]

    Reference:
        Sutskever et al., [Sequence to Sequence Learning with Neural
        Networks](https://arxiv.org/abs/1409.3215), 2014; Wu et al.,
        [Google's Neural Machine Translation System](
        https://arxiv.org/abs/1609.08144), 2016 (length penalty).
    """
    check_decoding_args(max_length, end_id, beam_size=beam_size)
    if end_id is None:
        raise ValueError("beam_search needs an `end_id`. Received: end_id=None")
    if not alpha >= 0:
        # The early stop bounds an alive prefix's final score by its score
        # at max_length, which holds only when the penalty grows with length.
        raise ValueError(
            f"`alpha` must be >= 0. Received: alpha={alpha!r}"
        )
    if not isinstance(no_repeat_ngram_size, int) or no_repeat_ngram_size < 0:
        raise ValueError(
            "`no_repeat_ngram_size` must be an int >= 0 (0 turns the guard off). "
            f"Received: no_repeat_ngram_size={no_repeat_ngram_size!r}"
        )
    k = beam_size
    flat = tree.flatten(initial_state)
    batch_size = ops.shape(flat[0])[0] if flat else None
    first = start_tokens(start_ids, batch_size)
    batch_size = ops.shape(first)[0]

    state = tree.map_structure(lambda s: _tile(s, k), initial_state)
    if constants is not None:
        constants = tree.map_structure(lambda c: _tile(c, k), constants)
    alive_tokens = ops.full((batch_size, k, max_length), pad_id, dtype="int32")
    # Only the first beam is live at the start, so the first step's top-k
    # are k different tokens rather than k copies of the best one.
    alive_logp = ops.tile(
        ops.expand_dims(
            ops.concatenate(
                [ops.zeros((1,)), ops.full((k - 1,), NEG_INF)], axis=0
            ),
            0,
        ),
        (batch_size, 1),
    )
    alive_last = ops.reshape(_tile(first, k), (batch_size, k))
    finished_tokens = ops.full((batch_size, k, max_length), pad_id, dtype="int32")
    finished_scores = ops.full((batch_size, k), NEG_INF)
    finished_lengths = ops.zeros((batch_size, k), dtype="int32")
    step = ops.convert_to_tensor(0, dtype="int32")
    max_penalty = length_penalty(max_length, alpha)
    batch_offsets = ops.expand_dims(ops.arange(batch_size, dtype="int32") * k, 1)

    def cond(step, alive_last, alive_tokens, alive_logp, state,
             finished_tokens, finished_scores, finished_lengths):
        # Log-probabilities only fall, so an alive prefix's best possible
        # final score is its current log-probability at the largest penalty
        # (for alpha >= 0).
        best_alive = alive_logp[:, 0] / max_penalty
        worst_finished = ops.min(finished_scores, axis=1)
        undecided = ops.any(ops.greater_equal(best_alive, worst_finished))
        return ops.logical_and(ops.less(step, max_length), undecided)

    def body(step, alive_last, alive_tokens, alive_logp, state,
             finished_tokens, finished_scores, finished_lengths):
        logits, state = call_step(
            step_fn, ops.reshape(alive_last, (-1,)), state, constants
        )
        vocabulary = logits.shape[-1] or ops.shape(logits)[-1]
        logp = ops.log_softmax(logits, axis=-1)
        if no_repeat_ngram_size:
            banned = repeated_ngram_mask(ops.reshape(alive_tokens, (-1, max_length)), step,
                                         no_repeat_ngram_size, vocabulary)
            logp = ops.where(banned, NEG_INF, logp)
        logp = ops.reshape(logp, (batch_size, k, vocabulary))
        candidates = ops.expand_dims(alive_logp, -1) + logp
        candidates = ops.reshape(candidates, (batch_size, k * vocabulary))
        # 2k candidates: even if k of them end here, k stay alive.
        top_logp, top_index = ops.top_k(candidates, k=2 * k)
        top_index = ops.cast(top_index, "int32")
        top_beam = top_index // vocabulary
        top_token = top_index % vocabulary
        top_tokens = _gather_beams(alive_tokens, top_beam)
        top_tokens = write_at(top_tokens, step, top_token)
        ended = ops.equal(top_token, end_id)

        # The next alive set: the k best that did not end.
        alive_rank = ops.where(ended, NEG_INF, top_logp)
        new_logp, alive_pick = ops.top_k(alive_rank, k=k)
        alive_pick = ops.cast(alive_pick, "int32")
        alive_tokens = _gather_beams(top_tokens, alive_pick)
        alive_last = _gather_beams(top_token, alive_pick)
        source_beam = _gather_beams(top_beam, alive_pick)
        rows = ops.reshape(batch_offsets + source_beam, (-1,))
        state = tree.map_structure(lambda s: ops.take(s, rows, axis=0), state)

        # The finished pool: the k best of the old pool and those ending now.
        length = step + 1
        now_scores = ops.where(ended, top_logp / length_penalty(length, alpha), NEG_INF)
        pool_tokens = ops.concatenate([finished_tokens, top_tokens], axis=1)
        pool_scores = ops.concatenate([finished_scores, now_scores], axis=1)
        pool_lengths = ops.concatenate(
            [finished_lengths, ops.full(ops.shape(top_token), length, dtype="int32")],
            axis=1,
        )
        finished_scores, pick = ops.top_k(pool_scores, k=k)
        pick = ops.cast(pick, "int32")
        finished_tokens = _gather_beams(pool_tokens, pick)
        finished_lengths = _gather_beams(pool_lengths, pick)
        return (step + 1, alive_last, alive_tokens, new_logp, state,
                finished_tokens, finished_scores, finished_lengths)

    (step, _, alive_tokens, alive_logp, _, finished_tokens, finished_scores,
     finished_lengths) = ops.while_loop(
        cond,
        body,
        (step, alive_last, alive_tokens, alive_logp, state,
         finished_tokens, finished_scores, finished_lengths),
        maximum_iterations=max_length,
    )
    # Prefixes that never ended (they ran to max_length) compete with the
    # finished ones, scored at their length.
    alive_scores = alive_logp / length_penalty(step, alpha)
    alive_scores = ops.where(ops.greater(alive_logp, NEG_INF / 2), alive_scores, NEG_INF)
    alive_scores = ops.where(ops.greater_equal(step, max_length), alive_scores, NEG_INF)
    pool_scores = ops.concatenate([finished_scores, alive_scores], axis=1)
    pool_tokens = ops.concatenate([finished_tokens, alive_tokens], axis=1)
    pool_lengths = ops.concatenate(
        [finished_lengths, ops.full(ops.shape(alive_scores), step, dtype="int32")], axis=1
    )
    scores, pick = ops.top_k(pool_scores, k=k)
    pick = ops.cast(pick, "int32")
    return _gather_beams(pool_tokens, pick), scores, _gather_beams(pool_lengths, pick)
