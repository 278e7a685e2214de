"""The DRAW network on tiny configs (T=3, 8x8 images): the filterbank against
the paper's equations, the exact KL against Monte Carlo, shapes, training on
both backends, the application contract (export round trip) and bad input."""

import math
import os

import keras
import numpy as np
import pytest
from keras import ops

from applications.draw import APPLICATION
from applications.draw.draw import DRAW
from applications.draw.evaluate_lib import log_mean_exp
from applications.draw.evaluate_lib import nll_statistics
from applications.draw.filterbank_attention import FilterbankAttention
from applications.draw.model import build_model
from applications.draw.model import draw_layer
from applications.draw.preprocessing import Binarizer
from applications.draw.preprocessing import check_images
from tests.harness import check_layer
from tests.harness import to_numpy

SIZE = 8
CONFIG = dict(APPLICATION.presets["quick"], image_size=SIZE, steps=3, encoder_units=8, decoder_units=8,
              latent_dim=4, read_size=2, write_size=3, batch_size=4, epochs=1)


def images(n=6, seed=0):
    """Blob-like intensities in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    out = []
    for _ in range(n):
        cy, cx = rng.uniform(2, SIZE - 2, size=2)
        out.append(np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 4.0))
    return np.clip(np.stack(out), 0, 1).astype("float32")


def paper_filterbank(p, n, height, width):
    """Fx, Fy and gamma from the paper's equations (19)-(25), 1-based."""
    gxt, gyt, log_s2, log_dt, log_g = p
    gx = (width + 1) / 2 * (gxt + 1)
    gy = (height + 1) / 2 * (gyt + 1)
    delta = (max(width, height) - 1) / (n - 1) * math.exp(log_dt)
    s2 = math.exp(log_s2)
    fx = np.zeros((n, width))
    fy = np.zeros((n, height))
    for i in range(1, n + 1):
        mux = gx + (i - n / 2 - 0.5) * delta
        muy = gy + (i - n / 2 - 0.5) * delta
        for a in range(1, width + 1):
            fx[i - 1, a - 1] = math.exp(-((a - mux) ** 2) / (2 * s2))
        for b in range(1, height + 1):
            fy[i - 1, b - 1] = math.exp(-((b - muy) ** 2) / (2 * s2))
    fx /= fx.sum(axis=1, keepdims=True)
    fy /= fy.sum(axis=1, keepdims=True)
    return fy, fx, math.exp(log_g)


@pytest.mark.backend_parity
def test_filterbank_matches_the_papers_equations():
    height, width, n = 7, 9, 3
    attention = FilterbankAttention(n, (height, width))
    h = np.random.default_rng(1).normal(size=(2, 5)).astype("float32")
    attention.build(h.shape)
    rng = np.random.default_rng(2)
    attention.dense.kernel.assign(rng.normal(scale=0.3, size=(5, 5)).astype("float32"))
    fy, fx, gamma = [to_numpy(t) for t in attention(h)]
    params = to_numpy(attention.dense(h))
    x = rng.uniform(size=(2, height, width)).astype("float32")
    patch = rng.normal(size=(2, n, n)).astype("float32")
    read = to_numpy(FilterbankAttention.read(x, fy, fx, gamma))
    write = to_numpy(FilterbankAttention.write(patch, fy, fx, gamma))
    for b in range(2):
        want_fy, want_fx, want_gamma = paper_filterbank(params[b], n, height, width)
        np.testing.assert_allclose(fy[b], want_fy, atol=1e-5)
        np.testing.assert_allclose(fx[b], want_fx, atol=1e-5)
        np.testing.assert_allclose(gamma[b], want_gamma, rtol=1e-5)
        np.testing.assert_allclose(read[b], want_gamma * want_fy @ x[b] @ want_fx.T, atol=1e-5)
        np.testing.assert_allclose(write[b], want_fy.T @ patch[b] @ want_fx / want_gamma, atol=1e-4)


def test_filterbank_starts_centred_covering_the_image():
    attention = FilterbankAttention(2, (28, 28), initial_span=0.6)
    attention.build((None, 4))
    gx, gy, delta, sigma2, gamma = [float(to_numpy(t)[0]) for t in attention.parameters(np.zeros((1, 4), "float32"))]
    assert gx == pytest.approx(13.5) and gy == pytest.approx(13.5)  # the centre of pixels 0..27
    assert delta == pytest.approx(0.6 * 27, rel=1e-5)  # not the paper's zero start: delta = 27, the corners
    assert math.sqrt(sigma2) == pytest.approx(delta / 2, rel=1e-5)
    assert gamma == pytest.approx(1.0)
    write = FilterbankAttention(5, (28, 28), initial_gamma="unit_peak")
    write.build((None, 4))
    fy, fx, g = [to_numpy(t) for t in write(np.zeros((1, 4), "float32"))]
    patch = np.zeros((1, 5, 5), "float32")
    patch[0, 2, 2] = 1.0
    canvas = to_numpy(FilterbankAttention.write(patch, fy, fx, g))
    assert canvas.max() == pytest.approx(1.0, abs=0.1)  # one adds about one (its centre is between pixels)


