"""Keras policies (RRL and LSTM from `zoo.layers`) and their Sharpe objective."""

import keras
import numpy as np
from keras import ops

import zoo.layers
from applications.trading.lstm_policy_cell import LSTMPolicyCell
from applications.trading.rrl_cell import RRLCell
from zoo.training import optimizer_from_config

POLICIES = ("rrl", "lstm")
# Adam, each variable's gradient clipped to norm 1.0 (Keras `clipnorm`): what
# trained the LSTM policy of the results; `--set` may change them (the
# `lstm` preset lists the keys). The RRL trains in numpy (`rrl.train_batch`).
OPTIMIZER_DEFAULTS = {"optimizer": "adam", "learning_rate": 0.01, "clip": "norm", "clipnorm": 1.0}


def build_model(config):
    """`(batch, time, features)` -> positions `(batch, time, 1)` for `config["policy"]`.

    `config` needs `policy` (`rrl` or `lstm`), `num_features`, and for the
    LSTM `units`, `cost` and the optimizer's keys of
    `zoo.training.optimizer_from_config` (`learning_rate`, `clip`, `clipnorm`;
    default `OPTIMIZER_DEFAULTS`); the model is compiled with the negative
    Sharpe ratio as its loss, for `fit`.
    """
    policy = config.get("policy", "rrl")
    if policy not in POLICIES:
        raise ValueError(f"Unknown policy; choose one of {list(POLICIES)}. Received: policy={policy!r}")
    num_features = config.get("num_features")
    if not isinstance(num_features, int) or num_features < 1:
        raise ValueError(f"config['num_features'] must be a positive integer. Received: num_features={num_features!r}")
    cell = RRLCell(name="rrl") if policy == "rrl" else LSTMPolicyCell(int(config.get("units", 8)), name="lstm_policy")
    inputs = keras.Input((None, num_features), name="features")
    outputs = zoo.layers.RNN(cell, return_sequences=True, name="policy")(inputs)
    model = keras.Model(inputs, outputs, name=f"trading_{policy}")
    model.compile(
        optimizer=optimizer_from_config(config, defaults=OPTIMIZER_DEFAULTS),
        loss=sharpe_loss(config.get("cost", 0.005)),
    )
    return model


def policy_cell(model):
    """The model's cell (`RRLCell` or `LSTMPolicyCell`)."""
    return model.get_layer("policy").cell


def sharpe_loss(cost):
    """Keras loss: minus the Sharpe ratio of `R_t = F_t y_t - cost |F_t - F_{t-1}|`.

    `y_true` holds the next-period excess returns `(batch, time)`, `y_pred`
    the positions `(batch, time, 1)`; `F_{-1} = 0`. One value per sequence.
    """

    def negative_sharpe(y_true, y_pred):
        f = ops.reshape(y_pred, ops.shape(y_true))
        y = ops.cast(y_true, f.dtype)
        previous = ops.concatenate([ops.zeros_like(f[:, :1]), f[:, :-1]], axis=1)
        r = f * y - cost * ops.abs(f - previous)
        mean = ops.mean(r, axis=1)
        std = ops.sqrt(ops.var(r, axis=1) + 1e-12)
        return -mean / std

    return negative_sharpe


def predict_positions(model, features, initial_position=0.0):
    """Positions `(time,)` for one `(time, features)` sequence (float64 numpy)."""
    x = np.asarray(features, dtype="float32")[None]
    cell = policy_cell(model)
    if isinstance(cell, RRLCell):
        from applications.trading import rrl

        return rrl.positions(cell.get_theta(), np.asarray(features, dtype="float64"), initial_position)
    if initial_position != 0.0:
        raise ValueError(f"The LSTM policy starts flat. Received: initial_position={initial_position!r}")
    return keras.ops.convert_to_numpy(model(x, training=False))[0, :, 0].astype("float64")
