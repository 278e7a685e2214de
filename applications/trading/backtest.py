"""Backtest on your own prices: train on the CSV's first 60%, select on the next 20%, trade the last 20%.

    python -m applications.trading.backtest --csv prices.csv                  # date + Close/Adj Close/Price column
    python -m applications.trading.backtest --csv returns.csv --return-column ret --cost 0.001
    python -m applications.trading.backtest --csv prices.csv --weights trading_rrl_monthly   # no training

A CSV has no risk-free rate: its returns count as excess returns. Only the
`returns` feature set applies. The report compares the policy with
buy-and-hold on the last 20% of the periods (out of sample).
"""

import argparse
import os
import sys
import tempfile


def main(argv=None):
    from applications.trading import APPLICATION

    parser = argparse.ArgumentParser(prog="python -m applications.trading.backtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", required=True, metavar="FILE", help="CSV with a date column and a price or return column")
    parser.add_argument("--date-column", default=None)
    parser.add_argument("--price-column", default=None)
    parser.add_argument("--return-column", default=None, help="a column of simple returns instead of prices")
    parser.add_argument("--preset", choices=sorted(APPLICATION.presets), default="returns")
    parser.add_argument("--cost", type=float, default=None, help="transaction cost per unit of position change "
                        "(default: the preset's, 0.005)")
    parser.add_argument("--weights", default=None, help="backtest these weights instead of training on the CSV")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default=None, help="keep the trained run here")
    parser.add_argument("--json", default=None, metavar="FILE")
    parser.add_argument("--plots", default=None, metavar="DIR")
    args = parser.parse_args(argv)

    from zoo.cli import prepare_console

    prepare_console()
    from applications.trading import data as data_lib
    from applications.trading.evaluate_lib import evaluate
    from zoo.cli import format_metrics
    from zoo.io import write_json_atomic

    try:
        if args.cost is not None and not 0.0 <= args.cost < 0.5:
            raise ValueError(f"--cost must be in [0, 0.5). Received: cost={args.cost!r}")
        frame = data_lib.load_csv(args.csv, args.date_column, args.price_column, args.return_column)
        if args.weights:
            model, scaler, run = APPLICATION.from_pretrained(args.weights)
            config = dict(run["config"])
        else:
            from applications.trading import cli

            preset = dict(APPLICATION.presets[args.preset])
            if preset["features"] != "returns":
                raise ValueError(f"A CSV provides prices only: use a preset on lagged returns. Received: preset={args.preset!r}")
            out = args.output_dir or tempfile.mkdtemp(prefix="trading-backtest-")
            application = APPLICATION
            if args.cost is not None:
                import dataclasses

                presets = dict(APPLICATION.presets, **{args.preset: dict(preset, cost=args.cost)})
                application = dataclasses.replace(APPLICATION, presets=presets)
            cli.train(application, args.preset, "csv", out, args.seed, csv=frame,
                      command=" ".join(["python -m applications.trading.backtest"] + sys.argv[1:]))
            model, scaler, run = APPLICATION.from_pretrained(out)
            config = dict(run["config"])
        if args.cost is not None:
            config["cost"] = args.cost
        metrics = evaluate(model, scaler, config, "csv", "test", csv=frame, plots=args.plots)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(format_metrics(metrics, f"trading backtest · {os.path.basename(args.csv)} · last 20% (out of sample)"))
    if args.json:
        write_json_atomic(args.json, {k: float(v) for k, v in metrics.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
