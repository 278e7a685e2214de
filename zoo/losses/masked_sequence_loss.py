"""Cross-entropy over the real (non-padding) tokens of a target sequence."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class MaskedSequenceLoss(keras.losses.Loss):
    """Mean token cross-entropy, padding (`pad_id`) excluded, with optional
    label smoothing (Szegedy et al., 2016).

    Args:
        pad_id: the target id that marks padding.
        label_smoothing: the probability mass spread uniformly over the
            vocabulary (0 = plain cross-entropy).
        **kwargs: base `Loss` arguments (`name`, ...).

    Example:

    >>> loss = MaskedSequenceLoss(label_smoothing=0.1)
    >>> float(loss(keras.ops.array([[5, 0]]), keras.ops.zeros((1, 2, 10))))  # doctest: +ELLIPSIS
    2.30...

    Reference:
        Szegedy et al., [Rethinking the Inception Architecture](
        https://arxiv.org/abs/1512.00567), 2016 (label smoothing).
    """

    def __init__(self, pad_id=0, label_smoothing=0.0, name="masked_sequence_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing!r}"
            )
        self.pad_id = pad_id
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        logp = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        nll = -ops.squeeze(ops.take_along_axis(logp, ops.expand_dims(y_true, -1), axis=-1), -1)
        if self.label_smoothing:
            nll = (1.0 - self.label_smoothing) * nll - self.label_smoothing * ops.mean(logp, axis=-1)
        mask = ops.cast(ops.not_equal(y_true, self.pad_id), "float32")
        # One number per batch: the mean over its real tokens, whatever the padding.
        return ops.sum(nll * mask) / ops.maximum(ops.sum(mask), 1.0)

    def get_config(self):
        config = super().get_config()
        config.update({"pad_id": self.pad_id, "label_smoothing": self.label_smoothing})
        return config
