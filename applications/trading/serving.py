"""Serving endpoints: a window of recent data and the previous position in, the new position out."""

import tensorflow as tf
from keras import ops

from applications.trading.model import policy_cell
from applications.trading.rrl_cell import RRLCell
from zoo.application import Endpoint


def window_layout(scaler):
    """`(lags, columns)`: the window's length and its columns, in order."""
    lags = sum(1 for name in scaler.names if name.startswith("excess_lag"))
    return lags, ["excess"] + scaler.names[lags:]


def export_endpoints(model, scaler):
    """`serve_window` (the `serving_default`) and `serve_features`.

    `serve_window` takes `window`, `(batch, lags, columns)` float32: the last
    `lags` periods (oldest first) of the columns `window_layout` names, in
    the panel's units (fractions; the extra series already lagged by their
    publication delay), and `previous_position` `(batch,)` in [-1, 1]. It
    returns `position` (the new position in (-1, 1)) and `valid`. A row with
    a missing (non-finite) value or a previous position outside [-1, 1] is
    not traded: `valid` is false and `position` repeats the previous position
    (clipped to [-1, 1], 0 if it is not finite).

    `serve_features` takes the raw feature vector `features` `(batch, d)`
    (the scaler's names, unscaled) and `previous_position`.
    """
    cell = policy_cell(model)
    if not isinstance(cell, RRLCell):
        raise ValueError(
            "Export supports the RRL policy (its whole state is the previous position); the LSTM "
            f"policy also carries an LSTM state. Received: policy cell={type(cell).__name__}"
        )
    lags, columns = window_layout(scaler)
    mean = tf.constant(scaler.mean, tf.float32)
    std = tf.constant(scaler.std, tf.float32)

    def step(features, previous_position):
        previous = tf.reshape(tf.cast(previous_position, tf.float32), [-1])
        valid = tf.logical_and(
            tf.reduce_all(tf.math.is_finite(features), axis=-1),
            tf.logical_and(tf.math.is_finite(previous), tf.abs(previous) <= 1.0),
        )
        safe_features = tf.where(valid[:, None], features, mean)
        safe_previous = tf.where(valid, previous, 0.0)
        x = (safe_features - mean) / std
        new, _ = cell(x, [safe_previous[:, None]])
        new = ops.reshape(new, [-1])
        held = tf.clip_by_value(tf.where(tf.math.is_finite(previous), previous, 0.0), -1.0, 1.0)
        return {"position": tf.where(valid, new, held), "valid": valid}

    def serve_window(window, previous_position):
        excess = tf.reverse(window[:, :, 0], axis=[1])  # lag 0 (the latest) first
        extras = window[:, -1, 1:]
        return step(tf.concat([excess, extras], axis=1), previous_position)

    def serve_features(features, previous_position):
        return step(features, previous_position)

    position = tf.TensorSpec([None], tf.float32, name="previous_position")
    return [
        Endpoint("serve_window", serve_window,
                 [tf.TensorSpec([None, lags, len(columns)], tf.float32, name="window"), position]),
        Endpoint("serve_features", serve_features,
                 [tf.TensorSpec([None, len(scaler.names)], tf.float32, name="features"), position]),
    ]
