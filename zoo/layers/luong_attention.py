"""Multiplicative attention over a memory, one query per call (Luong et al.)."""

import keras
from keras import ops

from zoo.layers._attention import AttentionBase
from zoo.layers._attention import attend


@keras.saving.register_keras_serializable(package="zoo")
class LuongAttention(AttentionBase):
    """Multiplicative attention: `score(q, m_s) = q . W_a m_s` ("general").

    With `score="dot"` there is no `W_a` (`score = q . m_s`, which needs
    equal query and memory sizes). As with `BahdanauAttention`,
    `precompute_keys(memory)` does the memory's projection once per sequence.

    Args:
        score: `"general"` (default) or `"dot"`.
        kernel_initializer: initializer of `W_a`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        query: `(batch, query_dim)`, e.g. the decoder's current output.
        memory: `(batch, source_length, memory_dim)`.
        keys: `precompute_keys(memory)`, or None to compute them here.
        mask: optional boolean `(batch, source_length)`.

    Returns:
        `(context, weights)`: `(batch, memory_dim)` and
        `(batch, source_length)`.

    Example:

    >>> attention = LuongAttention()
    >>> memory = keras.random.normal((2, 5, 6))
    >>> context, weights = attention(keras.ops.ones((2, 4)), memory)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 6), (2, 5))

    Reference:
        Luong, Pham and Manning, [Effective Approaches to Attention-based
        Neural Machine Translation](https://arxiv.org/abs/1508.04025),
        EMNLP 2015.
    """

    def __init__(self, score="general", kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if score not in ("general", "dot"):
            raise ValueError(
                f'`score` must be "general" or "dot". Received: score={score!r}'
            )
        self.score = score
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, memory_shape, keys_shape=None, mask_shape=None):
        if self.score == "general":
            self.kernel = self.add_weight(
                name="kernel", shape=(memory_shape[-1], query_shape[-1]),
                initializer=self.kernel_initializer,
            )
        elif query_shape[-1] != memory_shape[-1]:
            raise ValueError(
                'score="dot" needs query and memory of the same size. Received: '
                f"query_shape={tuple(query_shape)}, memory_shape={tuple(memory_shape)}"
            )

    def precompute_keys(self, memory):
        """`W_a m_s` for every memory position: `(batch, source, query_dim)`."""
        return ops.matmul(memory, self.kernel) if self.score == "general" else memory

    def call(self, query, memory, keys=None, mask=None):
        if keys is None:
            keys = self.precompute_keys(memory)
        scores = ops.sum(keys * ops.expand_dims(query, 1), axis=-1)
        return attend(scores, memory, mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "score": self.score,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
