"""Tests of `zoo.training`: truncated BPTT and gradient clipping."""

import keras
import numpy as np
import pytest
from keras import ops

import zoo.layers
import zoo.training
from zoo.training import fit_truncated_bptt
from zoo.training import make_optimizer
from zoo.training import truncated_bptt_gradients

T = 12
FEATURES = 3


def _data(batch=4, steps=T, targets=2, per_step=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, FEATURES)).astype("float32")
    shape = (batch, steps, targets) if per_step else (batch, targets)
    y = rng.normal(size=shape).astype("float32")
    return x, y


def _many_to_many(layer_class=zoo.layers.LSTM, seed=1):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((T, FEATURES)),
            keras.layers.Dense(4, activation="tanh"),
            layer_class(5, return_sequences=True),
            keras.layers.Dense(2),
        ]
    )


def _many_to_one(layer_class=zoo.layers.GRU, seed=2):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((T, FEATURES)), layer_class(5), keras.layers.Dense(2)]
    )


def _full_bptt(model, x, y):
    """Reference: the ordinary full-sequence gradient, per backend."""
    loss_fn = keras.losses.MeanSquaredError()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return loss, tape.gradient(loss, model.trainable_variables)
    import jax

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def f(values):
        y_pred, _ = model.stateless_call(values, non_trainable, x, training=True)
        return loss_fn(y, y_pred)

    return jax.jit(jax.value_and_grad(f))(trainable)


def _max_diff(a, b):
    return max(
        float(np.max(np.abs(ops.convert_to_numpy(u) - ops.convert_to_numpy(v))))
        for u, v in zip(a, b)
    )


def _twin_states(layer, x):
    """The final states of a full-sequence forward pass of `layer` on `x`."""
    config = layer.get_config()
    config.update(return_state=True, name=None)
    twin = layer.__class__.from_config(config)
    twin.build(x.shape)
    twin.set_weights(layer.get_weights())
    return list(twin(x)[1:])


# -- truncated BPTT ---------------------------------------------------------
@pytest.mark.parametrize(
    "k, layer_class",
    [
        pytest.param(T, zoo.layers.LSTM, marks=pytest.mark.backend_parity),
        (T + 5, zoo.layers.LSTM),
        (T, zoo.layers.SimpleRNN),
        pytest.param(T + 5, zoo.layers.SimpleRNN, marks=pytest.mark.backend_parity),
    ],
)
def test_tbptt_with_k_at_least_time_is_full_bptt(k, layer_class):
    model = _many_to_many(layer_class)
    x, y = _data()
    result = truncated_bptt_gradients(model, x, y, k=k, loss="mse")
    loss, grads = _full_bptt(model, x, y)
    assert len(result.gradients) == len(model.trainable_variables)
    assert _max_diff(result.gradients, grads) <= 1e-5
    np.testing.assert_allclose(float(result.loss), float(loss), rtol=1e-5)


def test_tbptt_with_k_at_least_time_is_full_bptt_many_to_one():
    model = _many_to_one()
    x, y = _data(per_step=False)
    result = truncated_bptt_gradients(model, x, y, k=T, loss="mse")
    loss, grads = _full_bptt(model, x, y)
    assert _max_diff(result.gradients, grads) <= 1e-5
    np.testing.assert_allclose(float(result.loss), float(loss), rtol=1e-5)


@pytest.mark.parametrize("k", [1, 4, pytest.param(5, marks=pytest.mark.backend_parity)])
def test_tbptt_with_short_k_cuts_gradients_but_carries_exact_state(k):
    model = _many_to_many(zoo.layers.LSTM)
    x, y = _data()
    result = truncated_bptt_gradients(model, x, y, k=k, loss="mse")
    loss, grads = _full_bptt(model, x, y)
    # Gradients are truncated at the chunk borders: they differ...
    assert _max_diff(result.gradients, grads) > 1e-4
    # ... but the forward pass is exact: same loss, same final states.
    np.testing.assert_allclose(float(result.loss), float(loss), rtol=1e-5)
    hidden = model.layers[0](x)
    expected = _twin_states(model.layers[1], hidden)
    assert len(result.states) == 1 and len(result.states[0]) == 2
    assert _max_diff(result.states[0], expected) <= 1e-6


