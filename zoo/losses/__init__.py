"""Losses for sequence models, written in `keras.ops` (TensorFlow, JAX, torch).

Serializable `keras.losses.Loss` subclasses, registered as `zoo>Name`, so a
model compiled with one saves and loads as a `.keras` file.
"""

from zoo.losses.masked_sequence_loss import MaskedSequenceLoss

__all__ = ["MaskedSequenceLoss"]
