"""Text to token ids, outside the model: in tf.data and in the export endpoint."""

import os

import keras
import numpy as np
import tensorflow as tf

VOCABULARY_FILE = "asset_vocabulary.txt"


class TextPreprocessor:
    """Cleans, tokenizes and pads text for the sentiment model.

    Invalid UTF-8 bytes become U+FFFD (never an error), text is lower-cased
    and stripped of punctuation, split on whitespace, mapped through a
    vocabulary fitted on the training split only, and post-padded with 0
    (so `Embedding(mask_zero=True)` masks the padding and the recurrent
    layers stay on their fast paths). Texts longer than `max_length` tokens
    are truncated; `num_tokens` says by how much.

    Args:
        vocabulary_size: maximum vocabulary size, the padding and OOV ids included.
        max_length: tokens kept per text.
        vocabulary: the token list (without padding and OOV), if known.
    """

    def __init__(self, vocabulary_size, max_length, vocabulary=None):
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.vectorizer = keras.layers.TextVectorization(
            max_tokens=vocabulary_size,
            output_mode="int",
            output_sequence_length=max_length,
            standardize=None,  # clean_text() does it, with tf ops
            vocabulary=vocabulary,
        )
        # A weightless layer whose `build` does nothing, but Keras marks a
        # layer built only once it is built or called, and an export
        # (`ExportArchive.track`) refuses an unbuilt layer. Built here, a
        # preprocessor read back from its assets exports before any call.
        self.vectorizer.build(None)

    @classmethod
    def fit(cls, config, texts):
        """Fit the vocabulary on a tf.data.Dataset of training texts."""
        preprocessor = cls(config["vocabulary_size"], config["max_length"])
        preprocessor.vectorizer.adapt(texts.batch(1024).map(clean_text))
        vocabulary = preprocessor.vectorizer.get_vocabulary(include_special_tokens=False)
        return cls(config["vocabulary_size"], config["max_length"], vocabulary)

    @classmethod
    def load(cls, config, directory):
        path = os.path.join(directory, VOCABULARY_FILE)
        if not os.path.exists(path):
            raise ValueError(
                f"{directory} has no {VOCABULARY_FILE} (written by train with the weights): is it "
                f"a sentiment run directory? Received: directory={directory!r}"
            )
        with open(path, encoding="utf-8", errors="replace") as f:
            vocabulary = f.read().split("\n")
        return cls(config["vocabulary_size"], config["max_length"], vocabulary)

    def save(self, directory):
        from zoo.io import atomic_path

        vocabulary = self.vectorizer.get_vocabulary(include_special_tokens=False)
        with atomic_path(os.path.join(directory, VOCABULARY_FILE)) as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write("\n".join(vocabulary))

    def __call__(self, texts):
        """Token ids `(batch, max_length)` int32 for a batch of strings."""
        return tf.cast(self.vectorizer(clean_text(texts)), tf.int32)

    def num_tokens(self, texts):
        """Tokens per text before truncation (0 for an empty text)."""
        words = tf.strings.split(clean_text(texts))
        return tf.cast(words.row_lengths(), tf.int32)

    def dataset(self, raw, batch_size, shuffle=False, seed=0):
        if shuffle:
            raw = raw.shuffle(20000, seed=seed, reshuffle_each_iteration=True)
        return (
            raw.batch(batch_size)
            .map(lambda text, label: (self(text), label), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )

    def trackables(self):
        return [self.vectorizer]

    def vocabulary(self):
        return self.vectorizer.get_vocabulary()


def clean_text(texts):
    """Replace invalid UTF-8, lower-case and strip punctuation (tf ops)."""
    texts = tf.strings.unicode_transcode(
        texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    texts = tf.strings.lower(texts, encoding="utf-8")
    return tf.strings.regex_replace(texts, r"[^\w\s']|'(\s|$)", " ")


def decode_texts(values):
    """Python strings from a list of str or bytes, for the CLI (never raises)."""
    out = []
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        out.append(value)
    return np.array(out, dtype=object)


def build_preprocessor(config, train_data, directory):
    """The application's preprocessor: read back from `directory`'s assets,
    or fitted on `train_data`'s texts.

    With `config["pretrained_encoder"]` the vocabulary is the one
    `applications.sentiment.pretrain` saved beside the encoder, so that the
    ids mean the same words as in pretraining (train then saves it into the
    run directory as usual).
    """
    import os

    if directory is not None:
        return TextPreprocessor.load(config, directory)
    encoder = config.get("pretrained_encoder")
    if encoder:
        if not os.path.exists(encoder):
            raise ValueError(
                f"The config's pretrained_encoder {encoder} does not exist; write "
                "it first with `python -m applications.sentiment.pretrain "
                f"--output-dir {os.path.dirname(encoder) or '.'}`. "
                f"Received: pretrained_encoder={encoder!r}"
            )
        return TextPreprocessor.load(config, os.path.dirname(encoder))
    return TextPreprocessor.fit(config, train_data.map(lambda text, label: text))
