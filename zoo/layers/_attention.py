"""Helpers shared by the attention layers."""

import keras
from keras import ops


class AttentionBase(keras.layers.Layer):
    """What the attention layers share: a call
    `(query, memory, keys=None, mask=None) -> (context, weights)`.

    The memory's mask is an input (`mask`), consumed by the softmax; the
    outputs have no time axis, so they carry no Keras mask (and Keras does
    not warn that one is dropped).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, *args, **kwargs):
        return None

    def compute_output_shape(self, query_shape, memory_shape, keys_shape=None, mask_shape=None):
        return (query_shape[0], memory_shape[-1]), (query_shape[0], memory_shape[1])


def masked_softmax(scores, mask=None):
    """Softmax over the last axis giving no weight where `mask` is False.

    A row with no True position gets all-zero weights (not NaN).
    """
    if mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.cast(mask, "bool")
    scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
    weights = ops.softmax(scores, axis=-1)
    return ops.where(mask, weights, ops.zeros_like(weights))


def attend(scores, memory, mask=None):
    """`(context, weights)`: masked softmax of `scores` `(batch, source)` and
    the weighted sum of `memory` `(batch, source, dim)`."""
    weights = masked_softmax(scores, mask)
    context = ops.sum(ops.expand_dims(weights, -1) * memory, axis=1)
    return context, weights
