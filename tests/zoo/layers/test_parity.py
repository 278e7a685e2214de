"""Zoo layers against their Keras built-ins: same weights, same numbers.

Run on the TensorFlow backend and, by `make test`, on the JAX backend.
"""

import keras
import numpy as np
import pytest

import zoo.layers
from tests.harness import assert_same_gradients
from tests.harness import gradients

pytestmark = pytest.mark.backend_parity

VECTOR_PAIRS = [
    ("SimpleRNN", {}),
    ("LSTM", {}),
    ("GRU", {"reset_after": True}),
    ("GRU", {"reset_after": False}),
]


def _mask(kind, batch, steps):
    if kind == "none":
        return None
    mask = np.ones((batch, steps), bool)
    if kind == "right_padded":
        lengths = np.array([steps, steps - 3, 1, steps - 1][:batch])
        mask = np.arange(steps)[None] < lengths[:, None]
    else:
        mask[0, 2] = mask[1, 0] = mask[1, 4] = mask[2, 1:4] = False
    return mask


def _pair(name, kwargs, **layer_kwargs):
    zoo_layer = getattr(zoo.layers, name)(5, **kwargs, **layer_kwargs)
    keras_layer = getattr(keras.layers, name)(5, **kwargs, **layer_kwargs)
    return zoo_layer, keras_layer


def _copy_weights(zoo_layer, keras_layer, x):
    zoo_layer(x)
    keras_layer(x)
    keras_layer.set_weights(
        [np.random.default_rng(i).uniform(-0.5, 0.5, w.shape).astype("float32")
         for i, w in enumerate(keras_layer.get_weights())]
    )
    zoo_layer.set_weights(keras_layer.get_weights())


# (mask, return_sequences, go_backwards): each mask kind with and without
# sequences and direction, without the full product (the JAX backend compiles
# every case).
CASES = [
    ("none", False, False),
    ("none", True, True),
    ("right_padded", True, False),
    ("right_padded", False, True),
    ("arbitrary", True, True),
    ("arbitrary", False, False),
]


@pytest.mark.parametrize("name,kwargs", VECTOR_PAIRS, ids=lambda v: str(v))
@pytest.mark.parametrize("mask_kind,return_sequences,go_backwards", CASES)
def test_vector_layers_match_keras(name, kwargs, mask_kind, return_sequences, go_backwards):
    _check_vector_layer(name, kwargs, mask_kind, return_sequences, go_backwards, seed=1)


def _check_vector_layer(name, kwargs, mask_kind, return_sequences, go_backwards, seed, jit_compile="auto"):
    """Outputs and gradients of a zoo layer and its Keras twin, same weights."""
    x = np.random.default_rng(seed).standard_normal((4, 7, 3)).astype("float32")
    zoo_layer, keras_layer = _pair(
        name, kwargs, return_sequences=return_sequences, go_backwards=go_backwards
    )
    zoo_layer.jit_compile = jit_compile
    _copy_weights(zoo_layer, keras_layer, x)
    mask = _mask(mask_kind, 4, 7)
    call_kwargs = {} if mask is None else {"mask": mask}
    out_zoo, g_zoo, w = gradients(zoo_layer, x, call_kwargs)
    out_ref, g_ref, _ = gradients(keras_layer, x, call_kwargs, output_weights=w)
    np.testing.assert_allclose(out_zoo, out_ref, atol=1e-5)
    assert_same_gradients(g_zoo, g_ref, atol=1e-5)


@pytest.mark.parametrize("name,kwargs", VECTOR_PAIRS, ids=lambda v: str(v))
def test_states_and_initial_state_match_keras(name, kwargs):
    x = np.random.default_rng(2).standard_normal((3, 6, 4)).astype("float32")
    zoo_layer, keras_layer = _pair(name, kwargs, return_state=True, return_sequences=True)
    _copy_weights(zoo_layer, keras_layer, x)
    n_states = 2 if name == "LSTM" else 1
    init = [np.random.default_rng(10 + i).standard_normal((3, 5)).astype("float32") for i in range(n_states)]
    for a, b in zip(zoo_layer(x, initial_state=init), keras_layer(x, initial_state=init)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-5)


@pytest.mark.parametrize("name,kwargs", VECTOR_PAIRS, ids=lambda v: str(v))
@pytest.mark.parametrize("mask_kind,return_sequences,go_backwards", CASES[1::2])
def test_compiled_inference_loop_matches_keras(name, kwargs, mask_kind, return_sequences, go_backwards):
    # `jit_compile=True`: on TensorFlow the XLA-compiled inference loop (each
    # step projecting its own input), eager calls included; elsewhere the
    # plain loop. Outputs and gradients (training=False) equal Keras's.
    _check_vector_layer(
        name, kwargs, mask_kind, return_sequences, go_backwards, seed=6, jit_compile=True
    )


