"""Seeded sampling over a step function, in `keras.ops` (every backend)."""

from keras import ops

from zoo.decoding._common import NEG_INF
from zoo.decoding._common import check_decoding_args
from zoo.decoding._common import token_loop


def _hash32(x):
    """A 32-bit integer mix (Wellons' "lowbias32"): a bijection on uint32."""
    x = ops.bitwise_xor(x, ops.right_shift(x, ops.cast(16, "uint32")))
    x = ops.multiply(x, ops.cast(0x7FEB352D, "uint32"))
    x = ops.bitwise_xor(x, ops.right_shift(x, ops.cast(15, "uint32")))
    x = ops.multiply(x, ops.cast(0x846CA68B, "uint32"))
    return ops.bitwise_xor(x, ops.right_shift(x, ops.cast(16, "uint32")))


def counter_uniform(seed, step, shape):
    """Uniform numbers in (0, 1) that depend only on `(seed, step)`.

    A counter-based generator: the number at flat index `i` of `shape` is a
    hash of `(seed, step, i)`, so a loop can draw fresh numbers at every step
    without carrying a random state, the draw is the same on every backend
    (TensorFlow and JAX give identical samples for one seed) and a `seed`
    may be a tensor, e.g. an input of an exported SavedModel.

    Args:
        seed: an int or int scalar tensor.
        step: an int or int scalar tensor (the position in the sequence).
        shape: a static shape `(d0, d1, ...)`; entries may be tensors.

    Returns:
        float32 tensor of `shape`, values in (0, 1).
    """
    seed = ops.cast(ops.cast(seed, "int32"), "uint32")
    step = ops.cast(ops.cast(step, "int32"), "uint32")
    size = 1
    for d in shape:
        size = size * d
    counter = ops.cast(ops.arange(size, dtype="int32"), "uint32")
    key = _hash32(ops.bitwise_xor(seed, _hash32(step + ops.cast(0x9E3779B9, "uint32"))))
    bits = _hash32(ops.bitwise_xor(counter, key))
    # The top 24 bits, centred in their interval: never exactly 0 or 1.
    top = ops.cast(ops.right_shift(bits, ops.cast(8, "uint32")), "float32")
    return ops.reshape((top + 0.5) / 16777216.0, shape)


def _check_sampling_args(temperature, top_k):
    if isinstance(temperature, (int, float)) and not temperature > 0:
        raise ValueError(
            "`temperature` must be > 0 (use greedy_search for the argmax). "
            f"Received: temperature={temperature!r}"
        )
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(
            f"`top_k` must be a positive int or None. Received: top_k={top_k!r}"
        )


def sample_logits(logits, seed, step, temperature=1.0, top_k=None):
    """One token per row of `logits` `(batch, vocabulary)`, drawn from
    `softmax(logits / temperature)` restricted to the `top_k` largest.

    Draws with the Gumbel-max trick over `counter_uniform(seed, step, ...)`.
    Returns an int32 vector `(batch,)`.
    """
    _check_sampling_args(temperature, top_k)
    logits = ops.cast(logits, "float32") / ops.cast(temperature, "float32")
    vocabulary = logits.shape[-1]
    if top_k is not None and vocabulary is not None and top_k < vocabulary:
        kth = ops.top_k(logits, top_k, sorted=True)[0][:, -1:]
        logits = ops.where(ops.less(logits, kth), NEG_INF, logits)
    u = counter_uniform(seed, step, tuple(ops.shape(logits)))
    gumbel = -ops.log(-ops.log(u))
    return ops.cast(ops.argmax(logits + gumbel, axis=-1), "int32")


def sample_search(
    step_fn,
    initial_state,
    start_ids,
    end_id,
    max_length,
    temperature=1.0,
    top_k=None,
    seed=0,
    constants=None,
    pad_id=0,
):
    """Generate by sampling each next token, reproducibly for a given seed.

    The same loop as `greedy_search` (a `keras.ops.while_loop` that compiles
    under `tf.function` and `jax.jit`, and stops when every sequence has
    produced `end_id`), drawing each token from the step's distribution
    sharpened or flattened by `temperature` and cut to its `top_k` most
    likely tokens. The draw depends only on `seed`, so the same seed gives
    the same sequences on every backend and inside a SavedModel.

    Args:
        step_fn: `step_fn(token_ids, state, constants) -> (logits, state)`,
            as for `greedy_search`.
        initial_state: the decoder's state before the first token.
        start_ids: the first input token: an int or a vector `(batch,)`.
        end_id: the end-of-sequence token id (included in the output), or
            `None` to generate `max_length` tokens.
        max_length: the most tokens to generate.
        temperature: > 0; below 1 sharpens the distribution, above 1
            flattens it. A float or a scalar tensor.
        top_k: sample only among the `top_k` most likely tokens (`None`: all).
        seed: an int or an int scalar tensor.
        constants: anything `step_fn` needs that does not change.
        pad_id: fills the positions after a sequence's end.

    Returns:
        `(tokens, lengths)`: int32 `(batch, max_length)` and `(batch,)`.

    Example:

    >>> table = keras.ops.log(keras.ops.array([[0.5, 0.5], [0.5, 0.5]]))
    >>> step = lambda ids, state, _: (keras.ops.take(table, ids, axis=0), state)
    >>> tokens, lengths = sample_search(step, (), start_ids=[1, 1, 1],
    ...                                 end_id=None, max_length=4, seed=7)
    >>> tuple(tokens.shape)
    (3, 4)

    Reference:
        Gumbel-max sampling: Maddison, Tarlow and Minka, "A* Sampling"
        (NeurIPS 2014); top-k sampling: Fan, Lewis and Dauphin,
        "Hierarchical Neural Story Generation" (ACL 2018).
    """
    check_decoding_args(max_length, end_id)
    _check_sampling_args(temperature, top_k)
    return token_loop(
        step_fn, initial_state, start_ids, end_id, max_length, constants, pad_id,
        choose=lambda logits, step: sample_logits(logits, seed, step, temperature, top_k),
    )
