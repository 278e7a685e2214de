"""A tiny translation model and preprocessor, built in seconds."""

import pytest

SENTENCES = [
    ("In the beginning God created the heaven and the earth.",
     "EN el principio crió Dios los cielos y la tierra."),
    ("And God said, Let there be light: and there was light.",
     "Y dijo Dios: Sea la luz: y fué la luz."),
    ("And the evening and the morning were the first day.",
     "Y fué la tarde y la mañana un día."),
    ("Jesus wept.", "Y lloró Jesús."),
]


def tiny_vocabulary(texts):
    """Reserved tokens, every word and every character (also as ##suffix)."""
    import re

    from applications.translation.preprocessing import RESERVED_TOKENS

    words, chars = set(), set()
    for text in texts:
        for word in re.findall(r"\w+|[^\w\s]", text):
            words.add(word)
            chars.update(word)
    pieces = sorted(words | chars) + sorted("##" + c for c in chars)
    seen, out = set(), []
    for piece in RESERVED_TOKENS + pieces:
        if piece not in seen:
            seen.add(piece)
            out.append(piece)
    return out


TINY_CONFIG = {
    "source_vocabulary_size": 128,
    "target_vocabulary_size": 128,
    "max_source_length": 12,
    "max_target_length": 16,
    "embedding_dim": 8,
    "encoder_units": 6,
    "decoder_units": 10,
    "attention": "luong",
    "dropout": 0.0,
    "label_smoothing": 0.1,
    "learning_rate": 1e-2,
    "clipnorm": 1.0,
    "epochs": 1,
    "batch_size": 4,
    "beam_size": 3,
    "length_penalty": 0.6,
}


def make_preprocessor(config=None):
    from applications.translation.preprocessing import TranslationPreprocessor

    config = dict(TINY_CONFIG, **(config or {}))
    source = tiny_vocabulary([s for s, _ in SENTENCES])
    target = tiny_vocabulary([t for _, t in SENTENCES])
    config["source_vocabulary_size"] = len(source)
    config["target_vocabulary_size"] = len(target)
    return TranslationPreprocessor(source, target, config["max_source_length"],
                                   config["max_target_length"], config), config


@pytest.fixture
def tiny():
    """`(model, preprocessor, config)`, the model fitted a few steps."""
    import keras
    import tensorflow as tf

    from applications.translation.model import build_model

    keras.utils.set_random_seed(0)
    preprocessor, config = make_preprocessor()
    model = build_model(config)
    raw = tf.data.Dataset.from_tensor_slices(
        ([s for s, _ in SENTENCES], [t for _, t in SENTENCES])
    )
    model.fit(preprocessor.dataset(raw, 4).repeat(5), epochs=1, verbose=0)
    return model, preprocessor, config
