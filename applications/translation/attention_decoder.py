"""An LSTM decoder with attention over the encoder's outputs."""

import keras
from keras import ops

from zoo.layers import BahdanauAttention
from zoo.layers import LSTMCell
from zoo.layers import LuongAttention
from zoo.ops import scan

ATTENTIONS = ("none", "bahdanau", "luong")


@keras.saving.register_keras_serializable(package="zoo")
class AttentionDecoder(keras.layers.Layer):
    """Target embedding, LSTM, attention and output projection in one layer.

    The same `step` serves training (teacher forcing, looped over the target
    with `zoo.ops.scan`) and inference (one token at a time under
    `zoo.decoding`), so the two cannot drift apart. Per step, with `e` the
    previous target token's embedding and `(h, c)` the LSTM state:

    - `"bahdanau"`: `context = attend(h_prev)`; `h = LSTM([e, context])`;
      `out = tanh(W_c [h, context])` (the query is the previous state, as in
      Bahdanau et al.).
    - `"luong"`: `h = LSTM([e, out_prev])` (input feeding);
      `context = attend(h)`; `out = tanh(W_c [h, context])` ("general"
      score, Luong et al.).
    - `"none"`: `h = LSTM(e)`; `out = tanh(W_c h)`: the encoder reaches the
      decoder only through the initial state (Sutskever et al.).

    Logits are `W_o out + b`.

    Args:
        vocabulary_size: target vocabulary size.
        embedding_dim: target embedding size.
        units: LSTM and output sizes.
        attention: `"bahdanau"`, `"luong"` or `"none"`.
        attention_units: Bahdanau's score size (default `units`).
        dropout: dropout on the embeddings and on `out` (training only).
        embeddings_initializer: initializer of the target embeddings
            (default Keras's `"uniform"`, i.e. U(-0.05, 0.05)).
        **kwargs: base `Layer` arguments.

    Call arguments:
        target_ids: `(batch, time)` int previous-token ids (teacher forcing).
        memory: `(batch, source, memory_dim)` encoder outputs.
        memory_mask: `(batch, source)` True at real source tokens.
        initial_h, initial_c: `(batch, units)` initial LSTM state.

    Returns:
        `(batch, time, vocabulary_size)` logits.

    Example:

    >>> decoder = AttentionDecoder(100, 16, 32, attention="luong")
    >>> logits = decoder(keras.ops.ones((2, 7), "int32"), keras.random.normal((2, 5, 24)),
    ...                  keras.ops.ones((2, 5), "bool"), keras.ops.zeros((2, 32)),
    ...                  keras.ops.zeros((2, 32)))
    >>> tuple(logits.shape)
    (2, 7, 100)

    Reference:
        Bahdanau et al., https://arxiv.org/abs/1409.0473 (2015); Luong et al.,
        https://arxiv.org/abs/1508.04025 (2015); Sutskever et al.,
        https://arxiv.org/abs/1409.3215 (2014).
    """

    def __init__(self, vocabulary_size, embedding_dim, units, attention="luong",
                 attention_units=None, dropout=0.0, embeddings_initializer="uniform",
                 **kwargs):
        super().__init__(**kwargs)
        if attention not in ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {ATTENTIONS}. Received: attention={attention!r}"
            )
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.attention = attention
        self.attention_units = attention_units
        self.dropout = dropout
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, embeddings_initializer=self.embeddings_initializer,
            name="embedding",
        )
        self.cell = LSTMCell(units, name="lstm_cell")
        if attention == "bahdanau":
            self.attention_layer = BahdanauAttention(attention_units or units, name="attention")
        elif attention == "luong":
            self.attention_layer = LuongAttention("general", name="attention")
        else:
            self.attention_layer = None
        self.combine = keras.layers.Dense(units, activation="tanh", use_bias=False, name="combine")
        self.output_projection = keras.layers.Dense(vocabulary_size, name="output_projection")
        self.dropout_layer = keras.layers.Dropout(dropout)

    def build(self, target_ids_shape, memory_shape, memory_mask_shape=None,
              initial_h_shape=None, initial_c_shape=None):
        batch, memory_dim = memory_shape[0], memory_shape[-1]
        self.embedding.build(target_ids_shape)
        feed = {"bahdanau": memory_dim, "luong": self.units, "none": 0}[self.attention]
        self.cell.build((batch, self.embedding_dim + feed))
        if self.attention_layer is not None:
            self.attention_layer.build((batch, self.units), memory_shape)
        combined = self.units + (memory_dim if self.attention_layer is not None else 0)
        self.combine.build((batch, combined))
        self.output_projection.build((batch, self.units))

    # -- one step, shared by training and decoding -------------------------
    def prepare_memory(self, memory):
        """What the attention needs once per source: the projected keys."""
        if self.attention_layer is None:
            return memory
        return self.attention_layer.precompute_keys(memory)

    def initial_state(self, initial_h, initial_c):
        """The loop state `(h, c, out)`; `out` feeds Luong's next input."""
        return (initial_h, initial_c, ops.zeros_like(initial_h))

    def _step(self, embedded, state, memory, keys, memory_mask):
        h, c, previous_out = state
        weights = None
        if self.attention == "bahdanau":
            context, weights = self.attention_layer(h, memory, keys, memory_mask)
            x = ops.concatenate([embedded, context], axis=-1)
            h, (h, c) = self._cell(x, h, c)
            out = self.combine(ops.concatenate([h, context], axis=-1))
        elif self.attention == "luong":
            x = ops.concatenate([embedded, previous_out], axis=-1)
            h, (h, c) = self._cell(x, h, c)
            context, weights = self.attention_layer(h, memory, keys, memory_mask)
            out = self.combine(ops.concatenate([h, context], axis=-1))
        else:
            h, (h, c) = self._cell(embedded, h, c)
            out = self.combine(h)
        return out, (h, c, out), weights

    def _cell(self, x, h, c):
        output, states = self.cell(x, [h, c])
        return output, (states[0], states[1])

    def step(self, token_ids, state, memory, keys, memory_mask):
        """One decoding step: `(logits, state, attention_weights)`.

        `token_ids` `(batch,)` are the previous tokens; `state` comes from
        `initial_state` or the previous step; `keys` from `prepare_memory`.
        `attention_weights` is None without attention.
        """
        embedded = self.embedding(token_ids)
        out, state, weights = self._step(embedded, state, memory, keys, memory_mask)
        return self.output_projection(out), state, weights

    # -- teacher forcing ----------------------------------------------------
    def call(self, target_ids, memory, memory_mask=None, initial_h=None, initial_c=None,
             training=False, return_attention=False):
        if return_attention and self.attention_layer is None:
            raise ValueError(
                "return_attention=True needs a decoder with attention. "
                f"Received: attention={self.attention!r}"
            )
        batch = ops.shape(memory)[0]
        if initial_h is None:
            initial_h = ops.zeros((batch, self.units), dtype=self.compute_dtype)
        if initial_c is None:
            initial_c = ops.zeros((batch, self.units), dtype=self.compute_dtype)
        if memory_mask is None:
            memory_mask = ops.ones(ops.shape(memory)[:2], dtype="bool")
        embedded = self.dropout_layer(self.embedding(target_ids), training=training)
        keys = self.prepare_memory(memory)
        state = self.initial_state(initial_h, initial_c)

        def body(state, x_t):
            out, state, weights = self._step(x_t, state, memory, keys, memory_mask)
            if return_attention:
                return state, weights
            return state, out

        _, ys = scan(body, state, ops.transpose(embedded, (1, 0, 2)),
                     length=target_ids.shape[1])
        ys = ops.transpose(ys, (1, 0, 2))
        if return_attention:
            return ys  # (batch, time, source) attention weights
        return self.output_projection(self.dropout_layer(ys, training=training))

    def compute_output_shape(self, target_ids_shape, memory_shape, *args, **kwargs):
        return tuple(target_ids_shape) + (self.vocabulary_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "units": self.units,
                "attention": self.attention,
                "attention_units": self.attention_units,
                "dropout": self.dropout,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
