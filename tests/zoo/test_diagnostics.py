"""Tests of `zoo.diagnostics.gradient_flow` and its demo."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo.layers
from zoo.demos import gradient_flow as demo
from zoo.diagnostics import gradient_flow

T = 30


def _adding(batch=16, steps=T, seed=0):
    return demo.adding_problem(batch, steps, np.random.default_rng(seed))


def _model(layer, steps=T, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((steps, 2)), layer, keras.layers.Dense(1)])


@pytest.mark.parametrize(
    "layer",
    [
        lambda: zoo.layers.SimpleRNN(6),
        pytest.param(
            lambda: zoo.layers.LSTM(6, return_sequences=True),
            marks=pytest.mark.backend_parity,
        ),
        lambda: zoo.layers.GRU(6, go_backwards=True),
    ],
    ids=["simple_rnn", "lstm_sequences", "gru_backwards"],
)
def test_gradient_flow_shape_and_finite(layer):
    x, y = _adding(batch=8, steps=10)
    layer = layer()
    if layer.return_sequences:
        y = np.repeat(y[:, None], 10, axis=1)
    norms = gradient_flow(_model(layer, steps=10), x, y, loss="mse")
    assert isinstance(norms, np.ndarray) and norms.shape == (10,)
    assert np.all(np.isfinite(norms)) and np.all(norms > 0)


@pytest.mark.backend_parity
def test_last_step_gradient_matches_the_closed_form():
    # Many-to-one with MSE and Dense(1): dL/dh_T = 2 (y_pred - y) / B * w.
    x, y = _adding(batch=8, steps=12)
    model = _model(zoo.layers.LSTM(5), steps=12)
    norms = gradient_flow(model, x, y, loss="mse")
    w = model.layers[-1].get_weights()[0][:, 0]
    error = np.asarray(model.predict(x, verbose=0)) - y
    expected = np.mean(2 * np.abs(error[:, 0]) / len(x)) * np.linalg.norm(w)
    np.testing.assert_allclose(norms[-1], expected, rtol=1e-4)


@pytest.mark.backend_parity
def test_vanilla_rnn_gradient_vanishes_lstm_decays_less():
    x, y = _adding(batch=16, steps=T)
    small = keras.initializers.Orthogonal(gain=0.3, seed=1)
    rnn = _model(zoo.layers.SimpleRNN(16, recurrent_initializer=small))
    lstm = _model(zoo.layers.LSTM(16))  # unit_forget_bias: forget bias 1
    rnn_norms = gradient_flow(rnn, x, y, loss="mse")
    lstm_norms = gradient_flow(lstm, x, y, loss="mse")
    # The vanilla RNN's gradient shrinks by >= 0.3 per step toward t = 1...
    assert rnn_norms[0] < rnn_norms[T // 2] < rnn_norms[-1]
    rnn_ratio = rnn_norms[0] / rnn_norms[-1]
    lstm_ratio = lstm_norms[0] / lstm_norms[-1]
    assert rnn_ratio < 1e-9
    # ... while the LSTM's cell-state path keeps it many orders larger.
    assert lstm_ratio > 1e-6
    assert lstm_ratio > 1e4 * rnn_ratio


def test_gradient_flow_functional_chain_and_layer_choice():
    x, y = _adding(batch=4, steps=8)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 2))
    h = keras.layers.Dense(3)(inputs)
    h = zoo.layers.GRU(4, return_sequences=True, name="lower")(h)
    h = zoo.layers.SimpleRNN(5, name="upper")(h)
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    model.compile(loss="mse")  # loss=None takes the compiled loss
    lower = gradient_flow(model, x, y)
    assert lower.shape == (8,)
    np.testing.assert_allclose(gradient_flow(model, x, y, layer="lower"), lower, rtol=1e-6)
    upper = gradient_flow(model, x, y, layer=model.get_layer("upper"))
    np.testing.assert_allclose(gradient_flow(model, x, y, layer=2), upper, rtol=1e-6)
    assert not np.allclose(lower, upper)


def test_gradient_flow_leaves_stateful_layers_unchanged():
    x, y = _adding(batch=4, steps=8)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8, 2), batch_size=4), zoo.layers.LSTM(3, stateful=True), keras.layers.Dense(1)]
    )
    model.predict(x, batch_size=4, verbose=0)
    before = [np.array(w) for w in model.get_weights()] + [
        np.array(s) for s in model.layers[0].states
    ]
    gradient_flow(model, x, y, loss="mse")
    after = [np.array(w) for w in model.get_weights()] + [
        np.array(s) for s in model.layers[0].states
    ]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_gradient_flow_propagates_masks():
    keras.utils.set_random_seed(0)
    tokens = np.array([[3, 1, 4, 1, 5, 0, 0, 0], [2, 7, 1, 8, 2, 8, 1, 8]], "int32")
    model = keras.Sequential(
        [
            keras.Input((8,), dtype="int32"),
            keras.layers.Embedding(10, 4, mask_zero=True),
            zoo.layers.SimpleRNN(3),
            keras.layers.Dense(1),
        ]
    )
    y = np.ones((2, 1), "float32")
    flow = gradient_flow(model, tokens[:1], y[:1], loss="mse")
    assert np.all(flow[5:] == 0) and np.all(flow[:5] > 0)
    assert np.all(gradient_flow(model, tokens, y, loss="mse") > 0)


@pytest.mark.backend_parity
def test_gradient_flow_errors():
    x, y = _adding(batch=4, steps=8)
    keras_rnn = keras.Sequential(
        [keras.Input((8, 2)), keras.layers.SimpleRNN(3), keras.layers.Dense(1)]
    )
    with pytest.raises(ValueError, match=r"zoo recurrent layer.*Received: model="):
        gradient_flow(keras_rnn, x, y, loss="mse")
    inputs = keras.Input((8, 2))
    h = zoo.layers.GRU(2, return_sequences=True)(inputs)
    branched = keras.Model(inputs, keras.layers.Add()([h, inputs]))
    with pytest.raises(ValueError, match=r"chain-like.*Received: model="):
        gradient_flow(branched, x, y, loss="mse")

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.rnn = zoo.layers.SimpleRNN(2)

        def call(self, x):
            return self.rnn(x)

    with pytest.raises(ValueError, match=r"subclassed"):
        gradient_flow(Subclassed(), x, y, loss="mse")
    with pytest.raises(TypeError, match=r"Received: model="):
        gradient_flow("model", x, y, loss="mse")
    model = _model(zoo.layers.SimpleRNN(3), steps=8)
    with pytest.raises(ValueError, match=r"Received: loss=None"):
        gradient_flow(model, x, y)
    with pytest.raises(ValueError, match=r"Received: x.shape=\(4,\)"):
        gradient_flow(model, x[:, 0, 0], y, loss="mse")
    with pytest.raises(ValueError, match=r"Received: layer='nope'"):
        gradient_flow(model, x, y, loss="mse", layer="nope")
    with pytest.raises(ValueError, match=r"Received: layer=1"):
        gradient_flow(model, x, y, loss="mse", layer=1)


# -- the demo ----------------------------------------------------------------
def test_adding_problem_data():
    x, y = demo.adding_problem(2000, 100, np.random.default_rng(0))
    assert x.shape == (2000, 100, 2) and y.shape == (2000, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[..., 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :50].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * markers).sum(axis=1), rtol=1e-6)
    # Always predicting 1.0 scores about 1/6.
    assert abs(np.mean((y - 1.0) ** 2) - demo.BASELINE_MSE) < 0.02
    with pytest.raises(ValueError, match="Received: steps=1"):
        demo.adding_problem(3, 1, np.random.default_rng(0))


@pytest.mark.slow
def test_demo_quick_run(tmp_path):
    output = tmp_path / "flow.png"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    result = subprocess.run(
        [sys.executable, "-m", "zoo.demos.gradient_flow", "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ratio before" in result.stdout and "LSTM" in result.stdout
    assert output.exists() and output.stat().st_size > 10_000