def test_filterbank_layer_contract(tmp_path):
    h = np.random.default_rng(0).normal(size=(3, 6)).astype("float32")
    check_layer(lambda: FilterbankAttention(3, (8, 10), initial_span=0.5), h, tmp_path)


def test_filterbank_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: size=0"):
        FilterbankAttention(0, (8, 8))
    with pytest.raises(ValueError, match=r"Received: image_shape=\(8,\)"):
        FilterbankAttention(2, (8,))
    with pytest.raises(ValueError, match="Received: initial_gamma=-1"):
        FilterbankAttention(2, (8, 8), initial_gamma=-1)


def tiny_draw(attention=True, seed=0):
    layer = DRAW(steps=3, image_shape=(SIZE, SIZE), encoder_units=8, decoder_units=8, latent_dim=4,
                 attention=attention, read_size=2, write_size=3, seed=seed)
    layer.build()
    return layer


@pytest.mark.backend_parity
@pytest.mark.parametrize("attention", [True, False])
def test_shapes(attention):
    layer = tiny_draw(attention)
    x = (images(5) > 0.5).astype("float32")
    out = layer(x)
    assert tuple(out["logits"].shape) == (5, SIZE, SIZE) and tuple(out["kl"].shape) == (5, 3)
    assert (to_numpy(out["kl"]) >= 0).all()
    rec = layer.encode_decode(x, record=True)
    assert tuple(rec["canvases"].shape) == (5, 3, SIZE, SIZE)
    assert tuple(rec["z"].shape) == (5, 3, 4)
    np.testing.assert_allclose(to_numpy(rec["canvases"][:, -1]), to_numpy(rec["logits"]))
    if attention:
        assert tuple(rec["read_fy"].shape) == (5, 3, 2, SIZE)
        assert tuple(rec["glimpses"].shape) == (5, 3, 2, 2)
        assert tuple(rec["write_fx"].shape) == (5, 3, 3, SIZE)
    else:
        assert "read_fy" not in rec
    noise = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    canvases = layer.generate(noise)
    assert tuple(canvases.shape) == (2, 3, SIZE, SIZE)
    # Given noise, the network is deterministic.
    a = to_numpy(layer(x, noise=np.repeat(noise[:1], 5, 0))["logits"])
    b = to_numpy(layer(x, noise=np.repeat(noise[:1], 5, 0))["logits"])
    np.testing.assert_array_equal(a, b)


@pytest.mark.backend_parity
def test_exact_kl_matches_monte_carlo():
    """The first step's posterior does not depend on earlier samples: its
    exact KL equals E_q[log q(z) - log p(z)]; over the T steps the summed
    exact KL's mean equals the summed log-ratio's mean."""
    layer = tiny_draw()
    # Larger posterior weights, so that the KL is far from zero.
    rng = np.random.default_rng(3)
    layer.posterior.kernel.assign(rng.normal(scale=0.5, size=layer.posterior.kernel.shape).astype("float32"))
    layer.posterior.bias.assign(rng.normal(scale=0.5, size=layer.posterior.bias.shape).astype("float32"))
    n = 20000
    x = np.repeat((images(1) > 0.5).astype("float32"), n, axis=0)
    noise = rng.standard_normal((n, 3, 4)).astype("float32")
    rec = {k: to_numpy(v) for k, v in layer.encode_decode(x, noise, record=True).items()}
    z, mu, log_sigma = rec["z"], rec["mu"], rec["log_sigma"]
    log_ratio = (-0.5 * ((z - mu) / np.exp(log_sigma)) ** 2 - log_sigma + 0.5 * z**2).sum(-1)  # (n, T)
    exact_first = rec["kl"][0, 0]
    assert np.allclose(rec["kl"][:, 0], exact_first, rtol=1e-5)
    assert exact_first > 0.5
    stderr = log_ratio[:, 0].std() / math.sqrt(n)
    assert abs(log_ratio[:, 0].mean() - exact_first) < 4 * stderr
    total, total_exact = log_ratio.sum(1), rec["kl"].sum(1)
    stderr = (total - total_exact).std() / math.sqrt(n)
    assert abs(total.mean() - total_exact.mean()) < 4 * stderr + 1e-4


def test_importance_weighted_bound_is_tighter():
    keras.utils.set_random_seed(0)
    model = build_model(CONFIG)
    preprocessor = Binarizer(CONFIG)
    import tensorflow as tf

    raw = tf.data.Dataset.from_tensor_slices((images(8), np.zeros(8, "int64")))
    model.fit(preprocessor.dataset(raw, 4, shuffle=True, seed=0), epochs=2, verbose=0)
    metrics = nll_statistics(model, preprocessor, raw, batch_size=4, iwae_k=32, bound_samples=8)
    assert metrics["images"] == 8 and metrics["iwae_k"] == 32 and metrics["iwae_images"] == 8
    assert metrics["nll_bound"] == pytest.approx(metrics["reconstruction"] + metrics["kl"], rel=1e-6)
    assert metrics["kl"] == pytest.approx(sum(metrics[f"kl_step_{t}"] for t in (1, 2, 3)), rel=1e-5)
    assert metrics["iwae_nll"] <= metrics["nll_bound"] + 1e-3
    # Only the first images, when asked.
    assert nll_statistics(model, preprocessor, raw, batch_size=4, iwae_k=5, iwae_images=3)["iwae_images"] == 3


