"""Seeded sampling: the distribution it draws from, temperature, top-k, seeds."""

import keras
import numpy as np
import pytest
from keras import ops

from zoo.decoding import counter_uniform
from zoo.decoding import greedy_search
from zoo.decoding import sample_logits
from zoo.decoding import sample_search

PROBS = np.array([0.1, 0.2, 0.3, 0.4], "float32")


def _constant_step(probs):
    logits = ops.convert_to_tensor(np.log(probs)[None, :])

    def step(ids, state, constants):
        return ops.repeat(logits, ops.shape(ids)[0], axis=0), state

    return step


def _numpy_counter_uniform(seed, step, size):
    """A direct numpy statement of `counter_uniform` (uint32 arithmetic)."""

    def h(x):
        x = np.asarray(x, np.uint32)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
        return x

    with np.errstate(over="ignore"):
        key = h(np.uint32(seed) ^ h(np.uint32(step) + np.uint32(0x9E3779B9)))
        bits = h(np.arange(size, dtype=np.uint32) ^ key)
    return ((bits >> np.uint32(8)).astype(np.float32) + 0.5) / 16777216.0


@pytest.mark.backend_parity
@pytest.mark.parametrize("seed,step", [(0, 0), (7, 3), (123456, 99)])
def test_counter_uniform_is_the_same_on_every_backend(seed, step):
    got = keras.ops.convert_to_numpy(counter_uniform(seed, step, (4, 50)))
    np.testing.assert_array_equal(got.ravel(), _numpy_counter_uniform(seed, step, 200))
    assert got.min() > 0 and got.max() < 1


def test_counter_uniform_is_uniform_and_steps_differ():
    u = keras.ops.convert_to_numpy(counter_uniform(3, 0, (200000,)))
    assert abs(u.mean() - 0.5) < 0.005
    hist = np.histogram(u, bins=10, range=(0, 1))[0] / u.size
    np.testing.assert_allclose(hist, 0.1, atol=0.005)
    v = keras.ops.convert_to_numpy(counter_uniform(3, 1, (200000,)))
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01


@pytest.mark.backend_parity
def test_samples_follow_the_distribution():
    logits = ops.convert_to_tensor(np.tile(np.log(PROBS), (40000, 1)))
    ids = keras.ops.convert_to_numpy(sample_logits(logits, seed=11, step=0))
    freq = np.bincount(ids, minlength=4) / ids.size
    np.testing.assert_allclose(freq, PROBS, atol=0.01)


def test_temperature_and_top_k():
    logits = ops.convert_to_tensor(np.tile(np.log(PROBS), (20000, 1)))
    hot = keras.ops.convert_to_numpy(sample_logits(logits, 5, 0, temperature=2.0))
    expected = PROBS**0.5 / (PROBS**0.5).sum()
    np.testing.assert_allclose(np.bincount(hot, minlength=4) / hot.size, expected, atol=0.012)
    cold = keras.ops.convert_to_numpy(sample_logits(logits, 5, 0, temperature=0.01))
    assert (cold == 3).all()
    top2 = keras.ops.convert_to_numpy(sample_logits(logits, 5, 0, top_k=2))
    assert set(np.unique(top2)) == {2, 3}
    np.testing.assert_allclose((top2 == 3).mean(), 0.4 / 0.7, atol=0.012)


@pytest.mark.backend_parity
def test_sample_search_is_reproducible_and_top_1_is_greedy():
    step = _constant_step(np.array([0.25, 0.25, 0.25, 0.25], "float32"))
    kwargs = dict(start_ids=np.ones(8, "int32"), end_id=0, max_length=12)
    a, la = sample_search(step, (), seed=1, **kwargs)
    b, lb = sample_search(step, (), seed=1, **kwargs)
    c, _ = sample_search(step, (), seed=2, **kwargs)
    a, b, c = (keras.ops.convert_to_numpy(t) for t in (a, b, c))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    la = keras.ops.convert_to_numpy(la)
    for row, n in zip(a, la):  # stops after the end token, pads after it
        assert (row[n:] == 0).all()
        assert row[n - 1] == 0 or n == 12
        assert (row[: n - 1] != 0).all()

    skewed = _constant_step(PROBS)
    g, _ = greedy_search(skewed, (), **kwargs)
    s, _ = sample_search(skewed, (), seed=9, top_k=1, **kwargs)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(g), keras.ops.convert_to_numpy(s))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.function")
def test_seed_as_a_tensor_inside_tf_function():
    import tensorflow as tf

    step = _constant_step(PROBS)

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.int32)])
    def generate(seed, start):
        return sample_search(step, (), start, end_id=None, max_length=6, seed=seed, top_k=3)[0]

    start = tf.ones([5], tf.int32)
    eager = sample_search(step, (), start, end_id=None, max_length=6, seed=4, top_k=3)[0]
    np.testing.assert_array_equal(generate(tf.constant(4), start).numpy(), eager.numpy())


def test_bad_arguments():
    step = _constant_step(PROBS)
    with pytest.raises(ValueError, match="temperature"):
        sample_search(step, (), [1], end_id=0, max_length=3, temperature=0.0)
    with pytest.raises(ValueError, match="top_k"):
        sample_search(step, (), [1], end_id=0, max_length=3, top_k=0)
    with pytest.raises(ValueError, match="max_length"):
        sample_search(step, (), [1], end_id=0, max_length=0)
