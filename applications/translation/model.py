"""The encoder-decoder: BiLSTM encoder, attention LSTM decoder, decoding."""

import keras
from keras import ops

from applications.translation.preprocessing import END_ID
from applications.translation.preprocessing import PAD_ID
from applications.translation.preprocessing import START_ID
from zoo import decoding
from zoo import layers as zoo_layers
from zoo.layers import AttentionDecoder
from zoo.losses import MaskedSequenceLoss
from zoo.saving import former_names


def embeddings_initializer(config):
    """N(0, `embedding_stddev`^2) when the config sets it, else Keras's
    default U(-0.05, 0.05).

    With the default, the encoder's outputs start near 0.004 in magnitude,
    so additive attention's scores barely vary over the source and its
    parameters get gradients of 1e-6 or less: Bahdanau's decoder then sits
    on the unigram plateau for epochs. Unit-variance embeddings (PyTorch's
    default) give the LSTM pre-activations of order 1 from the first step.
    """
    stddev = config.get("embedding_stddev")
    if stddev is None:
        return "uniform"
    return keras.initializers.RandomNormal(stddev=stddev)


def build_encoder(config):
    """`source_ids -> (memory, initial_h, initial_c)`, a model named "encoder".

    A bidirectional `zoo.layers.LSTM` over the source embeddings (padding
    masked); the decoder's initial state is a learned bridge from both
    directions' final states.
    """
    source = keras.Input((None,), dtype="int32", name="source_ids")
    embedded = keras.layers.Embedding(
        config["source_vocabulary_size"], config["embedding_dim"], mask_zero=True,
        embeddings_initializer=embeddings_initializer(config), name="source_embedding",
    )(source)
    embedded = keras.layers.Dropout(config["dropout"])(embedded)
    units = config["encoder_units"]
    memory, fh, fc, bh, bc = keras.layers.Bidirectional(
        zoo_layers.LSTM(units, return_sequences=True, return_state=True),
        name="bilstm",
    )(embedded)
    decoder_units = config["decoder_units"]
    initial_h = keras.layers.Dense(decoder_units, activation="tanh", name="bridge_h")(
        keras.layers.Concatenate()([fh, bh])
    )
    initial_c = keras.layers.Dense(decoder_units, name="bridge_c")(
        keras.layers.Concatenate()([fc, bc])
    )
    return keras.Model(source, [memory, initial_h, initial_c], name="encoder")


def build_model(config, compile=True):
    """The training model `(source_ids, target_in) -> logits`, compiled.

    Its layers named "encoder" (a `keras.Model`) and "decoder" (an
    `AttentionDecoder`) are what `translate` runs at inference.
    """
    encoder = build_encoder(config)
    decoder = AttentionDecoder(
        config["target_vocabulary_size"], config["embedding_dim"], config["decoder_units"],
        attention=config["attention"], dropout=config["dropout"],
        embeddings_initializer=embeddings_initializer(config), name="decoder",
    )
    source = keras.Input((None,), dtype="int32", name="source_ids")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    memory, initial_h, initial_c = encoder(source)
    mask = SourceMask(name="source_mask")(source)
    logits = decoder(target_in, memory, mask, initial_h, initial_c)
    model = keras.Model([source, target_in], logits, name=f"seq2seq_{config['attention']}")
    if compile:
        from zoo.training import optimizer_from_config

        model.compile(
            optimizer=optimizer_from_config(config),
            loss=MaskedSequenceLoss(PAD_ID, config.get("label_smoothing", 0.0)),
        )
    return model


@former_names("zoo>SourceMask")  # its name until 2026-12
@keras.saving.register_keras_serializable(package="translation")
class SourceMask(keras.layers.Layer):
    """True at real source tokens: `ids != pad_id`."""

    def __init__(self, pad_id=PAD_ID, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = pad_id

    def call(self, ids):
        return ops.not_equal(ids, self.pad_id)

    def compute_output_shape(self, ids_shape):
        return ids_shape

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


def _parts(model):
    return model.get_layer("encoder"), model.get_layer("decoder")


def encode(model, source_ids):
    """Encoder outputs and the decoder's starting point for `source_ids`."""
    state, (memory, _, mask) = _start(model, source_ids)
    return memory, mask, state


def _start(model, source_ids):
    """`(state, constants)` of `AttentionDecoder.start_decoding`."""
    encoder, decoder = _parts(model)
    memory, initial_h, initial_c = encoder(source_ids, training=False)
    mask = ops.not_equal(source_ids, PAD_ID)
    return decoder.start_decoding(memory, mask, initial_h, initial_c)


def translate_ids(model, source_ids, max_length, beam_size=1, alpha=0.6, no_repeat_ngram_size=0):
    """Target ids `(batch, max_length)` for a batch of source ids.

    `beam_size=1` is greedy search; otherwise the best hypothesis of
    `zoo.decoding.beam_search` (with its repetition guard when
    `no_repeat_ngram_size` > 0). Runs on every backend and inside
    `tf.function`.
    """
    source_ids = ops.cast(source_ids, "int32")
    _, decoder = _parts(model)
    state, constants = _start(model, source_ids)
    step_fn = decoder.step_fn()
    batch = ops.shape(source_ids)[0]
    start = ops.full((batch,), START_ID, dtype="int32")
    if beam_size == 1:
        tokens, _ = decoding.greedy_search(
            step_fn, state, start, END_ID, max_length, constants=constants,
            pad_id=PAD_ID,
        )
        return tokens
    tokens, _, _ = decoding.beam_search(
        step_fn, state, start, END_ID, max_length, beam_size=beam_size,
        alpha=alpha, constants=constants, pad_id=PAD_ID,
        no_repeat_ngram_size=int(no_repeat_ngram_size),
    )
    return tokens[:, 0]


def attention_weights(model, source_ids, target_ids):
    """`(batch, target_len, source_len)` attention of the decoder when fed
    `[START] + target_ids` (teacher forcing); None without attention."""
    encoder, decoder = _parts(model)
    if decoder.attention == "none":
        return None
    memory, initial_h, initial_c = encoder(source_ids, training=False)
    mask = ops.not_equal(source_ids, PAD_ID)
    _, weights = decoder(target_ids, memory, mask, initial_h, initial_c, return_attention=True)
    return weights
