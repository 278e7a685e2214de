"""BahdanauAttention and LuongAttention: math, masks, config, parity."""

import keras
import numpy as np
import pytest
from keras import ops

from zoo.layers import BahdanauAttention
from zoo.layers import LuongAttention


def _data(seed=0, batch=3, source=5, dim=6, query_dim=6):
    rng = np.random.default_rng(seed)
    memory = rng.normal(size=(batch, source, dim)).astype("float32")
    query = rng.normal(size=(batch, query_dim)).astype("float32")
    mask = np.ones((batch, source), bool)
    mask[1, 3:] = False
    return query, memory, mask


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.backend_parity
def test_bahdanau_matches_its_formula():
    query, memory, mask = _data(query_dim=4)
    layer = BahdanauAttention(7)
    context, weights = layer(query, memory, mask=mask)
    wq, wk, b, v = (ops.convert_to_numpy(w) for w in
                    (layer.query_kernel, layer.memory_kernel, layer.bias, layer.score_vector))
    scores = np.tanh(memory @ wk + b + (query @ wq)[:, None]) @ v
    scores = np.where(mask, scores, -np.inf)
    expected = _softmax(scores)
    np.testing.assert_allclose(ops.convert_to_numpy(weights), expected, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(context),
                               np.einsum("bs,bsd->bd", expected, memory), atol=1e-5)
    # Precomputed keys give the same result (what a decoding loop does).
    keys = layer.precompute_keys(memory)
    again, _ = layer(query, memory, keys, mask)
    np.testing.assert_allclose(ops.convert_to_numpy(again), ops.convert_to_numpy(context), atol=1e-6)


@pytest.mark.backend_parity
def test_luong_dot_matches_keras_attention():
    query, memory, mask = _data()
    ours, weights = LuongAttention("dot")(query, memory, mask=mask)
    ref = keras.layers.Attention()(
        [query[:, None], memory, memory], mask=[None, mask]
    )
    np.testing.assert_allclose(ops.convert_to_numpy(ours), ops.convert_to_numpy(ref)[:, 0], atol=1e-5)
    assert np.all(ops.convert_to_numpy(weights)[1, 3:] == 0)


def test_luong_general_matches_its_formula():
    query, memory, mask = _data(query_dim=4)
    layer = LuongAttention()
    context, weights = layer(query, memory, mask=mask)
    w = ops.convert_to_numpy(layer.kernel)
    scores = np.einsum("bsd,dq,bq->bs", memory, w, query)
    expected = _softmax(np.where(mask, scores, -np.inf))
    np.testing.assert_allclose(ops.convert_to_numpy(weights), expected, atol=1e-5)


@pytest.mark.parametrize("factory", [lambda: BahdanauAttention(5, name="a"),
                                     lambda: LuongAttention("general", name="b")])
def test_config_and_saving_round_trip(factory, tmp_path):
    query, memory, mask = _data(query_dim=4)
    layer = factory()
    context, _ = layer(query, memory, mask=mask)
    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(query, memory, mask=mask)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(clone(query, memory, mask=mask)[0]),
                               ops.convert_to_numpy(context), atol=1e-6)
    q_in, m_in = keras.Input((4,)), keras.Input((5, 6))
    model = keras.Model([q_in, m_in], factory()(q_in, m_in)[0])
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(ops.convert_to_numpy(model([query, memory])),
                               ops.convert_to_numpy(loaded([query, memory])), atol=1e-6)


@pytest.mark.parametrize("factory", [lambda: BahdanauAttention(5),
                                     lambda: LuongAttention("general")])
def test_mask_is_consumed_without_warning(factory):
    """A masked memory (e.g. after `Embedding(mask_zero=True)`) neither
    warns nor leaves a mask on the context and weights."""
    import warnings

    query, memory, mask = _data(query_dim=4)
    ids = keras.Input((5,), dtype="int32")
    masked_memory = keras.layers.Embedding(10, 6, mask_zero=True)(ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = factory()
        layer(query, memory, mask=mask)
        context, weights = layer(keras.Input((4,)), masked_memory,
                                 mask=keras.ops.not_equal(ids, 0))
    assert getattr(context, "_keras_mask", None) is None
    assert getattr(weights, "_keras_mask", None) is None


def test_fully_masked_row_and_bad_arguments():
    query, memory, mask = _data()
    mask[2] = False
    _, weights = LuongAttention("dot")(query, memory, mask=mask)
    weights = ops.convert_to_numpy(weights)
    assert np.all(weights[2] == 0) and np.all(np.isfinite(weights))
    with pytest.raises(ValueError, match="Received: units=0"):
        BahdanauAttention(0)
    with pytest.raises(ValueError, match="Received: score='cosine'"):
        LuongAttention("cosine")
    with pytest.raises(ValueError, match="same size"):
        LuongAttention("dot")(np.ones((2, 3), "float32"), np.ones((2, 4, 5), "float32"))
