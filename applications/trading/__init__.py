"""Trading application: recurrent reinforcement learning (Moody & Saffell 2001).

    python -m applications.trading.train --preset full --output-dir runs/trading-full
    python -m applications.trading.evaluate --weights trading_rrl_monthly --plots docs
    python -m applications.trading.export --output exports
    python -m applications.trading.backtest --csv prices.csv

A recurrent policy `F_t = tanh(w . [1, r_t, ..., r_{t-m+1}, extras_t, F_{t-1}])`
(`RRLCell`), or an LSTM policy (`LSTMPolicyCell`, from `zoo.layers`), trained
to maximize the Sharpe ratio of its returns after transaction costs, with
exact gradients through the recurrence. Hyperparameters and the stopping
epoch are chosen on a validation period before the test period.

`train` and `evaluate` are the application's own (`applications/trading/cli.py`)
with the shared flags (`--preset`, `--dataset`, `--output-dir`, `--seed`,
`--resume`, `--weights`, `--json`): RRL is trained by gradient ascent on a
whole sequence's Sharpe ratio (numpy, exact BPTT) or online (RTRL), not by
`fit` over a `tf.data` pipeline. `export` is the shared `zoo.cli.export_main`.
"""

from zoo.application import Application


def _load_data(dataset, split, data_dir):
    from applications.trading.tf_data import load_dataset

    return load_dataset(dataset, split)


def _build_preprocessor(config, train_data, directory):
    from applications.trading.preprocessing import FeatureScaler

    if directory is None:
        raise ValueError(
            "The trading scaler is fitted by `applications.trading.train` on its training window; "
            "pass the run directory. Received: directory=None"
        )
    return FeatureScaler.load(directory)


def _build_model(config):
    from applications.trading.model import build_model

    return build_model(config)


def _evaluate(model, preprocessor, config, dataset, data_dir, split):
    from applications.trading.evaluate_lib import evaluate

    return evaluate(model, preprocessor, config, dataset, split)


def _export_endpoints(model, preprocessor):
    from applications.trading.serving import export_endpoints

    return export_endpoints(model, preprocessor)


_COMMON = {"cost": 0.005, "learning_rate": 0.01, "eval_every": 10, "training": "batch", "batch_size": 1}

PRESETS = {
    # Seconds: RRL on lagged returns, one candidate.
    "quick": dict(_COMMON, policy="rrl", features="returns", lags=[8], l2=[0.01], epochs=100),
    # RRL on lagged returns only; lags and weight decay chosen on validation.
    "returns": dict(_COMMON, policy="rrl", features="returns", lags=[4, 8, 12], l2=[0.001, 0.01, 0.1],
                    epochs=300),
    # RRL with financial and macro inputs (SMB, HML, RF, default spread).
    "full": dict(_COMMON, policy="rrl", features="macro", lags=[4, 8, 12], l2=[0.001, 0.01, 0.1], epochs=300),
    # RRL trained online (RTRL on the differential Sharpe ratio), 3 passes.
    "online": dict(_COMMON, policy="rrl", features="returns", lags=[8], l2=[0.0], epochs=3, training="online",
                   eta=0.01, learning_rate=0.05),
    # The LSTM policy (zoo.layers.LSTMCell), BPTT with fit; epoch chosen on validation.
    "lstm": dict(_COMMON, policy="lstm", features="macro", lags=[8], l2=[0.0], units=8, epochs=150),
}

APPLICATION = Application(
    name="trading",
    description="Trading by recurrent reinforcement learning (Moody & Saffell 2001): RRL and LSTM policies "
                "maximizing the Sharpe ratio after costs.",
    presets=PRESETS,
    datasets=("frenchdata", "sp500", "nasdaq", "csv"),
    load_data=_load_data,
    build_preprocessor=_build_preprocessor,
    build_model=_build_model,
    evaluate=_evaluate,
    export_endpoints=_export_endpoints,
    monitor="validation_sharpe",
    monitor_mode="max",
    default_weights="trading_rrl_monthly",
)
