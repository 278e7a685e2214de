"""An LSTM decoder with attention over a memory (encoder outputs, image grid)."""

import keras
from keras import ops

from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.lstm_cell import LSTMCell
from zoo.layers.luong_attention import LuongAttention
from zoo.ops import scan


@keras.saving.register_keras_serializable(package="zoo")
class AttentionDecoder(keras.layers.Layer):
    """Token embedding, LSTM, attention and output projection in one layer.

    The memory is any `(batch, positions, features)` tensor with an optional
    boolean mask: a translation encoder's outputs, or an image's feature
    grid flattened to positions (captioning). The same `step` serves
    training (teacher forcing, looped over the target with `zoo.ops.scan`)
    and inference (one token at a time under `zoo.decoding`, through
    `start_decoding` and `step_fn`), so the two cannot drift apart. Per
    step, with `e` the previous token's embedding and `(h, c)` the LSTM
    state:

    - `"bahdanau"`: `context = attend(h_prev)`; `h = LSTM([e, context])`;
      `out = tanh(W_c [h, context])` (the query is the previous state, as in
      Bahdanau et al. and Show, Attend and Tell).
    - `"luong"`: `h = LSTM([e, out_prev])` (input feeding);
      `context = attend(h)`; `out = tanh(W_c [h, context])` ("general"
      score, Luong et al.).
    - `"none"`: `h = LSTM(e)`; `out = tanh(W_c h)`: the memory reaches the
      decoder only through the initial state (Sutskever et al.).

    Logits are `W_o out + b`.

    With `context_gate=True` the context is scaled by
    `beta = sigmoid(w_b . q + b_b)`, `q` the attention's query (Show, Attend
    and Tell's gating scalar). Show, Attend and Tell's doubly stochastic
    regularization needs the attention weights: `call(...,
    return_attention=True)` returns them with the logits, and
    `doubly_stochastic_penalty` computes the penalty from them.

    Args:
        vocabulary_size: output vocabulary size.
        embedding_dim: token embedding size.
        units: LSTM and output sizes.
        attention: `"bahdanau"`, `"luong"` or `"none"`.
        attention_units: Bahdanau's score size (default `units`).
        dropout: dropout on the embeddings and on `out` (training only).
        embeddings_initializer: initializer of the token embeddings
            (default Keras's `"uniform"`, i.e. U(-0.05, 0.05)).
        context_gate: scale the context by a learned sigmoid gate of the
            query (default False; needs attention).
        **kwargs: base `Layer` arguments.

    Call arguments:
        target_ids: `(batch, time)` int previous-token ids (teacher forcing).
        memory: `(batch, positions, memory_dim)`.
        memory_mask: optional `(batch, positions)`, True at real positions.
        initial_h, initial_c: optional `(batch, units)` initial LSTM state
            (zeros when None).
        training: dropout on or off.
        return_attention: also return the attention weights.

    Returns:
        `(batch, time, vocabulary_size)` logits; with `return_attention=True`,
        `(logits, weights)`, weights `(batch, time, positions)`.

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
        https://arxiv.org/abs/1409.3215 (2014); Xu et al., Show, Attend and
        Tell, https://arxiv.org/abs/1502.03044 (2015).
    """

    ATTENTIONS = ("none", "bahdanau", "luong")

    def __init__(self, vocabulary_size, embedding_dim, units, attention="luong",
                 attention_units=None, dropout=0.0, embeddings_initializer="uniform",
                 context_gate=False, **kwargs):
        super().__init__(**kwargs)
        if attention not in self.ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {self.ATTENTIONS}. Received: attention={attention!r}"
            )
        if context_gate and attention == "none":
            raise ValueError(
                "`context_gate=True` needs a decoder with attention. "
                f"Received: attention={attention!r}"
            )
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.attention = attention
        self.attention_units = attention_units
        self.dropout = dropout
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.context_gate = context_gate
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
        # Created only when asked for, so that decoders without it keep
        # their weight list (and old checkpoints load).
        self.gate = (keras.layers.Dense(1, activation="sigmoid", name="context_gate")
                     if context_gate else None)
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
        if self.gate is not None:
            self.gate.build((batch, self.units))
        combined = self.units + (memory_dim if self.attention_layer is not None else 0)
        self.combine.build((batch, combined))
        self.output_projection.build((batch, self.units))

    # -- one step, shared by training and decoding -------------------------
    def prepare_memory(self, memory):
        """What the attention needs once per memory: the projected keys."""
        if self.attention_layer is None:
            return memory
        return self.attention_layer.precompute_keys(memory)

    def initial_state(self, initial_h, initial_c):
        """The loop state `(h, c, out)`; `out` feeds Luong's next input."""
        return (initial_h, initial_c, ops.zeros_like(initial_h))

    def _defaults(self, memory, memory_mask, initial_h, initial_c):
        batch = ops.shape(memory)[0]
        if initial_h is None:
            initial_h = ops.zeros((batch, self.units), dtype=self.compute_dtype)
        if initial_c is None:
            initial_c = ops.zeros((batch, self.units), dtype=self.compute_dtype)
        if memory_mask is None:
            memory_mask = ops.ones(ops.shape(memory)[:2], dtype="bool")
        return memory_mask, initial_h, initial_c

    def _attend(self, query, memory, keys, memory_mask):
        context, weights = self.attention_layer(query, memory, keys, memory_mask)
        if self.gate is not None:
            context = self.gate(query) * context
        return context, weights

    def _step(self, embedded, state, memory, keys, memory_mask):
        h, c, previous_out = state
        weights = None
        if self.attention == "bahdanau":
            context, weights = self._attend(h, memory, keys, memory_mask)
            x = ops.concatenate([embedded, context], axis=-1)
            h, (h, c) = self._cell(x, h, c)
            out = self.combine(ops.concatenate([h, context], axis=-1))
        elif self.attention == "luong":
            x = ops.concatenate([embedded, previous_out], axis=-1)
            h, (h, c) = self._cell(x, h, c)
            context, weights = self._attend(h, memory, keys, memory_mask)
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
        `attention_weights` `(batch, positions)` is None without attention.
        """
        embedded = self.embedding(token_ids)
        out, state, weights = self._step(embedded, state, memory, keys, memory_mask)
        return self.output_projection(out), state, weights

    # -- decoding under zoo.decoding ----------------------------------------
    def start_decoding(self, memory, memory_mask=None, initial_h=None, initial_c=None):
        """`(state, constants)` for `zoo.decoding`'s searches with `step_fn()`.

        `constants` is `(memory, keys, memory_mask)`; the searches tile it
        over beams. Missing `memory_mask`, `initial_h`, `initial_c` default
        as in `call`.
        """
        memory_mask, initial_h, initial_c = self._defaults(
            memory, memory_mask, initial_h, initial_c
        )
        constants = (memory, self.prepare_memory(memory), memory_mask)
        return self.initial_state(initial_h, initial_c), constants

    def step_fn(self):
        """`step_fn(token_ids, state, constants) -> (logits, state)` for
        `zoo.decoding.greedy_search` / `beam_search` / `sample_search`, the
        state and constants from `start_decoding`."""

        def step_fn(token_ids, state, constants):
            memory, keys, memory_mask = constants
            logits, state, _ = self.step(token_ids, state, memory, keys, memory_mask)
            return logits, state

        return step_fn

    # -- teacher forcing ----------------------------------------------------
    def call(self, target_ids, memory, memory_mask=None, initial_h=None, initial_c=None,
             training=False, return_attention=False):
        if return_attention and self.attention_layer is None:
            raise ValueError(
                "return_attention=True needs a decoder with attention. "
                f"Received: attention={self.attention!r}"
            )
        memory_mask, initial_h, initial_c = self._defaults(
            memory, memory_mask, initial_h, initial_c
        )
        embedded = self.dropout_layer(self.embedding(target_ids), training=training)
        keys = self.prepare_memory(memory)
        state = self.initial_state(initial_h, initial_c)

        def body(state, x_t):
            out, state, weights = self._step(x_t, state, memory, keys, memory_mask)
            if return_attention:  # scan collects one tensor per step
                return state, ops.concatenate([out, ops.cast(weights, out.dtype)], axis=-1)
            return state, out

        _, ys = scan(body, state, ops.transpose(embedded, (1, 0, 2)),
                     length=target_ids.shape[1])
        ys = ops.transpose(ys, (1, 0, 2))
        weights = None
        if return_attention:
            ys, weights = ys[..., : self.units], ys[..., self.units:]
        logits = self.output_projection(self.dropout_layer(ys, training=training))
        if return_attention:
            return logits, weights
        return logits

    @staticmethod
    def doubly_stochastic_penalty(weights, target_mask=None, memory_mask=None):
        """Show, Attend and Tell's attention regularizer, `sum_i (1 - sum_t
        alpha_ti)^2`, averaged over the batch: every position should get,
        over the whole output, about as much attention as any other.

        Args:
            weights: `(batch, time, positions)`, from `return_attention=True`.
            target_mask: optional `(batch, time)`, True at real target steps.
            memory_mask: optional `(batch, positions)`, True at real positions.

        Returns:
            A scalar; multiply by the regularization strength (lambda) and
            add it to the loss.
        """
        weights = ops.cast(weights, "float32")
        if target_mask is not None:
            weights = weights * ops.expand_dims(ops.cast(target_mask, "float32"), -1)
        penalty = ops.square(1.0 - ops.sum(weights, axis=1))
        if memory_mask is not None:
            penalty = penalty * ops.cast(memory_mask, "float32")
        return ops.mean(ops.sum(penalty, axis=-1))

    def compute_output_shape(self, target_ids_shape, memory_shape=None, *args, **kwargs):
        return tuple(target_ids_shape) + (self.vocabulary_size,)

    def compute_output_spec(self, target_ids, memory, *args, return_attention=False, **kwargs):
        logits = keras.KerasTensor(
            self.compute_output_shape(target_ids.shape, memory.shape), dtype=self.compute_dtype
        )
        if not return_attention:
            return logits
        weights = keras.KerasTensor(
            tuple(target_ids.shape) + (memory.shape[1],), dtype=self.compute_dtype
        )
        return logits, weights

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
                "context_gate": self.context_gate,
            }
        )
        return config
