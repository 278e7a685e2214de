"""Serving endpoints: raw source strings in, translated strings out.

Decoding (beam search) runs inside the SavedModel; the tokenizers are
TensorFlow Text ops, so a process loading the export needs `tensorflow-text`
installed (`import tensorflow_text` registers the ops; TensorFlow Serving's
model server has them built in), and nothing from this project.
"""

import tensorflow as tf

from applications.translation.model import translate_ids
from applications.translation.preprocessing import UNK_ID
from zoo.application import Endpoint


def translate_function(model, preprocessor, beam_size=5, alpha=0.6, no_repeat_ngram_size=0):
    """`texts -> dict` of translations and diagnostics (tf ops).

    Returns `translation` (string; "" for an empty source), `source_tokens`
    (source pieces before truncation), `truncated` (True when the source was
    longer than `max_source_length` pieces and only its start was read) and
    `unknown_tokens` (source pieces outside the vocabulary).
    """
    max_length = preprocessor.max_target_length

    def translate(texts):
        ids, lengths = preprocessor.source_ids(texts)
        # An all-empty batch still needs one (padding) column to encode.
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])
        tokens = translate_ids(model, ids, max_length, beam_size=beam_size, alpha=alpha,
                               no_repeat_ngram_size=no_repeat_ngram_size)
        text = preprocessor.detokenize(tokens)
        text = tf.where(lengths > 0, text, tf.constant(""))
        return {
            "translation": text,
            "source_tokens": lengths,
            "truncated": lengths > preprocessor.max_source_length,
            "unknown_tokens": tf.reduce_sum(tf.cast(tf.equal(ids, UNK_ID), tf.int32), axis=1),
        }

    return translate


def export_endpoints(model, preprocessor, beam_size=None, alpha=None):
    """`translate` (beam search; the `serving_default`) and `translate_greedy`."""
    beam_size = beam_size or preprocessor.decoding["beam_size"]
    alpha = preprocessor.decoding["length_penalty"] if alpha is None else alpha
    guard = preprocessor.decoding["no_repeat_ngram_size"]
    spec = [tf.TensorSpec([None], tf.string, name="texts")]
    return [
        Endpoint("translate", translate_function(model, preprocessor, beam_size, alpha, guard), spec),
        Endpoint("translate_greedy", translate_function(model, preprocessor, 1, 0.0), spec),
    ]
