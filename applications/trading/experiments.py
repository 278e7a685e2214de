"""The side-by-side tables of bench/trading.md.

    python -m applications.trading.experiments --frequency monthly --seeds 0 1 2 --json runs/trading-monthly.json
    python -m applications.trading.experiments --frequency daily --seeds 0 1 2 --json runs/trading-daily.json

Monthly (`frenchdata`): train 1927-1959, select on 1960-1969, trade 1970-1994
with 0.5% cost, one model per seed. Daily (`sp500`): train 1999-2006,
select on 2007-2008, trade 2009-2018 with 0.1% cost; the RRL strategies are
retrained every year on the 8 years before it (walk-forward: 7 years train,
the last one validates), the LSTM is trained once (its refits cost too much
CPU here). Each strategy runs over the seeds; its row gives the mean and
standard deviation over seeds, and the stationary-bootstrap 95% interval of
(mean Sharpe over seeds - buy-and-hold's Sharpe).
"""

import argparse
import json
import time

import numpy as np

from applications.trading import PRESETS
from applications.trading import data as data_lib
from applications.trading import engine
from applications.trading.evaluate_lib import BLOCK_SIZE


def run(frequency, seeds, lstm_epochs=None, reps=1000, log=print):
    dataset = "frenchdata" if frequency == "monthly" else "sp500"
    frame, freq = data_lib.load_panel(dataset)
    splits = data_lib.default_splits(dataset)
    periods = data_lib.PERIODS_PER_YEAR[freq]
    cost = 0.005 if frequency == "monthly" else 0.001
    strategies = {}
    selected = {}
    for name, preset in (("rrl", "returns"), ("rrl_macro", "full"), ("lstm_macro", "lstm")):
        config = dict(PRESETS[preset], cost=cost)
        if preset == "lstm" and lstm_epochs:
            config["epochs"] = lstm_epochs
        start = time.time()
        if config["policy"] == "lstm":
            results = [engine.select_lstm(frame, config, s, splits) for s in seeds]
        else:
            results = engine.select_rrl(frame, config, seeds, splits)
        runs = []
        for seed, result in zip(seeds, results):
            if frequency == "daily" and config["policy"] == "rrl":
                runs.append(engine.walk_forward(frame, config, result, splits, window_years=8, seed=seed))
            else:
                runs.append(engine.positions_for(result, frame, config, splits))
        strategies[name] = runs
        selected[name] = [{"seed": s, "lags": r["lags"], "l2": r["l2"], "best_epoch": int(r["best_epoch"]),
                           "validation_sharpe": r["validation_sharpe"]} for s, r in zip(seeds, results)]
        log(f"{name}: {time.time() - start:.0f} s; selected {selected[name]}")
    table = engine.compare(frame, dict(PRESETS["full"], cost=cost), splits, strategies, periods,
                           BLOCK_SIZE[freq], reps=reps)
    out = {"frequency": frequency, "dataset": dataset, "cost": cost, "seeds": list(seeds), "splits": splits,
           "selected": selected, "strategies": {}}
    for name, entry in table.items():
        out["strategies"][name] = {k: v for k, v in entry.items() if k != "test"}
        out["strategies"][name]["test_dates"] = [str(entry["test"][0]["dates"][0])[:10],
                                                 str(entry["test"][0]["dates"][-1])[:10]]
    return out


def format_table(result):
    lines = ["| strategy | Sharpe (test) | cumulative return | max drawdown | turnover / year | "
             "Sharpe - B&H [95% interval] | in-sample Sharpe |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def cell(values, fmt="{:.2f}", pct=False):
        values = np.asarray(values, dtype=float) * (100 if pct else 1)
        text = fmt.format(values.mean()) + ("%" if pct else "")
        if len(values) > 1:
            text += " ± " + fmt.format(values.std(ddof=1)) + ("%" if pct else "")
        return text

    for name, entry in result["strategies"].items():
        diff = entry.get("diff")
        diff_text = f"{diff[0]:+.2f} [{diff[1]:+.2f}, {diff[2]:+.2f}]" if diff else "-"
        lines.append(
            f"| {name} | {cell(entry['sharpe'])} | {cell(entry['cumulative_return'], '{:.0f}', pct=True)} | "
            f"{cell(entry['max_drawdown'], '{:.1f}', pct=True)} | {cell(entry['turnover'])} | {diff_text} | "
            f"{cell(entry['in_sample_sharpe'])} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m applications.trading.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frequency", choices=("monthly", "daily"), default="monthly")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lstm-epochs", type=int, default=None, help="override the lstm preset's epochs")
    parser.add_argument("--reps", type=int, default=1000, help="bootstrap replications")
    parser.add_argument("--json", default=None, metavar="FILE")
    args = parser.parse_args(argv)
    result = run(args.frequency, args.seeds, args.lstm_epochs, args.reps)
    print(format_table(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, default=float)


if __name__ == "__main__":
    main()
