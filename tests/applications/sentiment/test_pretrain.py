"""The encoder pretraining of the sentiment application, on a tiny config."""

import numpy as np
import tensorflow as tf

from applications.sentiment import pretrain
from applications.sentiment.model import build_model
from applications.sentiment.model import MaskedPooling
from applications.sentiment.preprocessing import TextPreprocessor

TINY = {
    "vocabulary_size": 40,
    "max_length": 6,
    "embedding_dim": 4,
    "units": 3,
    "bidirectional": True,
    "layers": 1,
    "pooling": "max_mean",
    "dropout": 0.0,
    "embedding_dropout": 0.0,
    "learning_rate": 1e-2,
    "clipnorm": 1.0,
    "batch_size": 4,
}
PRETRAIN = {**pretrain.DEFAULT_PRETRAIN, "lm_vocabulary": 10, "batch_size": 4}
TEXTS = ["a fine film , truly", "the plot is thin", "a thin and dull film!", "fine"] * 3


def test_token_stream_and_windows():
    pre = TextPreprocessor.fit(TINY, tf.data.Dataset.from_tensor_slices(TEXTS))
    stream = pretrain.token_stream(pre, TEXTS, chunk=5)
    assert stream.dtype == np.int32
    assert len(stream) == sum(len(t.replace(",", " ").replace("!", " ").split()) for t in TEXTS)
    assert stream.min() >= 1  # no padding inside the stream
    # Same ids as the classifier's preprocessing.
    np.testing.assert_array_equal(pre(tf.constant(["the plot is thin"]))[0, :4], stream[4:8])
    w = pretrain.windows(stream, 5, shuffle_seed=0)
    assert w.shape == (len(stream) // 5, 5)
    assert sorted(map(tuple, w)) == sorted(map(tuple, pretrain.windows(stream, 5)))


def test_language_model_trains_and_transfers(tmp_path):
    lm = pretrain.build_language_model(TINY, PRETRAIN)
    w = np.random.default_rng(0).integers(1, 40, size=(8, TINY["max_length"] + 2)).astype("int32")
    labels = {"next_word": np.minimum(w[:, 2:], 9), "previous_word": np.minimum(w[:, :-2], 9)}
    history = lm.fit(w[:, 1:-1], labels, epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    arrays = {f"{name}/{i}": v for name in ("embedding", "bilstm_0")
              for i, v in enumerate(lm.get_layer(name).get_weights())}
    path = str(tmp_path / "encoder.npz")
    np.savez(path, **arrays)
    model = build_model({**TINY, "pretrained_encoder": path})
    for name in ("embedding", "bilstm_0"):
        for a, b in zip(model.get_layer(name).get_weights(), lm.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    # A missing encoder file only warns (trained weights are loaded over it).
    build_model({**TINY, "pretrained_encoder": str(tmp_path / "missing.npz")})


def test_masked_pooling_ignores_padding():
    x = tf.constant([[[1.0], [5.0], [-7.0]], [[2.0], [3.0], [4.0]]])
    mask = tf.constant([[True, False, True], [False, False, False]])
    out = MaskedPooling("max_mean")(x, mask=mask).numpy()
    np.testing.assert_allclose(out, [[1.0, -3.0], [0.0, 0.0]])