@pytest.mark.backend_parity
def test_tbptt_many_to_one_short_k_carries_exact_state():
    model = _many_to_one(zoo.layers.GRU)
    x, y = _data(per_step=False)
    result = truncated_bptt_gradients(model, x, y, k=5, loss="mse")
    loss, grads = _full_bptt(model, x, y)
    assert _max_diff(result.gradients, grads) > 1e-4
    np.testing.assert_allclose(float(result.loss), float(loss), rtol=1e-5)
    expected = _twin_states(model.layers[0], ops.convert_to_tensor(x))
    assert _max_diff(result.states[0], expected) <= 1e-6


def test_tbptt_carries_every_recurrent_layer_and_initial_states():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((T, FEATURES))
    h = zoo.layers.LSTM(4, return_sequences=True)(inputs)
    h = zoo.layers.GRU(3, return_sequences=True)(h)
    model = keras.Model(inputs, keras.layers.Dense(2)(h))
    model.compile(loss="mse")  # the loss is taken from the compiled model
    x, y = _data()
    rng = np.random.default_rng(5)
    initial = [
        [rng.normal(size=(4, 4)).astype("float32") for _ in range(2)],
        [rng.normal(size=(4, 3)).astype("float32")],
    ]
    result = truncated_bptt_gradients(model, x, y, k=5, initial_states=initial)
    lstm, gru = model.layers[1], model.layers[2]
    h1 = lstm(x, initial_state=initial[0])
    expected_lstm = _twin_states_with_initial(lstm, x, initial[0])
    expected_gru = _twin_states_with_initial(gru, h1, initial[1])
    assert [len(s) for s in result.states] == [2, 1]
    assert _max_diff(result.states[0], expected_lstm) <= 1e-6
    assert _max_diff(result.states[1], expected_gru) <= 1e-6


def _twin_states_with_initial(layer, x, initial):
    config = layer.get_config()
    config.update(return_state=True, name=None)
    twin = layer.__class__.from_config(config)
    twin.build(x.shape)
    twin.set_weights(layer.get_weights())
    return list(twin(x, initial_state=initial)[1:])


def test_tbptt_leaves_the_model_unchanged():
    model = _many_to_many(zoo.layers.GRU)
    x, y = _data()
    before = [np.array(w) for w in model.get_weights()]
    truncated_bptt_gradients(model, x, y, k=4, loss="mse")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_tbptt_with_masks_and_token_inputs():
    keras.utils.set_random_seed(6)
    rng = np.random.default_rng(6)
    tokens = rng.integers(1, 10, size=(3, T)).astype("int32")
    tokens[0, 7:] = 0  # padding, masked by the Embedding
    y = rng.normal(size=(3, T, 2)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((T,), dtype="int32"),
            keras.layers.Embedding(10, 4, mask_zero=True),
            zoo.layers.LSTM(5, return_sequences=True),
            keras.layers.Dense(2),
        ]
    )
    full = truncated_bptt_gradients(model, tokens, y, k=T, loss="mse")
    loss, grads = _full_bptt(model, tokens, y)
    assert _max_diff(full.gradients, grads) <= 1e-5
    short = truncated_bptt_gradients(model, tokens, y, k=5, loss="mse")
    lstm = model.layers[1]
    embedded = model.layers[0](tokens)
    expected = _twin_states_with_mask(lstm, embedded, tokens != 0)
    assert _max_diff(short.states[0], expected) <= 1e-6


def _twin_states_with_mask(layer, x, mask):
    config = layer.get_config()
    config.update(return_state=True, name=None)
    twin = layer.__class__.from_config(config)
    twin.build(x.shape)
    twin.set_weights(layer.get_weights())
    return list(twin(x, mask=mask)[1:])


