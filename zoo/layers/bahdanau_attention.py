"""Additive attention over a memory, one query per call (Bahdanau et al.)."""

import keras
from keras import ops

from zoo.layers._attention import AttentionBase
from zoo.layers._attention import attend


@keras.saving.register_keras_serializable(package="zoo")
class BahdanauAttention(AttentionBase):
    """Additive attention: `score(q, m_s) = v . tanh(W_q q + W_k m_s)`.

    Built for step-by-step decoders: `precompute_keys(memory)` projects the
    memory once per sequence, and each decoding step calls the layer with its
    query and those keys, so the loop does only the `W_q q` product and the
    weighted sum.

    Args:
        units: the size of the hidden layer inside the score.
        kernel_initializer: initializer of `W_q`, `W_k` and `v`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)`, e.g. the decoder's previous state.
        memory: `(batch, source_length, memory_dim)`, e.g. encoder outputs.
        keys: `precompute_keys(memory)`, or None to compute them here.
        mask: optional boolean `(batch, source_length)`; False positions get
            no weight.

    Returns:
        `(context, weights)`: `(batch, memory_dim)` and
        `(batch, source_length)` (rows sum to 1).

    Example:

    >>> attention = BahdanauAttention(8)
    >>> memory = keras.random.normal((2, 5, 6))
    >>> context, weights = attention(keras.ops.ones((2, 4)), memory)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 6), (2, 5))

    Reference:
        Bahdanau, Cho and Bengio, [Neural Machine Translation by Jointly
        Learning to Align and Translate](https://arxiv.org/abs/1409.0473),
        ICLR 2015.
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be a positive int. Received: units={units!r}")
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, memory_shape, keys_shape=None, mask_shape=None):
        self.query_kernel = self.add_weight(
            name="query_kernel", shape=(query_shape[-1], self.units),
            initializer=self.kernel_initializer,
        )
        self.memory_kernel = self.add_weight(
            name="memory_kernel", shape=(memory_shape[-1], self.units),
            initializer=self.kernel_initializer,
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.score_vector = self.add_weight(
            name="score_vector", shape=(self.units,), initializer=self.kernel_initializer
        )

    def precompute_keys(self, memory):
        """`W_k m_s + b` for every memory position: `(batch, source, units)`."""
        return ops.matmul(memory, self.memory_kernel) + self.bias

    def call(self, query, memory, keys=None, mask=None):
        if keys is None:
            keys = self.precompute_keys(memory)
        hidden = ops.tanh(keys + ops.expand_dims(ops.matmul(query, self.query_kernel), 1))
        scores = ops.sum(hidden * self.score_vector, axis=-1)
        return attend(scores, memory, mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
