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

`train` is the application's own trainer (`applications/trading/trainer.py`,
declared as `train=`): RRL is trained by gradient ascent on a whole
sequence's Sharpe ratio (numpy, exact BPTT) or online (RTRL), not by `fit`
over a `tf.data` pipeline; `--set` reaches its config (`--set
features=macro`, `--set lags=[4,8]`, `--set cost=0.001`, ...). The other
commands are the shared `zoo.cli` ones; `train --csv FILE`, `evaluate --csv
FILE --plots DIR` and the `backtest` command are the application's own flags.
"""

from zoo.application import Application
from zoo.application import UserCommand

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
    # Adam with each variable's gradient norm clipped to 1.0 (zoo.training.optimizer_from_config).
    "lstm": dict(_COMMON, policy="lstm", features="macro", lags=[8], l2=[0.0], units=8, epochs=150,
                 clip="norm", clipnorm=1.0),
}

APPLICATION = Application(
    name="trading",
    description="Trading by recurrent reinforcement learning (Moody & Saffell 2001): RRL and LSTM policies "
                "maximizing the Sharpe ratio after costs.",
    presets=PRESETS,
    datasets=("frenchdata", "sp500", "nasdaq", "csv"),
    train="applications.trading.trainer:train",  # not Keras fit: there is no data:load_data
    unsupported_flags={
        "--data-dir": "its data ship with the `arch` package (embedded, nothing to download); "
                      "a file of your own is --dataset csv --csv FILE",
        "--batch-size": "a policy runs over the whole period as one sequence, in training (the exact "
                        "gradient of its Sharpe ratio, or online one period at a time) as in evaluation; "
                        "there are no mini-batches",
        "--distribute": "a run is one sequence on one device and takes seconds to minutes; "
                        "there is nothing to distribute",
        "--verbose": "training is not a Keras fit with a progress bar (RRL trains in numpy); "
                     "a run prints one summary line",
    },
    add_arguments={
        "train": "applications.trading.trainer:add_train_arguments",
        "evaluate": "applications.trading.trainer:add_evaluate_arguments",
    },
    user_command=UserCommand(
        name="backtest",
        description="Backtest on your own prices: train on the CSV's first 60%, select on the next 20%, "
                    "trade the last 20% (or, with --weights, backtest those weights without training), "
                    "beside buy-and-hold.",
        run="applications.trading.backtest_lib:run",
        format="applications.trading.backtest_lib:format_row",
        inputs="none",
        add_arguments="applications.trading.backtest_lib:add_arguments",
        default_weights=False,
    ),
    monitor="validation_sharpe",
    monitor_mode="max",
    default_weights="trading_rrl_monthly",
)