def test_fit_truncated_bptt_learns():
    # Per-step target: the running mean of the first feature (needs memory).
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, T, FEATURES)).astype("float32")
    y = np.cumsum(x[..., :1], axis=1) / np.arange(1, T + 1)[None, :, None]
    model = keras.Sequential(
        [keras.Input((T, FEATURES)), zoo.layers.LSTM(8, return_sequences=True), keras.layers.Dense(1)]
    )
    history = fit_truncated_bptt(
        model, x, y, k=4, loss="mse", optimizer=make_optimizer("adam", 0.02),
        epochs=5, batch_size=16, verbose=0, seed=0,
    )
    assert len(history["loss"]) == 5
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < 0.6 * history["loss"][0]


def test_fit_truncated_bptt_clips_by_default(monkeypatch):
    from zoo.training import tbptt

    created = []

    def spy(*args, **kwargs):
        created.append(make_optimizer(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(tbptt, "make_optimizer", spy)
    model = _many_to_one(zoo.layers.SimpleRNN)
    x, y = _data(batch=4, per_step=False)
    fit_truncated_bptt(model, x, y, k=6, loss="mse", epochs=1, batch_size=4, verbose=0)
    assert len(created) == 1
    assert created[0].global_clipnorm == 1.0
    assert int(created[0].iterations) == 1


def test_fit_truncated_bptt_uses_the_compiled_optimizer():
    model = _many_to_one(zoo.layers.SimpleRNN)
    optimizer = make_optimizer("sgd", 0.01, clip="norm")
    model.compile(optimizer=optimizer, loss="mse")
    x, y = _data(batch=8, per_step=False)
    before = [np.array(w) for w in model.get_weights()]
    history = fit_truncated_bptt(model, x, y, k=6, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history["loss"][0])
    # Many-to-one: one update per batch (the last chunk), two batches.
    assert int(optimizer.iterations) == 2
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.backend_parity
def test_tbptt_errors():
    model = _many_to_many()
    x, y = _data()
    with pytest.raises(ValueError, match=r"Received: x.shape=\(4,\)"):
        truncated_bptt_gradients(model, x[:, 0, 0], y, k=4, loss="mse")
    with pytest.raises(ValueError, match="Received: k=0"):
        truncated_bptt_gradients(model, x, y, k=0, loss="mse")
    with pytest.raises(ValueError, match=r"one target per step.*Received: x.shape"):
        truncated_bptt_gradients(model, x, y[:, 0], k=4, loss="mse")
    with pytest.raises(ValueError, match="Received: loss=None"):
        truncated_bptt_gradients(model, x, y, k=4)
    keras_model = keras.Sequential(
        [keras.Input((T, FEATURES)), keras.layers.LSTM(4, return_sequences=True)]
    )
    with pytest.raises(ValueError, match="zoo recurrent layer.*Received: model="):
        truncated_bptt_gradients(keras_model, x, y, k=4, loss="mse")
    backwards = keras.Sequential(
        [keras.Input((T, FEATURES)), zoo.layers.GRU(2, return_sequences=True, go_backwards=True)]
    )
    with pytest.raises(ValueError, match="go_backwards=True"):
        truncated_bptt_gradients(backwards, x, y, k=4, loss="mse")
    inputs = keras.Input((T, FEATURES))
    h = zoo.layers.GRU(FEATURES, return_sequences=True)(inputs)
    residual = keras.Model(inputs, keras.layers.Add()([h, inputs]))
    with pytest.raises(ValueError, match="chain-like.*Received: model="):
        truncated_bptt_gradients(residual, x, y, k=4, loss="mse")
    with pytest.raises(TypeError, match="Received: model="):
        truncated_bptt_gradients(lambda t: t, x, y, k=4, loss="mse")


# -- clipping ----------------------------------------------------------------
@pytest.mark.backend_parity
def test_make_optimizer_defaults_to_global_norm_clipping():
    optimizer = make_optimizer()
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert optimizer.global_clipnorm == 1.0
    assert optimizer.clipnorm is None and optimizer.clipvalue is None
    assert float(optimizer.learning_rate) == pytest.approx(1e-3)
    assert zoo.training.DEFAULT_CLIP == "global_norm"


@pytest.mark.backend_parity
@pytest.mark.parametrize(
    "clip, attribute",
    [("global_norm", "global_clipnorm"), ("norm", "clipnorm"), ("value", "clipvalue")],
)
def test_make_optimizer_clip_choices(clip, attribute):
    optimizer = make_optimizer("rmsprop", 0.01, clip=clip, clip_value=2.5, rho=0.8)
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    assert optimizer.rho == 0.8
    assert getattr(optimizer, attribute) == 2.5
    for other in {"global_clipnorm", "clipnorm", "clipvalue"} - {attribute}:
        assert getattr(optimizer, other) is None


@pytest.mark.backend_parity
def test_make_optimizer_without_clipping():
    optimizer = make_optimizer(keras.optimizers.SGD, 0.1, clip=None)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert optimizer.global_clipnorm is None and optimizer.clipnorm is None



@pytest.mark.backend_parity
def test_optimizer_from_config_reads_clipping_from_the_config():
    from zoo.training import optimizer_from_config

    default = optimizer_from_config({"learning_rate": 2e-3, "epochs": 3})
    assert isinstance(default, keras.optimizers.Adam)
    assert default.global_clipnorm == 1.0
    assert float(default.learning_rate) == pytest.approx(2e-3)
    per_variable = optimizer_from_config(
        {"clipnorm": 0.5}, defaults={"clip": "norm", "learning_rate": 0.01}
    )
    assert per_variable.clipnorm == 0.5 and per_variable.global_clipnorm is None
    assert float(per_variable.learning_rate) == pytest.approx(0.01)
    sgd = optimizer_from_config({"optimizer": "sgd", "clip": None}, defaults={"clip": "norm"})
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.clipnorm is None
    unclipped = optimizer_from_config({"clipnorm": None})
    assert unclipped.global_clipnorm is None and unclipped.clipnorm is None
    with pytest.raises(ValueError, match="Received: clip_value=0"):
        optimizer_from_config({"clipnorm": 0})

def _sgd_update(clip):
    a = keras.Variable(np.zeros(2, "float32"))
    b = keras.Variable(np.zeros(2, "float32"))
    optimizer = make_optimizer("sgd", 1.0, clip=clip, clip_value=1.0)
    # ||g_a|| = 5, ||g_b|| = 12, global norm 13.
    grads = [ops.convert_to_tensor([3.0, 4.0]), ops.convert_to_tensor([0.0, 12.0])]
    optimizer.apply(grads, [a, b])
    return -ops.convert_to_numpy(a), -ops.convert_to_numpy(b)


@pytest.mark.backend_parity
def test_clipped_updates():
    a, b = _sgd_update("global_norm")  # every gradient scaled by 1/13
    np.testing.assert_allclose(a, [3 / 13, 4 / 13], rtol=1e-5)
    np.testing.assert_allclose(b, [0, 12 / 13], rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.sum(a**2) + np.sum(b**2)), 1.0, rtol=1e-5)
    a, b = _sgd_update("norm")  # each gradient to norm 1 on its own
    np.testing.assert_allclose(a, [0.6, 0.8], rtol=1e-5)
    np.testing.assert_allclose(b, [0, 1.0], rtol=1e-5)
    a, b = _sgd_update(None)
    np.testing.assert_allclose(a, [3, 4], rtol=1e-6)
    np.testing.assert_allclose(b, [0, 12], rtol=1e-6)


@pytest.mark.backend_parity
def test_make_optimizer_errors():
    with pytest.raises(ValueError, match="Received: clip='l2'"):
        make_optimizer(clip="l2")
    with pytest.raises(ValueError, match="Received: clip_value=0"):
        make_optimizer(clip_value=0)
    with pytest.raises(ValueError, match="Received: clipnorm=1.0"):
        make_optimizer(clipnorm=1.0)
    with pytest.raises(ValueError, match="Received: name='nope'"):
        make_optimizer("nope")
    with pytest.raises(TypeError, match="Received: name="):
        make_optimizer(keras.optimizers.Adam())
