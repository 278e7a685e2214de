"""The sentiment classifier: embedding, (bi)LSTM from `zoo.layers`, head."""

import logging
import os

import keras
import numpy as np
from keras import ops

import zoo.layers
from zoo.training import optimizer_from_config

logger = logging.getLogger(__name__)

POOLINGS = ("last", "max", "mean", "max_mean")
ENCODER_LAYERS = ("embedding", "bilstm_0")
"""Layers whose weights `applications.sentiment.pretrain` writes (`encoder.npz`)."""


@keras.saving.register_keras_serializable(package="sentiment")
class MaskedPooling(keras.layers.Layer):
    """Max and / or mean over the time steps a mask keeps.

    `(batch, time, features)` with a `(batch, time)` mask to
    `(batch, features)` (`"max"`, `"mean"`) or `(batch, 2 * features)`
    (`"max_mean"`: the max then the mean). A row whose mask is all false
    (an empty text) pools to zeros.

    Args:
        mode: `"max"`, `"mean"` or `"max_mean"`.
    """

    def __init__(self, mode="max_mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "mean", "max_mean"):
            raise ValueError(
                "`mode` must be 'max', 'mean' or 'max_mean'. " f"Received: mode={mode!r}"
            )
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        keep = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        any_kept = ops.cast(ops.sum(keep, axis=1) > 0, inputs.dtype)
        pooled = []
        if self.mode in ("max", "max_mean"):
            very_negative = ops.cast(-1e9, inputs.dtype)
            masked = ops.where(ops.cast(keep, "bool"), inputs, very_negative)
            pooled.append(ops.max(masked, axis=1) * any_kept)
        if self.mode in ("mean", "max_mean"):
            total = ops.sum(inputs * keep, axis=1)
            pooled.append(total / ops.maximum(ops.sum(keep, axis=1), 1.0))
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        if self.mode == "max_mean" and features is not None:
            features = 2 * features
        return (input_shape[0], features)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def build_encoder(config, sequences=False):
    """Token ids -> embedding -> (bi)LSTM stack, as `(ids, outputs)` tensors.

    With `sequences=True` the last layer returns every step (for pooling
    or a language-model head). The first recurrent layer is `bilstm_0`
    (or `lstm_0` when not bidirectional); the embedding is `embedding`.
    """
    ids = keras.Input((config["max_length"],), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(
        config["vocabulary_size"], config["embedding_dim"], mask_zero=True, name="embedding"
    )(ids)
    x = keras.layers.Dropout(config.get("embedding_dropout", 0.0))(x)
    n_layers = config.get("layers", 1)
    for i in range(n_layers):
        last = i == n_layers - 1
        rnn = zoo.layers.LSTM(
            config["units"],
            return_sequences=sequences or not last,
            dropout=config.get("lstm_dropout", 0.0),
            name=f"lstm_{i}",
        )
        if config.get("bidirectional", True):
            rnn = keras.layers.Bidirectional(rnn, name=f"bilstm_{i}")
        x = rnn(x)
    return ids, x


def load_pretrained_encoder(model, path):
    """Copy the weights of `encoder.npz` (written by pretrain) into `model`.

    The file holds, for each layer name in it, arrays `"<layer>/<i>"` in
    the order of `layer.get_weights()`; shapes must match the model's.
    """
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    names = sorted({key.split("/")[0] for key in arrays})
    for name in names:
        layer = model.get_layer(name)
        values = [arrays[f"{name}/{i}"] for i in range(len(layer.get_weights()))]
        expected = [tuple(w.shape) for w in layer.get_weights()]
        received = [tuple(v.shape) for v in values]
        if expected != received:
            raise ValueError(
                f"The pretrained encoder {path} does not fit layer {name!r} of the "
                f"model (vocabulary_size, embedding_dim and units must equal the "
                f"pretraining's). Expected shapes {expected}. Received: {received}"
            )
        layer.set_weights(values)
    return names


def build_model(config):
    """A compiled binary classifier over token ids `(batch, max_length)`.

    Config keys: `vocabulary_size`, `max_length`, `embedding_dim`, `units`,
    `bidirectional`, `layers`, `dropout`, `embedding_dropout`,
    `lstm_dropout`, `learning_rate`, `clipnorm`, and optionally:

    - `pooling`: `"last"` (default: the last state of each direction),
      `"max"`, `"mean"` or `"max_mean"` (masked pooling over every step of
      the last (bi)LSTM layer).
    - `pretrained_encoder`: an `encoder.npz` written by
      `python -m applications.sentiment.pretrain`, whose embedding and
      first (bi)LSTM layer initialize the model's. The training
      preprocessor then reuses the vocabulary saved beside it (see
      `applications.sentiment._build_preprocessor`). When the file is
      missing, as when loading trained weights elsewhere, the model is
      built with a warning and random initial weights (trained weights
      are loaded over them anyway).

    Outputs the probability that the text is positive ("fresh").
    """
    pooling = config.get("pooling", "last")
    if pooling not in POOLINGS:
        raise ValueError(f"`pooling` must be one of {POOLINGS}. Received: pooling={pooling!r}")
    ids, x = build_encoder(config, sequences=pooling != "last")
    if pooling != "last":
        x = MaskedPooling(pooling, name="pooling")(x)
    x = keras.layers.Dropout(config.get("dropout", 0.0))(x)
    probability = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    model = keras.Model(ids, probability, name="sentiment_lstm")
    encoder = config.get("pretrained_encoder")
    if encoder:
        if os.path.exists(encoder):
            load_pretrained_encoder(model, encoder)
        else:
            logger.warning(
                "pretrained_encoder %s not found: the model starts from random "
                "weights (fine when trained weights are loaded next).",
                encoder,
            )
    model.compile(
        optimizer=optimizer_from_config(config),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    return model
