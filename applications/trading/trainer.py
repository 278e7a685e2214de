"""The trading trainer (`Application.train`), in place of Keras `fit` over `tf.data`.

RRL maximizes a whole sequence's Sharpe ratio with exact BPTT gradients in
numpy (or learns online by RTRL); the LSTM policy is fitted by Keras on the
same objective. Both choose their hyperparameters (`lags`, `l2`) and
stopping epoch on the validation period. A run takes seconds (RRL) to
minutes (LSTM) and keeps no per-epoch checkpoint: `--resume` reuses a
finished run ("nothing to do") and otherwise trains the run again from the
start.
"""

import os
import time

from zoo.cli import command_line

STATE = "train_state.json"


def add_train_arguments(parser):
    parser.add_argument("--csv", default=None, metavar="FILE",
                        help="with --dataset csv: a CSV with a date and a price (or return) column")


def add_evaluate_arguments(parser):
    parser.add_argument("--csv", default=None, metavar="FILE", help="with --dataset csv: the CSV to backtest")
    parser.add_argument("--plots", default=None, metavar="DIR",
                        help="write the equity-curve and position plot (PNG) there")


def check_config(config):
    """A `ValueError` for a `--set` value training cannot use (before any work)."""
    from applications.trading import data as data_lib

    lags = config["lags"] if isinstance(config["lags"], list) else [config["lags"]]
    for value in lags:
        data_lib.feature_columns(config["features"], value, [])  # the feature set's name, lags >= 1
    if not 0.0 <= float(config["cost"]) < 0.5:
        raise ValueError(f"`cost` must be in [0, 0.5). Received: cost={config['cost']!r}")
    if config.get("training", "batch") not in ("batch", "online"):
        raise ValueError(f"`training` is 'batch' or 'online'. Received: training={config['training']!r}")


def _finished_run(out):
    """The run's recorded state if `out` holds a finished run, else None."""
    path = os.path.join(out, STATE)
    if not os.path.exists(path):
        return None
    from zoo.weights import read_json_file

    state = read_json_file(path, "the run's training state",
                           "Delete it to train this run again, or train into a new --output-dir.")
    return state if isinstance(state, dict) and state.get("finished") else None


def train(application, config, args, out):
    """The `Application.train` hook: `(application, config, args, out) -> out`.

    `config` is the preset after `--set` and `--epochs`; `args` holds
    `seed`, `resume`, `dataset`, `preset` and `csv`. zoo has refused an
    existing run without `--resume`; with it, a finished run is reused.
    """
    if args.resume and _finished_run(out) is not None:
        from zoo.application import read_run_config

        recorded = read_run_config(out).get("requested_config")
        if recorded is not None and recorded != config:
            changed = sorted(k for k in set(recorded) | set(config) if recorded.get(k) != config.get(k))
            raise ValueError(
                f"{out} holds a finished run of another config; --resume reuses it and cannot change it "
                f"(train into another --output-dir). Received: changed keys {changed}"
            )
        print(f"{out} holds a finished run; nothing to do.")
        return out
    command = command_line(application, "train", args.argv)
    return fit_run(application, config, args.preset, args.dataset, out, args.seed, csv=args.csv,
                   command=command)


def fit_run(application, config, preset, dataset, out, seed=0, csv=None, command="", log=print):
    """Train one policy and write the run directory `evaluate`/`export` accept.

    `csv` is a path or a frame of `data.load_csv` (with `dataset="csv"`).
    Writes `config.json` (the chosen `lags`, `l2`, epoch and the data's
    splits in its config; the requested config as `requested_config`),
    `asset_scaler.json`, `model.weights.h5` and `train_state.json`, and
    `log`s one summary line.
    """
    import keras

    from applications.trading import data as data_lib
    from applications.trading import engine
    from applications.trading.evaluate_lib import strategy_name
    from applications.trading.model import build_model
    from applications.trading.model import policy_cell
    from zoo.application import write_run_config
    from zoo.io import write_json_atomic
    from zoo.training.checkpoint import save_model_weights

    application.check_dataset(dataset)
    check_config(config)
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(seed)
    start = time.time()
    frame, frequency = data_lib.load_panel(dataset, csv)
    splits = data_lib.default_splits(dataset, frame)
    if config["policy"] == "lstm":
        result = engine.select_lstm(frame, config, seed, splits)
    elif config.get("training") == "online":
        result = engine.train_rrl_online(frame, config, seed, splits)
    else:
        result = engine.select_rrl(frame, config, [seed], splits)[0]
    scaler = result["scaler"]
    final = dict(config, lags=result["lags"], l2=result["l2"], num_features=len(scaler.names),
                 feature_names=scaler.names, splits=splits, frequency=frequency, dataset=dataset,
                 best_epoch=int(result["best_epoch"]))
    final["strategy"] = strategy_name(final)
    if result.get("validation_sharpe") is not None:
        final["validation_sharpe"] = float(result["validation_sharpe"])
    model = build_model(final)
    if "model" in result:
        model.set_weights(result["model"].get_weights())
    else:
        policy_cell(model).set_theta(result["theta"])
    scaler.save(out)
    write_run_config(out, application, preset, dataset, final,
                     {"seed": seed, "command": command, "requested_config": config})
    save_model_weights(model, os.path.join(out, "model.weights.h5"))
    write_json_atomic(os.path.join(out, STATE), {"finished": True, "candidates": result.get("candidates", []),
                                                 "seconds": time.time() - start})
    log(f"Trained {application.name} ({preset}, {final['strategy']}) in {time.time() - start:.1f} s; "
          f"lags={final['lags']} l2={final['l2']} epoch={final['best_epoch']} "
          f"validation Sharpe (per period)={final.get('validation_sharpe', float('nan')):.4f}; "
          f"weights: {os.path.join(out, 'model.weights.h5')}")
    return out
