"""MaskedSequenceLoss: the formula, label smoothing, config and saving."""

import keras
import numpy as np
import pytest

from tests.harness import to_numpy
from zoo.losses import MaskedSequenceLoss


def _log_softmax(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


@pytest.mark.backend_parity
def test_matches_its_formula():
    logits = np.random.default_rng(0).normal(size=(2, 3, 5)).astype("float32")
    y = np.array([[1, 2, 0], [3, 0, 0]])
    logp = _log_softmax(logits)
    expected = -(logp[0, 0, 1] + logp[0, 1, 2] + logp[1, 0, 3]) / 3
    np.testing.assert_allclose(float(MaskedSequenceLoss()(y, logits)), expected, rtol=1e-5)
    real = [(0, 0, 1), (0, 1, 2), (1, 0, 3)]
    smoothed = np.mean([-0.9 * logp[b, t, k] - 0.1 * logp[b, t].mean() for b, t, k in real])
    np.testing.assert_allclose(float(MaskedSequenceLoss(label_smoothing=0.1)(y, logits)),
                               smoothed, rtol=1e-5)
    # Another pad id; an all-padding batch gives 0, not NaN.
    np.testing.assert_allclose(float(MaskedSequenceLoss(pad_id=3)(y, logits)),
                               -np.mean([logp[b, t, y[b, t]] for b in range(2) for t in range(3)
                                         if y[b, t] != 3]), rtol=1e-5)
    assert float(MaskedSequenceLoss()(np.zeros((1, 2), "int32"), logits[:1, :2])) == 0.0


def test_config_and_bad_arguments():
    smooth = MaskedSequenceLoss(pad_id=2, label_smoothing=0.1)
    clone = MaskedSequenceLoss.from_config(smooth.get_config())
    assert (clone.pad_id, clone.label_smoothing) == (2, 0.1)
    with pytest.raises(ValueError, match="Received: label_smoothing=1.5"):
        MaskedSequenceLoss(label_smoothing=1.5)


@pytest.mark.backend_parity
def test_compiled_model_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,), dtype="int32")
    model = keras.Model(inputs, keras.layers.Embedding(5, 5)(inputs))
    model.compile("sgd", loss=MaskedSequenceLoss(0, 0.1))
    x = np.array([[1, 2, 3], [4, 0, 0]], "int32")
    y = np.array([[2, 3, 0], [1, 0, 0]], "int32")
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.loss, MaskedSequenceLoss) and loaded.loss.label_smoothing == 0.1
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)))
