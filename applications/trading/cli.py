"""`train`, `evaluate` and `backtest` of the trading application.

The flags are the shared ones of `zoo.cli` (`--preset`, `--dataset`,
`--output-dir`, `--seed`, `--resume`, `--weights`, `--json`, ...) plus
`--csv FILE` (user data) and `evaluate --plots DIR`. Training is not a Keras
`fit` over a `tf.data` pipeline: RRL maximizes a whole sequence's Sharpe
ratio with exact BPTT gradients in numpy (or learns online by RTRL), and
both policies choose their hyperparameters and stopping epoch on the
validation period; a run takes seconds, so `--resume` reuses a finished run
and otherwise starts again.
"""

import os
import sys
import time

from zoo import cli as zoo_cli


def _maybe_reexec(args):
    """Re-run with KERAS_BACKEND set when --backend asks for another (as zoo.cli does)."""
    if args.backend is None:
        return
    import keras

    if keras.backend.backend() != args.backend:
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, KERAS_BACKEND=args.backend))


def train_parser(application):
    parser = zoo_cli.train_parser(application)
    parser.add_argument("--csv", default=None, metavar="FILE",
                        help="with --dataset csv: a CSV with a date and a price (or return) column")
    parser.add_argument("--features", default=None, help="override the preset's feature set "
                        "(returns, ff, macro, macro_cpi)")
    return parser


def train_main(application, argv=None):
    parser = train_parser(application)
    args = parser.parse_args(argv)
    zoo_cli.prepare_console()
    _maybe_reexec(args)
    try:
        return train(application, args.preset, args.dataset, args.output_dir, args.seed, args.resume,
                     csv=args.csv, epochs=args.epochs, features=args.features)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


def train(application, preset, dataset, output_dir=None, seed=0, resume=False, csv=None, epochs=None,
          features=None, command=None):
    """Train one policy and write a run directory `evaluate`/`export` accept."""
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
    config = application.preset(preset)
    if epochs:
        config["epochs"] = epochs
    if features:
        data_lib.feature_columns(features, 1, [])  # validates the name
        config["features"] = features
    out = output_dir or os.path.join("runs", f"{application.name}-{preset}")
    state_path = os.path.join(out, "train_state.json")
    if os.path.exists(state_path):
        if not resume:
            raise ValueError(f"{out} already holds a run: pass --resume to continue it or another "
                             f"--output-dir. Received: output_dir={out!r}")
        from zoo.weights import read_json_file

        state = read_json_file(state_path, "the run's training state",
                               "Delete it to train this run again, or train into a new --output-dir.")
        if isinstance(state, dict) and state.get("finished"):
            print(f"{out} holds a finished run; nothing to do.")
            return out
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
                     {"seed": seed, "command": command or " ".join(["python -m applications.trading.train"] + sys.argv[1:])})
    save_model_weights(model, os.path.join(out, "model.weights.h5"))
    write_json_atomic(state_path, {"finished": True, "candidates": result.get("candidates", []),
                                   "seconds": time.time() - start})
    print(f"Trained {application.name} ({preset}, {final['strategy']}) in {time.time() - start:.1f} s; "
          f"lags={final['lags']} l2={final['l2']} epoch={final['best_epoch']} "
          f"validation Sharpe (per period)={final.get('validation_sharpe', float('nan')):.4f}; "
          f"weights: {os.path.join(out, 'model.weights.h5')}")
    return out


def evaluate_parser(application):
    parser = zoo_cli.evaluate_parser(application)
    parser.add_argument("--csv", default=None, metavar="FILE", help="with --dataset csv: the CSV to backtest")
    parser.add_argument("--plots", default=None, metavar="DIR",
                        help="write the equity-curve and position plot (PNG) there")
    return parser


def evaluate_main(application, argv=None):
    parser = evaluate_parser(application)
    args = parser.parse_args(argv)
    zoo_cli.prepare_console()
    _maybe_reexec(args)
    try:
        return evaluate(application, args.weights, args.dataset, args.split, args.json, args.csv, args.plots)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


def evaluate(application, weights, dataset, split="test", json_path=None, csv=None, plots=None):
    from applications.trading.evaluate_lib import evaluate as evaluate_policy
    from zoo.io import write_json_atomic

    application.check_dataset(dataset)
    model, scaler, run = application.from_pretrained(weights)
    metrics = evaluate_policy(model, scaler, run["config"], dataset, split, csv, plots)
    print(zoo_cli.format_metrics(metrics, f"{application.name} · weights={weights} · {dataset}/{split}"))
    if json_path:
        write_json_atomic(json_path, {k: float(v) for k, v in metrics.items()})
    return metrics