@pytest.mark.parametrize("mask_kind", ["none", "right_padded"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"padding": "same", "return_sequences": True},
        {"padding": "valid", "strides": 2},
        {"padding": "valid", "dilation_rate": 2, "go_backwards": True},
    ],
    ids=["same_seq", "valid_stride", "dilated_backwards"],
)
def test_conv_lstm_2d_matches_keras(kwargs, mask_kind):
    if mask_kind != "none" and keras.backend.backend() == "jax":
        pytest.skip("keras.layers.ConvLSTM2D fails with a mask on JAX (Keras 3.15)")
    x = np.random.default_rng(3).standard_normal((3, 4, 9, 9, 2)).astype("float32")
    # One case through the compiled inference loop (`jit_compile=True`).
    jit = mask_kind == "right_padded" and kwargs.get("strides") == 2
    zoo_layer = zoo.layers.ConvLSTM2D(3, 3, jit_compile=jit or "auto", **kwargs)
    keras_layer = keras.layers.ConvLSTM2D(3, 3, **kwargs)
    _copy_weights(zoo_layer, keras_layer, x)
    mask = _mask(mask_kind, 3, 4)
    call_kwargs = {} if mask is None else {"mask": mask}
    out_zoo, g_zoo, w = gradients(zoo_layer, x, call_kwargs)
    out_ref, g_ref, _ = gradients(keras_layer, x, call_kwargs, output_weights=w)
    np.testing.assert_allclose(out_zoo, out_ref, atol=1e-5)
    assert_same_gradients(g_zoo, g_ref, atol=1e-5)


@pytest.mark.parametrize("name,kwargs", VECTOR_PAIRS[:3], ids=lambda v: str(v))
def test_bidirectional_matches_keras(name, kwargs):
    x = np.random.default_rng(4).standard_normal((4, 7, 3)).astype("float32")
    mask = _mask("right_padded", 4, 7)
    zoo_bi = keras.layers.Bidirectional(getattr(zoo.layers, name)(5, return_sequences=True, **kwargs))
    keras_bi = keras.layers.Bidirectional(getattr(keras.layers, name)(5, return_sequences=True, **kwargs))
    zoo_bi(x)
    keras_bi(x)
    zoo_bi.set_weights(keras_bi.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(zoo_bi(x, mask=mask)),
        keras.ops.convert_to_numpy(keras_bi(x, mask=mask)),
        atol=1e-5,
    )


def test_unroll_equals_loop():
    x = np.random.default_rng(5).standard_normal((2, 5, 3)).astype("float32")
    looped = zoo.layers.LSTM(4, return_sequences=True)
    unrolled = zoo.layers.LSTM(4, return_sequences=True, unroll=True)
    looped(x)
    unrolled(x)
    unrolled.set_weights(looped.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(looped(x)), keras.ops.convert_to_numpy(unrolled(x)), atol=1e-6
    )


@pytest.mark.parametrize("name,kwargs", VECTOR_PAIRS, ids=lambda v: str(v))
@pytest.mark.parametrize("return_sequences,go_backwards", [(False, False), (True, True)])
def test_training_gradients_match_keras(name, kwargs, return_sequences, go_backwards):
    """`training=True` without a mask takes the cells' own backward pass on TF."""
    x = np.random.default_rng(6).standard_normal((4, 9, 3)).astype("float32")
    zoo_layer, keras_layer = _pair(
        name, kwargs, return_sequences=return_sequences, go_backwards=go_backwards
    )
    _copy_weights(zoo_layer, keras_layer, x)
    out_zoo, g_zoo, w = gradients(zoo_layer, x, {"training": True})
    out_ref, g_ref, _ = gradients(keras_layer, x, {"training": True}, output_weights=w)
    np.testing.assert_allclose(out_zoo, out_ref, atol=1e-5)
    assert_same_gradients(g_zoo, g_ref, atol=1e-5)


@pytest.mark.parametrize("name,kwargs", VECTOR_PAIRS, ids=lambda v: str(v))
def test_training_with_initial_state_matches_keras(name, kwargs):
    x = np.random.default_rng(7).standard_normal((3, 5, 4)).astype("float32")
    zoo_layer, keras_layer = _pair(name, kwargs, return_sequences=True)
    _copy_weights(zoo_layer, keras_layer, x)
    n_states = 2 if name == "LSTM" else 1
    init = [np.random.default_rng(20 + i).standard_normal((3, 5)).astype("float32") for i in range(n_states)]
    kw = {"training": True, "initial_state": init}
    out_zoo, g_zoo, w = gradients(zoo_layer, x, kw)
    out_ref, g_ref, _ = gradients(keras_layer, x, kw, output_weights=w)
    np.testing.assert_allclose(out_zoo, out_ref, atol=1e-5)
    assert_same_gradients(g_zoo, g_ref, atol=1e-5)


