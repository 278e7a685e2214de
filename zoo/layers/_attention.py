"""Helpers shared by the attention layers."""

from keras import ops


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
