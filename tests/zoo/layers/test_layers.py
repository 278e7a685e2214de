"""The layer contract, peephole / layer-norm numerics, masks, state, dropout."""

import keras
import numpy as np
import pytest

import zoo.layers
from tests.harness import check_layer
from tests.harness import to_numpy

X = np.random.default_rng(0).standard_normal((2, 6, 3)).astype("float32")
IMAGES = np.random.default_rng(0).standard_normal((2, 3, 8, 8, 2)).astype("float32")

LAYERS = {
    "SimpleRNN": lambda: zoo.layers.SimpleRNN(4, return_sequences=True),
    "LSTM": lambda: zoo.layers.LSTM(4, return_state=True),
    "LSTM_peephole_layernorm": lambda: zoo.layers.LSTM(
        4, use_peepholes=True, layer_normalization=True, go_backwards=True
    ),
    "GRU": lambda: zoo.layers.GRU(4, reset_after=False, return_sequences=True),
    "RNN_cell": lambda: zoo.layers.RNN(zoo.layers.GRUCell(4), return_state=True),
    "StackedRNN": lambda: zoo.layers.StackedRNN(
        [zoo.layers.LSTM(3, return_sequences=True), zoo.layers.GRU(3, return_sequences=True)],
        residual=True,
    ),
    "StackedRNN_skip": lambda: zoo.layers.StackedRNN(
        [zoo.layers.SimpleRNN(4, return_sequences=True),
         keras.layers.Bidirectional(zoo.layers.LSTM(2, return_sequences=True))],
        skip_connections=True,
        return_sequences=True,
    ),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_contract(name, tmp_path):
    check_layer(LAYERS[name], X, tmp_path)


def test_conv_lstm_2d_contract(tmp_path):
    check_layer(lambda: zoo.layers.ConvLSTM2D(3, 3, padding="same"), IMAGES, tmp_path)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _ln(x, gamma, beta, groups, eps=1e-3):
    shaped = x.reshape(x.shape[0], groups, -1)
    normed = (shaped - shaped.mean(-1, keepdims=True)) / np.sqrt(shaped.var(-1, keepdims=True) + eps)
    return normed.reshape(x.shape) * gamma + beta


def _reference_lstm(x, weights, peepholes, layer_norm):
    """A plain numpy LSTM with peepholes and layer normalization."""
    kernel, recurrent, bias = weights[:3]
    rest = list(weights[3:])
    peep = rest.pop(0) if peepholes else None
    if layer_norm:
        gate_gamma, gate_beta, cell_gamma, cell_beta = rest
    units = recurrent.shape[0]
    h = np.zeros((x.shape[0], units), "float32")
    c = np.zeros_like(h)
    outs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + bias + h @ recurrent
        if layer_norm:
            z = _ln(z, gate_gamma, gate_beta, 4)
        zi, zf, zg, zo = np.split(z, 4, axis=-1)
        if peepholes:
            zi, zf = zi + peep[0] * c, zf + peep[1] * c
        c = _sigmoid(zf) * c + _sigmoid(zi) * np.tanh(zg)
        if peepholes:
            zo = zo + peep[2] * c
        c_out = _ln(c, cell_gamma, cell_beta, 1) if layer_norm else c
        h = _sigmoid(zo) * np.tanh(c_out)
        outs.append(h)
    return np.stack(outs, 1)


@pytest.mark.parametrize("peepholes,layer_norm", [(True, False), (False, True), (True, True)])
def test_lstm_variants_match_numpy_reference(peepholes, layer_norm):
    layer = zoo.layers.LSTM(
        5, return_sequences=True, use_peepholes=peepholes, layer_normalization=layer_norm
    )
    layer(X)
    rng = np.random.default_rng(7)
    weights = [rng.uniform(-0.6, 0.6, w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    expected = _reference_lstm(X, weights, peepholes, layer_norm)
    np.testing.assert_allclose(to_numpy(layer(X)), expected, atol=1e-5)


def test_forget_bias_initialized_to_one():
    layer = zoo.layers.LSTM(3)
    layer(X)
    bias = to_numpy(layer.cell.bias)
    np.testing.assert_array_equal(bias[3:6], np.ones(3))
    np.testing.assert_array_equal(np.delete(bias, range(3, 6)), np.zeros(9))


def test_arbitrary_mask_keeps_state_over_masked_steps():
    layer = zoo.layers.GRU(4, return_sequences=True, return_state=True)
    mask = np.array([[True, False, True, True, False, True]] * 2)
    seq, state = layer(X, mask=mask)
    # Dropping the masked steps gives the same final state.
    _, state_kept = layer(X[:, mask[0]], mask=None)
    np.testing.assert_allclose(to_numpy(state), to_numpy(state_kept), atol=1e-6)
    # A masked step repeats the previous output.
    np.testing.assert_allclose(to_numpy(seq[:, 1]), to_numpy(seq[:, 0]), atol=0)


def test_variable_length_batches_with_same_model():
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, zoo.layers.LSTM(4)(inputs))
    assert model(X[:, :2]).shape == (2, 4)
    assert model(X).shape == (2, 4)


def test_stateful_carries_state_and_resets():
    layer = zoo.layers.LSTM(4, stateful=True, return_sequences=True)
    inputs = keras.Input((None, 3), batch_size=2)
    model = keras.Model(inputs, layer(inputs))
    full = to_numpy(model(X))
    layer.reset_state()
    parts = np.concatenate([to_numpy(model(X[:, :2])), to_numpy(model(X[:, 2:]))], axis=1)
    np.testing.assert_allclose(parts, full, atol=1e-6)
    layer.reset_state()
    np.testing.assert_allclose(to_numpy(model(X)), full, atol=1e-6)


def test_dropout_only_in_training():
    layer = zoo.layers.LSTM(8, dropout=0.5, recurrent_dropout=0.5, seed=1)
    inference = [to_numpy(layer(X, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    trained = [to_numpy(layer(X, training=True)) for _ in range(2)]
    assert not np.allclose(trained[0], inference[0])
    assert not np.allclose(trained[0], trained[1])


def test_stacked_rnn_last_step_respects_mask():
    stack = zoo.layers.StackedRNN(
        [zoo.layers.LSTM(4, return_sequences=True), zoo.layers.LSTM(4, return_sequences=True)],
        residual=True,
    )
    mask = np.array([[True] * 6, [True] * 3 + [False] * 3])
    last = to_numpy(stack(X, mask=mask))
    seq = to_numpy(
        zoo.layers.StackedRNN(stack.layers, residual=True, return_sequences=True)(X, mask=mask)
    )
    np.testing.assert_allclose(last[0], seq[0, 5], atol=1e-6)
    np.testing.assert_allclose(last[1], seq[1, 2], atol=1e-6)


def test_residual_adds_input():
    layer = zoo.layers.SimpleRNN(3, return_sequences=True, kernel_initializer="zeros",
                                 recurrent_initializer="zeros")
    first = zoo.layers.SimpleRNN(3, return_sequences=True)
    stack = zoo.layers.StackedRNN([first, layer], residual=True, return_sequences=True)
    out = to_numpy(stack(X))
    np.testing.assert_allclose(out, to_numpy(first(X)), atol=1e-6)


def test_cell_steps_one_at_a_time_like_the_layer():
    cell = zoo.layers.LSTMCell(4)
    layer = zoo.layers.RNN(cell, return_sequences=True)
    seq = to_numpy(layer(X))
    states = cell.get_initial_state(batch_size=2)
    for t in range(X.shape[1]):
        out, states = cell(X[:, t], states)
    np.testing.assert_allclose(to_numpy(out), seq[:, -1], atol=1e-6)


def test_keras_rnn_accepts_zoo_cell():
    cell = zoo.layers.SimpleRNNCell(4)
    keras_out = keras.layers.RNN(cell)(X)
    zoo_out = zoo.layers.RNN(cell)(X)
    np.testing.assert_allclose(to_numpy(keras_out), to_numpy(zoo_out), atol=1e-6)


# -- bad input -------------------------------------------------------------

def test_wrong_rank_names_argument():
    with pytest.raises(ValueError, match=r"sequences.*rank 3.*Received: sequences.shape=\(2, 3\)"):
        zoo.layers.LSTM(4)(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="rank 5"):
        zoo.layers.ConvLSTM2D(2, 3)(np.zeros((2, 3, 4, 4), "float32"))


def test_integer_inputs_cast_to_the_compute_dtype():
    # As Keras's layers, which take integer sequences.
    ints = np.arange(30).reshape((2, 3, 5)).astype("int32") % 3
    layer = zoo.layers.GRU(4)
    out = layer(ints)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_allclose(
        to_numpy(out), to_numpy(layer(ints.astype("float32"))), atol=1e-6
    )


def test_mismatched_initial_state():
    layer = zoo.layers.LSTM(4)
    with pytest.raises(ValueError, match=r"expects 2 initial state.*Received: 1"):
        layer(X, initial_state=[np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match=r"initial_state\[1\] must have shape \(2, 4\).*Received: initial_state\[1\].shape=\(2, 5\)"):
        layer(X, initial_state=[np.zeros((2, 4), "float32"), np.zeros((2, 5), "float32")])


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"Received: units=0"):
        zoo.layers.LSTM(0)
    with pytest.raises(ValueError, match=r"Received: dropout=1.5"):
        zoo.layers.GRU(3, dropout=1.5)
    with pytest.raises(TypeError, match=r"unexpected arguments \['unitz'\]"):
        zoo.layers.SimpleRNN(3, unitz=4)
    with pytest.raises(ValueError, match=r"Received: use_cudnn='yes'"):
        zoo.layers.LSTM(3, use_cudnn="yes")


def test_stateful_needs_batch_size():
    inputs = keras.Input((None, 3))
    with pytest.raises(ValueError, match="fixed batch size"):
        zoo.layers.LSTM(3, stateful=True)(inputs)


def test_wrong_mask_shape():
    with pytest.raises(ValueError, match=r"Received: mask.shape=\(2, 5\)"):
        zoo.layers.SimpleRNN(3)(X, mask=np.ones((2, 5), bool))


def test_stacked_rnn_needs_sequences():
    with pytest.raises(ValueError, match=r"return_sequences=True.*Received: layers\[0\]"):
        zoo.layers.StackedRNN([zoo.layers.LSTM(3)])


# -- Keras drop-in behaviour (found by tests/zoo/layers/test_keras_suite.py) --

@pytest.mark.backend_parity
def test_reset_state_zeroes_the_states():
    layer = zoo.layers.GRU(4, stateful=True)
    layer(X)
    assert np.abs(to_numpy(layer.states[0])).sum() > 0
    layer.reset_state()
    np.testing.assert_array_equal(to_numpy(layer.states[0]), np.zeros((2, 4)))


@pytest.mark.backend_parity
def test_stateful_refuses_another_batch_size():
    layer = zoo.layers.LSTM(4, stateful=True)
    layer(X)
    with pytest.raises(ValueError, match=r"batch size.*Received: sequences.shape=\(1, 6, 3\)"):
        layer(X[:1])


def _dropout_cell(kind):
    # Linear, no recurrence: every step's output is (x_t * mask) W, so with
    # constant inputs the outputs of a sequence are equal iff its mask is.
    kwargs = dict(
        activation="linear",
        use_bias=False,
        recurrent_initializer="zeros",
        kernel_initializer="ones",
        dropout=0.5,
    )
    if kind == "zoo":
        return zoo.layers.SimpleRNNCell(3, **kwargs)
    return keras.layers.SimpleRNNCell(3, **kwargs)


@pytest.mark.backend_parity
@pytest.mark.parametrize(
    "wrapper,cell_kind",
    [(keras.layers.RNN, "zoo"), (zoo.layers.RNN, "keras"), (zoo.layers.RNN, "zoo")],
)
def test_dropout_mask_is_one_per_sequence(wrapper, cell_kind):
    cell = _dropout_cell(cell_kind)
    layer = wrapper(cell, return_sequences=True)
    x = np.ones((8, 5, 6), "float32")
    first = to_numpy(layer(x, training=True))
    second = to_numpy(layer(x, training=True))
    for out in (first, second):
        np.testing.assert_allclose(out, np.repeat(out[:, :1], 5, axis=1), atol=1e-6)
        assert (out != 6.0).any()  # some inputs were dropped
    assert not np.allclose(first, second)  # a new mask per call
    assert getattr(cell, "_dropout_mask", None) is None  # none kept after a call


@pytest.mark.backend_parity
@pytest.mark.parametrize(
    "wrapper,cell_kind", [(keras.layers.RNN, "zoo"), (zoo.layers.RNN, "keras")]
)
def test_fit_with_dropout_cell(wrapper, cell_kind):
    # On JAX, masks drawn inside the scan leaked tracers out of it.
    cell = _dropout_cell(cell_kind)
    cell.recurrent_dropout = 0.25
    model = keras.Sequential([keras.Input((5, 6)), wrapper(cell), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).standard_normal((8, 5, 6)).astype("float32")
    history = model.fit(x, np.zeros((8, 1)), epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
