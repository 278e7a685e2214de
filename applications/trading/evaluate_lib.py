"""Backtest a trained policy on a split, beside buy-and-hold; plots."""

import os

import numpy as np

from applications.trading import data as data_lib
from applications.trading import engine
from applications.trading import metrics as metrics_lib
from applications.trading.model import predict_positions

BOOTSTRAP_REPS = 1000
BLOCK_SIZE = {data_lib.MONTHLY: 12, data_lib.DAILY: 21}


def strategy_name(config):
    """`rrl` (lagged returns only), `rrl_macro`, `lstm_macro`, ..."""
    policy = config.get("policy", "rrl")
    return policy if config.get("features", "returns") == "returns" else f"{policy}_{config['features']}"


def backtest(model, scaler, config, dataset, csv=None):
    """Positions, feature info and split masks over the dataset's whole history."""
    frame, frequency = data_lib.load_panel(dataset, csv)
    features, info = data_lib.build_features(frame, config["features"], int(config["lags"]))
    if list(features.columns) != scaler.names:
        raise ValueError(
            f"The weights were trained on features {scaler.names}; dataset {dataset!r} provides "
            f"{list(features.columns)}. Received: dataset={dataset!r}"
        )
    same = dataset == config.get("dataset") and dataset != "csv"
    splits = config["splits"] if same else data_lib.default_splits(dataset, frame)
    masks = data_lib.split_masks(info, splits)
    positions = predict_positions(model, scaler.transform(features))
    return positions, info, masks, frequency


def evaluate(model, scaler, config, dataset, data_dir=None, split="test", csv=None, plots=None):
    """Flat metrics of the policy and of buy-and-hold on `split`.

    The `Application.evaluate` hook. `csv` (a path or a frame of
    `data.load_csv`) is the data of `dataset="csv"`; `plots` a directory for
    the equity-curve plot. `data_dir` must be None: the data ship with the
    `arch` package (`--data-dir` is refused).

    Keys: `sharpe_<strategy>`, `cumulative_return_<strategy>`,
    `max_drawdown_<strategy>`, `turnover_<strategy>` for the policy (named by
    `strategy_name`) and `buy_and_hold`; `in_sample_sharpe_*` on the training
    split; `sharpe_diff_<strategy>` with its stationary-bootstrap 95%
    interval `sharpe_diff_low_*`, `sharpe_diff_high_*` (policy minus buy-and-hold).
    """
    if data_dir is not None:
        raise ValueError(f"The trading data ship with the `arch` package; a file of your own is "
                         f"--dataset csv --csv FILE. Received: data_dir={data_dir!r}")
    if split not in ("train", "validation", "test"):
        raise ValueError(f"Unknown split; choose train, validation or test. Received: split={split!r}")
    positions, info, masks, frequency = backtest(model, scaler, config, dataset, csv)
    periods = data_lib.PERIODS_PER_YEAR[frequency]
    cost = config["cost"]
    name = strategy_name(config)
    ours = engine.segment(positions, info, masks[split], cost, periods)
    bench = engine.segment(None, info, masks[split], cost, periods, benchmark=True)
    ours_train = engine.segment(positions, info, masks["train"], cost, periods)
    bench_train = engine.segment(None, info, masks["train"], cost, periods, benchmark=True)
    metrics = {}
    for label, seg in ((name, ours), (engine.BUY_AND_HOLD, bench)):
        for key, value in seg["summary"].items():
            metrics[f"{key}_{label}"] = value
    metrics[f"in_sample_sharpe_{name}"] = ours_train["summary"]["sharpe"]
    metrics[f"in_sample_sharpe_{engine.BUY_AND_HOLD}"] = bench_train["summary"]["sharpe"]
    estimate, low, high = metrics_lib.sharpe_difference_interval(
        ours["excess"][None], bench["excess"], periods, BLOCK_SIZE[frequency], reps=BOOTSTRAP_REPS)
    metrics[f"sharpe_diff_{name}"] = estimate
    metrics[f"sharpe_diff_low_{name}"] = low
    metrics[f"sharpe_diff_high_{name}"] = high
    metrics["periods"] = float(len(ours["excess"]))
    if plots:
        plot_backtest({name: ours, engine.BUY_AND_HOLD: bench}, os.path.join(plots, f"trading_{name}_{dataset}_{split}.png"),
                      f"{name} vs buy-and-hold, {dataset} {split} (cost {cost:.2%})")
    return metrics


def plot_backtest(segments, path, title):
    """Equity curves (wealth, log scale) and positions of each strategy, to PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    for label, seg in segments.items():
        dates = seg["dates"]
        top.plot(dates, metrics_lib.wealth(seg["excess"], seg["rf"]), label=label)
        bottom.plot(dates, seg["positions"], label=label, lw=0.8)
    top.set_yscale("log")
    top.set_ylabel("wealth (start = 1)")
    top.legend()
    top.set_title(title)
    bottom.set_ylabel("position F_t")
    bottom.set_ylim(-1.05, 1.05)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def positions_table(model, scaler, config, dataset, csv=None):
    """DataFrame of decision date, position and next return, for inspection."""
    import pandas as pd

    positions, info, _, _ = backtest(model, scaler, config, dataset, csv)
    return pd.DataFrame({"position": positions, "next_excess_return": info["target"].to_numpy()},
                        index=info.index).astype(np.float64)
