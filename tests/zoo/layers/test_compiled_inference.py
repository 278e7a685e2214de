"""The XLA-compiled time loops of `zoo.layers.RNN` (`jit_compile`).

On the TensorFlow backend a zoo recurrent layer runs its inference loop,
and the forward and reverse loops of its hand-written training gradient,
as XLA functions; these tests pin when it does, that the numbers are the
plain loops', and that exports for TensorFlow Serving stay XLA-free.
"""

import keras
import numpy as np
import pytest

import zoo.layers
from zoo.export import contains_xla_function
from zoo.export import export_saved_model
from zoo.export import plain_recurrent_loops
from zoo.ops import xla_function

tf_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="XLA loop is TensorFlow's"
)

LAYERS = [
    ("SimpleRNN", {}),
    ("LSTM", {}),
    ("LSTM", {"use_peepholes": True, "layer_normalization": True}),
    ("GRU", {"reset_after": True}),
    ("GRU", {"reset_after": False}),
]


def _model(name, kwargs, jit_compile, steps=6, **layer_kwargs):
    inputs = keras.Input((steps, 3))
    layer = getattr(zoo.layers, name)(5, jit_compile=jit_compile, **kwargs, **layer_kwargs)
    return keras.Model(inputs, layer(inputs)), layer


def _data(steps=6):
    return np.random.default_rng(0).standard_normal((4, steps, 3)).astype("float32")


def test_jit_compile_round_trips_and_is_checked():
    layer = zoo.layers.GRU(3, jit_compile=False)
    config = layer.get_config()
    assert config["jit_compile"] is False
    assert zoo.layers.GRU.from_config(config).jit_compile is False
    assert zoo.layers.RNN(zoo.layers.LSTMCell(2)).get_config()["jit_compile"] == "auto"
    with pytest.raises(ValueError, match=r"jit_compile.*Received: jit_compile='yes'"):
        zoo.layers.LSTM(3, jit_compile="yes")


@tf_only
@pytest.mark.parametrize("name,kwargs", LAYERS, ids=str)
def test_predict_runs_the_compiled_loop_with_the_plain_loops_numbers(name, kwargs):
    x = _data()
    compiled, layer = _model(name, kwargs, "auto", return_sequences=True)
    plain, plain_layer = _model(name, kwargs, False, return_sequences=True)
    plain_layer.set_weights(layer.get_weights())
    mask = np.ones((4, 6), bool)
    mask[1, 3:] = mask[2, 0] = False
    got = compiled.predict(x, verbose=0, batch_size=4)
    assert layer._compiled_inference.fn is not None  # predict traced the XLA loop
    np.testing.assert_allclose(got, plain.predict(x, verbose=0, batch_size=4), atol=1e-5)
    assert plain_layer._compiled_inference.fn is None
    # The same with a mask, through a `tf.function` (a traced graph).
    import tensorflow as tf

    run = tf.function(lambda a, m: layer(a, mask=m))
    np.testing.assert_allclose(run(x, mask), plain_layer(x, mask=mask), atol=1e-5)


@tf_only
@pytest.mark.parametrize("name,kwargs", [LAYERS[0], LAYERS[1], LAYERS[3], LAYERS[4]], ids=str)
def test_training_compiles_both_loops_with_the_plain_loops_numbers(name, kwargs, monkeypatch):
    import zoo.layers.gru_cell
    import zoo.layers.lstm_cell
    import zoo.layers.simple_rnn_cell

    compiled = []

    def counting(fn):
        compiled.append(fn.__name__)
        return xla_function(fn)

    for module in (zoo.layers.gru_cell, zoo.layers.lstm_cell, zoo.layers.simple_rnn_cell):
        monkeypatch.setattr(module, "xla_function", counting)
    x = _data()
    y = np.random.default_rng(1).standard_normal((4, 6, 5)).astype("float32")
    models = [_model(name, kwargs, j, return_sequences=True)[0] for j in ("auto", False)]
    models[1].set_weights(models[0].get_weights())
    for model, jit_compile in zip(models, ("auto", False)):
        model.compile(optimizer="adam", loss="mse")
        model.train_on_batch(x, y)
        model.train_on_batch(x, y)
        if jit_compile == "auto":
            assert set(compiled) == {"forward_loop", "backward_loop"}, compiled
            n_auto = len(compiled)
    assert len(compiled) == n_auto  # none for `False`
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


@tf_only
def test_eager_calls_and_unknown_lengths_keep_the_plain_loop():
    import tensorflow as tf

    x = _data()
    layer = zoo.layers.LSTM(5)
    layer(x)  # eager
    assert layer._compiled_inference.fn is None
    unknown = tf.function(
        lambda a: layer(a), input_signature=[tf.TensorSpec((None, None, 3), "float32")]
    )
    unknown(x)
    assert layer._compiled_inference.fn is None
    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(x, np.zeros((4, 1), "float32"))
    assert layer._compiled_inference.fn is None
    # `True` compiles eager calls and unknown lengths too.
    forced = zoo.layers.LSTM(5, jit_compile=True)
    forced(x)
    assert forced._compiled_inference.fn is not None
    forced.set_weights(layer.get_weights())
    np.testing.assert_allclose(forced(x), layer(x), atol=1e-5)


