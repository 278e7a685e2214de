"""Greedy and beam search against exhaustive search on a toy decoder."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from zoo.decoding import beam_search
from zoo.decoding import greedy_search
from zoo.decoding import length_penalty
from zoo.decoding import repeated_ngram_mask

END = 0
VOCAB = 4


def _table(seed, steps):
    # log p(next | step, previous token, batch element): a decoder whose
    # choice depends on its state (the step) and on the token fed back.
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(2, steps + 1, VOCAB, VOCAB)) * 2.0
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return logp.astype("float32")


def _step_fn(table):
    table_t = ops.convert_to_tensor(table)

    def step(ids, state, constants):
        t, row = state  # step counter and batch element index, both (batch,)
        rows = ops.stack([row, t, ids], axis=1)
        flat = ops.reshape(table_t, (-1, VOCAB))
        shape = table.shape
        index = rows[:, 0] * shape[1] * shape[2] + rows[:, 1] * shape[2] + rows[:, 2]
        logits = ops.take(flat, index, axis=0)
        if constants is not None:
            logits = logits + 0.0 * ops.sum(constants)
        return logits, (t + 1, row)

    return step


def _initial_state(batch):
    return (ops.zeros((batch,), "int32"), ops.arange(batch, dtype="int32"))


def _exhaustive(table, b, start, max_length, alpha):
    best = []
    for n in range(1, max_length + 1):
        for seq in itertools.product(range(VOCAB), repeat=n):
            if END in seq[:-1]:
                continue
            if n < max_length and seq[-1] != END:
                continue
            prev, logp = start, 0.0
            for t, tok in enumerate(seq):
                logp += table[b, t, prev, tok]
                prev = tok
            lp = ((5.0 + n) / 6.0) ** alpha
            best.append((logp / lp, seq))
    best.sort(reverse=True)
    return best


def _greedy_reference(table, b, start, max_length):
    prev, out = start, []
    for t in range(max_length):
        tok = int(np.argmax(table[b, t, prev]))
        out.append(tok)
        prev = tok
        if tok == END:
            break
    return out


@pytest.mark.backend_parity
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_matches_reference(seed):
    table = _table(seed, 6)
    tokens, lengths = greedy_search(
        _step_fn(table), _initial_state(2), start_ids=[1, 2], end_id=END, max_length=6
    )
    tokens, lengths = ops.convert_to_numpy(tokens), ops.convert_to_numpy(lengths)
    for b, start in enumerate([1, 2]):
        ref = _greedy_reference(table, b, start, 6)
        assert lengths[b] == len(ref)
        assert tokens[b, : len(ref)].tolist() == ref
        assert (tokens[b, len(ref):] == 0).all()


@pytest.mark.backend_parity
@pytest.mark.parametrize("alpha", [0.0, 0.6, 2.0])
@pytest.mark.parametrize("seed", [0, 3])
def test_wide_beam_is_exhaustive_search(seed, alpha):
    max_length = 4
    table = _table(seed, max_length)
    # 4**4 = 256 complete sequences at most: a beam that wide misses none.
    tokens, scores, lengths = beam_search(
        _step_fn(table), _initial_state(2), start_ids=[3, 1], end_id=END,
        max_length=max_length, beam_size=64, alpha=alpha,
    )
    tokens, scores, lengths = (ops.convert_to_numpy(x) for x in (tokens, scores, lengths))
    for b, start in enumerate([3, 1]):
        ref = _exhaustive(table, b, start, max_length, alpha)
        for rank in range(5):
            ref_score, ref_seq = ref[rank]
            np.testing.assert_allclose(scores[b, rank], ref_score, rtol=1e-5, atol=1e-5)
            assert lengths[b, rank] == len(ref_seq)
            assert tuple(tokens[b, rank, : len(ref_seq)]) == ref_seq
        assert (np.diff(scores[b]) <= 1e-6).all()  # best first


@pytest.mark.backend_parity
def test_beam_of_one_is_greedy():
    table = _table(5, 8)
    greedy, _ = greedy_search(
        _step_fn(table), _initial_state(2), start_ids=[1, 3], end_id=END, max_length=8
    )
    beam, _, _ = beam_search(
        _step_fn(table), _initial_state(2), start_ids=[1, 3], end_id=END,
        max_length=8, beam_size=1, alpha=0.0,
    )
    np.testing.assert_array_equal(ops.convert_to_numpy(beam)[:, 0], ops.convert_to_numpy(greedy))


def test_beam_scores_are_never_worse_than_greedy():
    max_length = 6
    table = _table(7, max_length)
    greedy, lengths = greedy_search(
        _step_fn(table), _initial_state(2), start_ids=[2, 2], end_id=END, max_length=max_length
    )
    _, scores, _ = beam_search(
        _step_fn(table), _initial_state(2), start_ids=[2, 2], end_id=END,
        max_length=max_length, beam_size=4, alpha=0.0,
    )
    greedy = ops.convert_to_numpy(greedy)
    for b in range(2):
        prev, logp = 2, 0.0
        for t, tok in enumerate(greedy[b, : int(lengths[b])]):
            logp += table[b, t, prev, tok]
            prev = tok
        assert ops.convert_to_numpy(scores)[b, 0] >= logp - 1e-5


def test_constants_are_tiled_not_reordered():
    table = _table(1, 5)
    seen = []

    def step(ids, state, constants):
        seen.append(tuple(constants.shape))
        return _step_fn(table)(ids, state, constants)

    beam_search(
        step, _initial_state(2), start_ids=[1, 2], end_id=END, max_length=5,
        beam_size=3, constants=ops.ones((2, 7)),
    )
    assert seen and all(shape == (6, 7) for shape in seen)


def test_inside_tf_function_with_unknown_batch():
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.function tracing is a TensorFlow-backend check")
    table = _table(2, 6)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def decode(start):
        state = (tf.zeros_like(start), tf.range(tf.shape(start)[0]))
        tokens, scores, lengths = beam_search(
            _step_fn(table), state, start, end_id=END, max_length=6, beam_size=3
        )
        greedy, _ = greedy_search(_step_fn(table), state, start, end_id=END, max_length=6)
        return tokens, greedy

    tokens, greedy = decode(tf.constant([1, 2], tf.int32))
    eager, _, _ = beam_search(
        _step_fn(table), _initial_state(2), [1, 2], end_id=END, max_length=6, beam_size=3
    )
    np.testing.assert_array_equal(tokens.numpy(), ops.convert_to_numpy(eager))
    assert greedy.shape == (2, 6)


def test_stops_at_end_and_bad_arguments():
    # Token 0 (the end) is the likeliest from the start: length 1.
    table = np.full((1, 4, VOCAB, VOCAB), -5.0, "float32")
    table[..., END] = 0.0
    tokens, lengths = greedy_search(
        _step_fn(table), _initial_state(1), 1, end_id=END, max_length=4
    )
    assert ops.convert_to_numpy(lengths).tolist() == [1]
    with pytest.raises(ValueError, match="max_length"):
        greedy_search(_step_fn(table), _initial_state(1), 1, end_id=END, max_length=0)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(_step_fn(table), _initial_state(1), 1, end_id=END, max_length=3, beam_size=0)
    with pytest.raises(ValueError, match="alpha"):
        beam_search(_step_fn(table), _initial_state(1), 1, end_id=END, max_length=3, alpha=-1.0)


def test_length_penalty_values():
    np.testing.assert_allclose(ops.convert_to_numpy(length_penalty(1, 0.6)), 1.0)
    np.testing.assert_allclose(
        ops.convert_to_numpy(length_penalty(7, 1.0)), 2.0, rtol=1e-6
    )


def _repeats(seq, n):
    grams = [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)]
    return len(grams) != len(set(grams))


@pytest.mark.backend_parity
@pytest.mark.parametrize("n", [1, 2, 3])
def test_repeated_ngram_mask_matches_brute_force(n):
    rng = np.random.default_rng(n)
    tokens = rng.integers(0, 3, size=(16, 7)).astype("int32")
    for step in range(8):
        mask = ops.convert_to_numpy(repeated_ngram_mask(ops.convert_to_tensor(tokens), step, n, 5))
        for row in range(len(tokens)):
            prefix = tokens[row, :step].tolist()
            tail = prefix[step - n + 1 :] if n > 1 else []
            expected = [step >= n - 1 and any(prefix[j : j + n] == tail + [tok] for j in range(step - n + 1))
                        for tok in range(5)]
            assert mask[row].tolist() == expected, (row, step, prefix)


@pytest.mark.backend_parity
@pytest.mark.parametrize("n", [1, 2])
def test_wide_beam_without_repeats_is_constrained_exhaustive_search(n):
    max_length = 5
    table = _table(4, max_length)
    table[..., END] -= 4.0  # long sequences, so that repeats matter
    table -= np.log(np.exp(table).sum(-1, keepdims=True))  # normalized again
    tokens, scores, lengths = beam_search(
        _step_fn(table), _initial_state(2), start_ids=[3, 1], end_id=END,
        max_length=max_length, beam_size=64, alpha=0.0, no_repeat_ngram_size=n,
    )
    tokens, scores, lengths = (ops.convert_to_numpy(x) for x in (tokens, scores, lengths))
    for b, start in enumerate([3, 1]):
        ref = [(score, seq) for score, seq in _exhaustive(table, b, start, max_length, 0.0)
               if not _repeats(seq, n)]
        for rank in range(3):
            ref_score, ref_seq = ref[rank]
            np.testing.assert_allclose(scores[b, rank], ref_score, rtol=1e-5, atol=1e-5)
            assert tuple(tokens[b, rank, : lengths[b, rank]]) == ref_seq


def test_repeat_guard_breaks_a_loop():
    # A decoder that prefers 1 -> 2 -> 1 -> 2 ... and ends only at the end.
    table = np.full((1, 9, VOCAB, VOCAB), -6.0, "float32")
    table[:, :, 1, 2] = 0.0
    table[:, :, 2, 1] = 0.0
    table[:, :, :, 3] = -1.0
    table[:, :, 3, END] = -0.5
    tokens, _, lengths = beam_search(_step_fn(table), _initial_state(1), 1, end_id=END,
                                     max_length=8, beam_size=3, alpha=0.0)
    looping = ops.convert_to_numpy(tokens)[0, 0].tolist()
    assert _repeats(looping, 2)
    tokens, _, lengths = beam_search(_step_fn(table), _initial_state(1), 1, end_id=END,
                                     max_length=8, beam_size=3, alpha=0.0, no_repeat_ngram_size=2)
    guarded = ops.convert_to_numpy(tokens)[0, 0, : int(ops.convert_to_numpy(lengths)[0, 0])].tolist()
    assert not _repeats(guarded, 2)
    with pytest.raises(ValueError, match="no_repeat_ngram_size"):
        beam_search(_step_fn(table), _initial_state(1), 1, end_id=END, max_length=3,
                    no_repeat_ngram_size=-1)
