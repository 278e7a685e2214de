"""The `backtest` user command: a policy on your own prices, beside buy-and-hold.

Without `--weights` it trains on the CSV's first 60%, selects on the next
20% and trades the last 20%; with `--weights` it backtests those weights
(shipped or a run directory) on the CSV without training. A CSV has no
risk-free rate: its returns count as excess returns, and only the `returns`
feature set applies.
"""

import os

from zoo.cli import command_line

DEFAULT_PRESET = "returns"


def add_arguments(parser):
    from applications.trading import PRESETS

    parser.add_argument("--csv", required=True, metavar="FILE",
                        help="CSV with a date column and a price or return column")
    parser.add_argument("--date-column", default=None, help="the date column; guessed if not given")
    parser.add_argument("--price-column", default=None,
                        help="the price column; if not given: Close, Adj Close or Price")
    parser.add_argument("--return-column", default=None, help="a column of simple returns instead of prices")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help=f"preset to train on the CSV, {DEFAULT_PRESET} if not given (not with --weights)")
    parser.add_argument("--cost", type=float, default=None,
                        help="transaction cost per unit of position change; if not given: the preset's "
                        "or the weights' (0.005)")
    parser.add_argument("--seed", type=int, default=None, help="training seed, 0 if not given (not with --weights)")
    parser.add_argument("--output-dir", default=None,
                        help="keep the trained run here; a temporary directory if not given (not with --weights)")
    parser.add_argument("--plots", default=None, metavar="DIR",
                        help="write the equity-curve and position plot (PNG) there")


def run(application, args, inputs):
    """`[metrics]`: one row, the CSV's name and the metrics of `evaluate_lib.evaluate`."""
    import sys
    import tempfile

    from applications.trading import data as data_lib
    from applications.trading.evaluate_lib import evaluate
    from applications.trading.trainer import fit_run

    if args.cost is not None and not 0.0 <= args.cost < 0.5:
        raise ValueError(f"--cost must be in [0, 0.5). Received: cost={args.cost!r}")
    if args.weights:
        given = [flag for flag, value in (("--preset", args.preset), ("--seed", args.seed),
                                          ("--output-dir", args.output_dir)) if value is not None]
        if given:
            raise ValueError(f"--weights backtests those weights without training, so the training options "
                             f"{', '.join(given)} would be ignored. Received: {' '.join(given)} with --weights")
    frame = data_lib.load_csv(args.csv, args.date_column, args.price_column, args.return_column)
    if args.weights:
        model, scaler, run_config = application.from_pretrained(args.weights)
    else:
        preset = args.preset or DEFAULT_PRESET
        config = application.preset(preset)
        if config["features"] != "returns":
            raise ValueError(f"A CSV provides prices only: use a preset on lagged returns. Received: preset={preset!r}")
        if args.cost is not None:
            config["cost"] = args.cost
        out = args.output_dir or tempfile.mkdtemp(prefix="trading-backtest-")
        if os.path.exists(os.path.join(out, "train_state.json")):
            raise ValueError(f"{out} already holds a run: pass another --output-dir. Received: output_dir={out!r}")
        fit_run(application, config, preset, "csv", out, 0 if args.seed is None else args.seed, csv=frame,
                command=command_line(application, "backtest", args.argv),
                log=lambda line: print(line, file=sys.stderr))  # stdout: the results (--json -)
        model, scaler, run_config = application.from_pretrained(out)
    config = dict(run_config["config"])
    if args.cost is not None:
        config["cost"] = args.cost
    metrics = evaluate(model, scaler, config, "csv", None, "test", csv=frame, plots=args.plots)
    return [dict({"csv": args.csv}, **{key: float(value) for key, value in metrics.items()})]


def format_row(row):
    """The metrics table of one backtest."""
    from zoo.cli import format_metrics

    metrics = {key: value for key, value in row.items() if key != "csv"}
    return format_metrics(metrics, f"trading backtest · {os.path.basename(row['csv'])} · last 20% (out of sample)")