@tf_only
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_states_initial_states_and_stateful_layers(name):
    x = _data()
    n_states = 2 if name == "LSTM" else 1
    init = [np.full((4, 5), 0.3 * (i + 1), "float32") for i in range(n_states)]
    forced = getattr(zoo.layers, name)(5, jit_compile=True, return_state=True)
    plain = getattr(zoo.layers, name)(5, jit_compile=False, return_state=True)
    forced(x)
    plain(x)
    plain.set_weights(forced.get_weights())
    for a, b in zip(forced(x, initial_state=init), plain(x, initial_state=init)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # Stateful: the final states of one predict call start the next one.
    outputs = []
    for jit_compile in ("auto", False):
        inputs = keras.Input((6, 3), batch_size=4)
        layer = getattr(zoo.layers, name)(5, stateful=True, jit_compile=jit_compile)
        model = keras.Model(inputs, layer(inputs))
        layer.cell.set_weights(forced.cell.get_weights())
        outputs.append([model.predict_on_batch(x), model.predict_on_batch(x)])
        assert (layer._compiled_inference.fn is not None) == (jit_compile == "auto")
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)
    assert np.abs(outputs[0][0] - outputs[0][1]).max() > 1e-3  # the state carried


@tf_only
def test_mixed_precision():
    x = _data()
    inputs = keras.Input((6, 3))
    compiled = zoo.layers.LSTM(5, dtype="mixed_float16")
    plain = zoo.layers.LSTM(5, dtype="mixed_float16", jit_compile=False)
    a = keras.Model(inputs, compiled(inputs))
    b = keras.Model(inputs, plain(inputs))
    plain.set_weights(compiled.get_weights())
    got = a.predict(x, verbose=0)
    assert compiled._compiled_inference.fn is not None
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, b.predict(x, verbose=0), atol=2e-3)


@tf_only
def test_gradients_through_the_compiled_loop_match_the_plain_loop():
    import tensorflow as tf

    x = tf.constant(_data())
    forced = zoo.layers.GRU(5, jit_compile=True, return_sequences=True, go_backwards=True)
    plain = zoo.layers.GRU(5, jit_compile=False, return_sequences=True, go_backwards=True)
    forced(x)
    plain(x)
    plain.set_weights(forced.get_weights())

    def grads(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=False) ** 2)
        return tape.gradient(loss, [x] + layer.trainable_weights)

    for a, b in zip(grads(forced), grads(plain)):
        np.testing.assert_allclose(a, b, atol=1e-5)


@tf_only
def test_zoo_export_holds_no_xla_function_and_model_export_can_avoid_it(tmp_path):
    from zoo.application import Endpoint
    import tensorflow as tf

    x = _data()
    model, layer = _model("LSTM", {}, "auto")
    model.predict(x, verbose=0)
    spec = tf.TensorSpec((None, 6, 3), "float32")
    path = export_saved_model(
        model, [Endpoint("serve", lambda a: model(a), [spec])], tmp_path / "zoo", "m"
    )
    assert not contains_xla_function(path)
    assert layer.jit_compile == "auto"  # restored
    np.testing.assert_allclose(
        tf.saved_model.load(path).signatures["serving_default"](tf.constant(x))["output_0"],
        model.predict(x, verbose=0),
        atol=1e-5,
    )
    # A bare `model.export` traces the XLA loop (a static length) ...
    model.export(str(tmp_path / "bare"), format="tf_saved_model", verbose=False)
    assert contains_xla_function(tmp_path / "bare")
    # ... unless it runs inside `plain_recurrent_loops`.
    with plain_recurrent_loops(model):
        model.export(str(tmp_path / "plain"), format="tf_saved_model", verbose=False)
    assert not contains_xla_function(tmp_path / "plain")


@tf_only
@pytest.mark.parametrize("name,kwargs", [("LSTM", {}), ("GRU", {}), ("SimpleRNN", {}),
                                         ("LSTM", {"use_peepholes": True}),
                                         # XLA compiles layer norm's reverse loop for ~40 s on
                                         # 2 cores: in `make test-slow` (the peephole case and
                                         # the TF autodiff check cover the rest in `make test`).
                                         pytest.param("LSTM", {"use_peepholes": True, "layer_normalization": True},
                                                      marks=pytest.mark.slow)],
                         ids=str)
def test_masked_training_in_compiled_loops_matches_the_plain_loop(name, kwargs):
    """Training with a mask: the forward and reverse loops of the hand-written
    gradient as XLA functions (inside `tf.function`) give the plain loop's
    outputs and gradients."""
    import tensorflow as tf

    x = tf.constant(_data())
    mask = np.ones(x.shape[:2], bool)
    mask[0, 3:] = False  # padding
    mask[1, :2] = False  # leading masked steps
    mask = tf.constant(mask)
    forced = getattr(zoo.layers, name)(5, jit_compile=True, return_sequences=True, **kwargs)
    plain = getattr(zoo.layers, name)(5, jit_compile=False, return_sequences=True, **kwargs)
    forced(x)
    plain(x)
    plain.set_weights(forced.get_weights())

    @tf.function
    def grads(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x, mask=mask, training=True)
            loss = tf.reduce_sum(out * tf.range(1.0, 1.0 + out.shape[-1]))
        return [out] + tape.gradient(loss, [x] + layer.trainable_weights)

    for a, b in zip(grads(forced), grads(plain)):
        np.testing.assert_allclose(a, b, atol=1e-5)
