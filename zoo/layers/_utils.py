"""Private helpers shared by the zoo's cells and recurrent layers."""

from keras import ops


def project_sequence(sequence, kernel, bias=None):
    """`sequence @ kernel + bias` for a `(time, batch, features)` tensor.

    Folding time into batch makes the input projection of a whole sequence
    one large matmul instead of one small matmul per step.
    """
    features = sequence.shape[-1]
    flat = ops.reshape(sequence, (-1, features))
    out = ops.matmul(flat, kernel)
    if bias is not None:
        out = out + bias
    shape = ops.shape(sequence)
    return ops.reshape(out, (shape[0], shape[1], kernel.shape[-1]))


def loop_mask(mask, length, dtype):
    """A `scan_with_gradient` mask as the float `(time, batch, 1)` argument
    of its custom gradient (`mask`: time-major boolean, or None: a dummy
    the loops never read)."""
    if mask is None:
        return ops.zeros((length, 1, 1), dtype)
    return ops.cast(ops.expand_dims(mask, -1), dtype)


LAYER_NORM_EPSILON = 1e-3
"""The epsilon of the LSTM's layer normalization (`gate_layer_norm`)."""


def gate_layer_norm(z, gamma, beta, groups, epsilon=LAYER_NORM_EPSILON):
    """Layer normalization applied to each of `groups` gates separately."""
    units = z.shape[-1] // groups
    shaped = ops.reshape(z, (-1, groups, units))
    mean = ops.mean(shaped, axis=-1, keepdims=True)
    var = ops.var(shaped, axis=-1, keepdims=True)
    normed = (shaped - mean) * ops.rsqrt(var + epsilon)
    normed = ops.reshape(normed, ops.shape(z))
    return normed * gamma + beta


def check_units(units, name="units"):
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={units!r}"
        )
    return units