def test_log_mean_exp():
    values = np.array([[1000.0, 1000.0], [0.0, math.log(3.0)]])
    np.testing.assert_allclose(log_mean_exp(values), [1000.0, math.log(2.0)])


@pytest.mark.backend_parity
def test_training_lowers_the_bound():
    """A few steps of `fit` on the tiny config lower the bound, on TF and JAX
    alike (the loss is two Keras losses on the model's outputs)."""
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = build_model(dict(CONFIG, learning_rate=1e-2))
    raw = tf.data.Dataset.from_tensor_slices((images(16), np.zeros(16, "int64")))
    ds = Binarizer(dict(CONFIG, binarization="threshold")).dataset(raw, 8)
    history = model.fit(ds, epochs=15, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0], history["loss"]
    np.testing.assert_allclose(np.array(history["loss"]),
                               np.array(history["logits_loss"]) + np.array(history["kl_loss"]), rtol=1e-4)


def test_draw_serialization_round_trip(tmp_path):
    layer = tiny_draw()
    config = layer.get_config()
    clone = DRAW.from_config(config)
    assert clone.get_config() == config
    x = keras.Input((SIZE, SIZE))
    noise = keras.Input((3, 4))
    model = keras.Model([x, noise], layer(x, noise=noise))
    data = [(images(3) > 0.5).astype("float32"), np.random.default_rng(0).normal(size=(3, 3, 4)).astype("float32")]
    path = os.path.join(str(tmp_path), "draw.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    a, b = model(data), loaded(data)
    for key in ("logits", "kl"):
        np.testing.assert_allclose(to_numpy(a[key]), to_numpy(b[key]), atol=1e-6)


def test_stochastic_binarization_is_fresh_each_epoch_and_fixed_for_evaluation():
    import tensorflow as tf

    raw = tf.data.Dataset.from_tensor_slices((np.full((4, SIZE, SIZE), 0.5, "float32"), np.zeros(4, "int64")))
    binarizer = Binarizer(CONFIG)
    train = binarizer.dataset(raw, 4, shuffle=True, seed=0)
    first, second = [next(iter(train))[0].numpy() for _ in range(2)]
    assert set(np.unique(first)) == {0.0, 1.0}
    assert abs(first.mean() - 0.5) < 0.1
    assert not np.array_equal(np.sort(first.reshape(4, -1), 0), np.sort(second.reshape(4, -1), 0))
    evaluation = binarizer.dataset(raw, 4)
    a, b = [next(iter(evaluation))[0].numpy() for _ in range(2)]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, binarizer.fixed(np.full((4, SIZE, SIZE), 0.5, "float32")).numpy())
    threshold = Binarizer(dict(CONFIG, binarization="threshold"))
    x = next(iter(threshold.dataset(raw, 4)))[0].numpy()
    assert (x == 0).all()  # 0.5 is not above 0.5
    with pytest.raises(ValueError, match="Received: binarization='otsu'"):
        Binarizer(dict(CONFIG, binarization="otsu"))
    wrong = tf.data.Dataset.from_tensor_slices((np.zeros((2, 5, 5), "float32"), np.zeros(2, "int64")))
    with pytest.raises(ValueError, match=r"Received: shape=\(5, 5\)"):
        binarizer.dataset(wrong, 2)


def test_bad_images_are_refused():
    good = images(2)
    assert check_images(good, SIZE).shape == (2, SIZE, SIZE)
    assert check_images((good[..., None] * 255).astype("uint8"), SIZE).max() <= 1.0
    with pytest.raises(ValueError, match=r"Received: shape=\(2, 9, 9\)"):
        check_images(np.zeros((2, 9, 9)), SIZE)
    with pytest.raises(ValueError, match=r"Received: shape=\(0, 8, 8\)"):
        check_images(np.zeros((0, SIZE, SIZE)), SIZE)
    bad = good.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match="1 of 2 images.*Received: nan=1"):
        check_images(bad, SIZE)
    with pytest.raises(ValueError, match="Received: min=255, max=255, dtype=float64"):
        check_images(np.full((1, SIZE, SIZE), 255.0), SIZE)
    binarizer = Binarizer(CONFIG)
    with pytest.raises(ValueError, match="Received: min=-1"):
        binarizer.fixed(np.full((1, SIZE, SIZE), -1.0))
    layer = tiny_draw()
    with pytest.raises(ValueError, match=r"Received: images.shape=\(2, 9, 9\)"):
        layer(np.zeros((2, 9, 9), "float32"))
    with pytest.raises(ValueError, match=r"Received: noise.shape=\(2, 4, 4\)"):
        layer.generate(np.zeros((2, 4, 4), "float32"))