MASKED_TRAINING_CASES = [
    # (mask, return_sequences, go_backwards, zero_output_for_mask, initial_state)
    ("right_padded", True, False, False, False),
    ("right_padded", False, True, False, True),
    ("arbitrary", True, True, False, True),
    ("arbitrary", False, False, False, False),
    ("arbitrary", True, False, True, True),
]


@pytest.mark.parametrize("name,kwargs", VECTOR_PAIRS, ids=lambda v: str(v))
@pytest.mark.parametrize("mask_kind,return_sequences,go_backwards,zero_output,with_state",
                         MASKED_TRAINING_CASES)
def test_masked_training_gradients_match_keras(name, kwargs, mask_kind, return_sequences,
                                               go_backwards, zero_output, with_state, monkeypatch):
    """`training=True` with a mask: on TF the cells' own backward pass, which
    must keep the states over masked steps (any mask) and send their
    gradients straight through."""
    x = np.random.default_rng(8).standard_normal((4, 9, 3)).astype("float32")
    mask = _mask(mask_kind, 4, 9)
    mask[3, :3] = False  # a row whose first steps are masked: outputs 0 there
    zoo_layer, keras_layer = _pair(
        name, kwargs, return_sequences=return_sequences, go_backwards=go_backwards,
        zero_output_for_mask=zero_output,
    )
    _copy_weights(zoo_layer, keras_layer, x)
    calls = []
    cell_type = type(zoo_layer.cell)
    original = cell_type.scan_with_gradient

    def spy(self, *args, **kw):
        result = original(self, *args, **kw)
        calls.append(kw.get("mask") is not None and result is not None)
        return result

    monkeypatch.setattr(cell_type, "scan_with_gradient", spy)
    kw = {"training": True, "mask": mask}
    if with_state:
        n_states = 2 if name == "LSTM" else 1
        kw["initial_state"] = [np.random.default_rng(30 + i).standard_normal((4, 5)).astype("float32")
                               for i in range(n_states)]
    out_zoo, g_zoo, w = gradients(zoo_layer, x, kw)
    out_ref, g_ref, _ = gradients(keras_layer, x, kw, output_weights=w)
    np.testing.assert_allclose(out_zoo, out_ref, atol=1e-5)
    assert_same_gradients(g_zoo, g_ref, atol=1e-5)
    if keras.backend.backend() == "tensorflow":
        assert calls and all(calls)  # the hand-written backward pass ran, masked


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="the hand-written backward pass runs on TensorFlow only; elsewhere "
                    "both sides would be the same autodiff")
@pytest.mark.parametrize("variant", [{"use_peepholes": True}, {"layer_normalization": True},
                                     {"use_peepholes": True, "layer_normalization": True}], ids=str)
@pytest.mark.parametrize("mask_kind,return_sequences,go_backwards", CASES)
def test_lstm_variants_training_gradients_match_the_autodiff_loop(variant, mask_kind, return_sequences,
                                                                  go_backwards, monkeypatch):
    """Peephole and layer-norm LSTMs have no Keras twin: their hand-written
    backward pass (TF) is checked against the autodiff of `step`'s own loop."""
    x = np.random.default_rng(9).standard_normal((4, 9, 3)).astype("float32")
    mask = _mask(mask_kind, 4, 9)
    kw = {"training": True} if mask is None else {"training": True, "mask": mask}
    layer = zoo.layers.LSTM(5, return_sequences=return_sequences, go_backwards=go_backwards,
                            **variant)
    layer(x)
    layer.set_weights([np.random.default_rng(40 + i).uniform(-0.5, 0.5, w.shape).astype("float32")
                       for i, w in enumerate(layer.get_weights())])
    calls = []
    original = zoo.layers.LSTMCell.scan_with_gradient

    def spy(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(zoo.layers.LSTMCell, "scan_with_gradient", spy)
    out_custom, g_custom, w = gradients(layer, x, kw)
    monkeypatch.setattr(zoo.layers.LSTMCell, "scan_with_gradient", lambda *a, **k: None)
    out_plain, g_plain, _ = gradients(layer, x, kw, output_weights=w)
    np.testing.assert_allclose(out_custom, out_plain, atol=1e-5)
    assert_same_gradients(g_custom, g_plain, atol=1e-5)
    assert calls and all(calls)
