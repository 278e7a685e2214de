"""Training, model selection on validation, walk-forward and backtests.

Every function here keeps the no-look-ahead rule: a position decided at the
end of period `t` depends on features known at `t` and on parameters and
scaling statistics fitted on periods before the split it trades in.
"""

import itertools

import keras
import numpy as np

from applications.trading import data as data_lib
from applications.trading import metrics as metrics_lib
from applications.trading import rrl
from applications.trading.preprocessing import FeatureScaler

BUY_AND_HOLD = "buy_and_hold"


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def prepare(frame, feature_set, lags, splits):
    """Features, info and split masks of one feature set (rows with a known target)."""
    features, info = data_lib.build_features(frame, feature_set, lags)
    masks = data_lib.split_masks(info, splits)
    return features, info, masks


def _contiguous(mask, what):
    idx = np.flatnonzero(mask)
    if len(idx) and idx[-1] - idx[0] + 1 != len(idx):
        raise ValueError(f"The {what} rows must be contiguous. Received: {len(idx)} rows over "
                         f"{idx[-1] - idx[0] + 1} positions")
    return idx


def select_rrl(frame, config, seeds, splits):
    """Train RRL candidates on `train`, pick each seed's best on `validation`.

    Candidates: every `lags` x `l2` in the config (numbers or lists), each
    stopped at its best validation epoch. All seeds and `l2` values of one
    `lags` train side by side in one time loop.

    Returns:
        list (one per seed) of dicts: `theta`, `lags`, `l2`, `best_epoch`,
        `validation_sharpe`, `train_sharpe`, `scaler`, and `candidates` (every
        candidate's validation Sharpe).
    """
    seeds = _as_list(seeds)
    l2s = [float(v) for v in _as_list(config["l2"])]
    results = [None] * len(seeds)
    candidates = [[] for _ in seeds]
    for lags in _as_list(config["lags"]):
        features, info, masks = prepare(frame, config["features"], int(lags), splits)
        train_idx = _contiguous(masks["train"], "train")
        val_idx = _contiguous(masks["validation"], "validation")
        scaler = FeatureScaler.fit(features.iloc[train_idx])
        x = scaler.transform(features)
        y = info["target"].to_numpy()
        thetas = np.concatenate(
            [rrl.init_theta(x.shape[1], len(l2s), seed=int(s) * 1000 + int(lags), scale=config.get("init_scale", 0.1))
             for s in seeds]
        )
        l2_per_model = np.tile(l2s, len(seeds))
        theta, info_fit = rrl.train_batch(
            thetas, x[train_idx], y[train_idx], config["cost"], l2=l2_per_model,
            learning_rate=config["learning_rate"], epochs=config["epochs"],
            validation=(x[val_idx], y[val_idx]), eval_every=config.get("eval_every", 10),
        )
        for i, seed in enumerate(seeds):
            for j, l2 in enumerate(l2s):
                k = i * len(l2s) + j
                candidate = {
                    "theta": theta[k], "lags": int(lags), "l2": l2, "best_epoch": info_fit["best_epoch"][k],
                    "validation_sharpe": info_fit["validation_sharpe"][k],
                    "train_sharpe": info_fit["train_sharpe"][k], "scaler": scaler, "seed": int(seed),
                }
                candidates[i].append({key: candidate[key] for key in ("lags", "l2", "best_epoch", "validation_sharpe")})
                if results[i] is None or candidate["validation_sharpe"] > results[i]["validation_sharpe"]:
                    results[i] = candidate
    for i in range(len(seeds)):
        results[i]["candidates"] = candidates[i]
    return results


def train_rrl_online(frame, config, seed, splits):
    """Online RRL (RTRL + differential Sharpe) over the training rows."""
    features, info, masks = prepare(frame, config["features"], int(_as_list(config["lags"])[0]), splits)
    train_idx = _contiguous(masks["train"], "train")
    scaler = FeatureScaler.fit(features.iloc[train_idx])
    x = scaler.transform(features)
    y = info["target"].to_numpy()
    theta0 = rrl.init_theta(x.shape[1], 1, seed=int(seed))[0]
    theta, _ = rrl.train_online(theta0, x[train_idx], y[train_idx], config["cost"], eta=config.get("eta", 0.01),
                                learning_rate=config["learning_rate"], epochs=config["epochs"],
                                l2=float(_as_list(config["l2"])[0]))
    return {"theta": theta, "lags": int(_as_list(config["lags"])[0]), "l2": float(_as_list(config["l2"])[0]),
            "scaler": scaler, "seed": int(seed), "best_epoch": config["epochs"]}


def select_lstm(frame, config, seed, splits, verbose=0):
    """Train the LSTM policy by BPTT with `fit`; keep its best validation epoch."""
    from applications.trading.model import build_model
    from applications.trading.model import predict_positions

    lags = int(_as_list(config["lags"])[0])
    features, info, masks = prepare(frame, config["features"], lags, splits)
    train_idx = _contiguous(masks["train"], "train")
    val_idx = _contiguous(masks["validation"], "validation")
    scaler = FeatureScaler.fit(features.iloc[train_idx])
    x = scaler.transform(features).astype("float32")
    y = info["target"].to_numpy()
    keras.utils.set_random_seed(int(seed))
    model = build_model(dict(config, policy="lstm", num_features=x.shape[1]))
    span = np.arange(train_idx[0], val_idx[-1] + 1)
    best, best_score, best_epoch = model.get_weights(), -np.inf, 0
    every = config.get("eval_every", 10)
    for epoch in range(0, config["epochs"] + 1, every):
        if epoch:
            model.fit(x[train_idx][None], y[train_idx][None].astype("float32"), epochs=every, verbose=verbose,
                      batch_size=1, shuffle=False)
        f = predict_positions(model, x[span])
        r = rrl.trading_returns(f, y[span], config["cost"])
        score = float(rrl.sharpe(r[len(train_idx):]))
        if score > best_score:
            best, best_score, best_epoch = model.get_weights(), score, epoch
    model.set_weights(best)
    return {"model": model, "lags": lags, "scaler": scaler, "seed": int(seed), "best_epoch": best_epoch,
            "validation_sharpe": best_score, "l2": None}


def positions_for(result, frame, config, splits, start=None):
    """Positions over every row of the feature table, from `start` (a row) or its first row."""
    features, info, masks = prepare(frame, config["features"], result["lags"], splits)
    x = result["scaler"].transform(features)
    first = 0 if start is None else start
    out = np.full(len(x), np.nan)
    if "model" in result:
        from applications.trading.model import predict_positions

        out[first:] = predict_positions(result["model"], x[first:])
    else:
        out[first:] = rrl.positions(result["theta"], x[first:])
    return out, info, masks


def segment(positions, info, mask, cost, periods_per_year, benchmark=False):
    """Excess returns, risk-free returns and positions of one split."""
    idx = np.flatnonzero(mask)
    y = info["target"].to_numpy()[idx]
    rf = info["rf_next"].to_numpy()[idx]
    if benchmark:
        f = np.ones(len(idx))
        previous = 1.0
    else:
        f = positions[idx]
        previous = positions[idx[0] - 1] if idx[0] > 0 and np.isfinite(positions[idx[0] - 1]) else 0.0
    excess = rrl.trading_returns(f, y, 0.0 if benchmark else cost, previous)
    summary = metrics_lib.summarize(excess, rf, f, previous, periods_per_year)
    return {"excess": excess, "rf": rf, "positions": f, "previous": previous, "summary": summary,
            "dates": info["earn_date"].to_numpy()[idx]}


def walk_forward(frame, config, result, splits, window_years, retrain_years=1, seed=0):
    """Retrain on a rolling window, trade the next `retrain_years`, roll.

    Hyperparameters (`lags`, `l2`) are the ones `result` chose on the first
    validation split; each refit trains on the `window_years` before its
    trading block, the last year of them validating (early stopping), with
    scaling statistics from the refit's training years only.

    Returns:
        positions over all rows of the feature table (NaN before the test).
    """
    features, info, masks = prepare(frame, config["features"], result["lags"], splits)
    earn = info["earn_date"]
    test_idx = np.flatnonzero(masks["test"])
    years = sorted(set(earn.iloc[test_idx].dt.year))
    positions, _, _ = positions_for(result, frame, config, splits)
    out = np.full(len(features), np.nan)
    first_test = test_idx[0]
    out[:first_test] = positions[:first_test]  # the initial model, before the test
    y = info["target"].to_numpy()
    keras_model = "model" in result
    for block in range(0, len(years), retrain_years):
        block_years = years[block:block + retrain_years]
        begin = int(block_years[0])
        sub_splits = {
            "train_start": f"{max(begin - window_years, int(earn.iloc[0].year))}-01",
            "train_end": f"{begin - 2}-12",
            "validation_end": f"{begin - 1}-12",
            "test_end": f"{block_years[-1]}-12",
        }
        sub_masks = data_lib.split_masks(info, sub_splits)
        train_idx = _contiguous(sub_masks["train"], "train")
        val_idx = _contiguous(sub_masks["validation"], "validation")
        trade_idx = _contiguous(sub_masks["test"], "test")
        scaler = FeatureScaler.fit(features.iloc[train_idx])
        x = scaler.transform(features)
        if keras_model:
            refit = select_lstm(frame, dict(config, lags=result["lags"]), seed + begin, sub_splits)
            f = positions_for(refit, frame, config, sub_splits, start=train_idx[0])[0]
        else:
            theta0 = rrl.init_theta(x.shape[1], 1, seed=seed * 1000 + begin, scale=config.get("init_scale", 0.1))
            theta, _ = rrl.train_batch(theta0, x[train_idx], y[train_idx], config["cost"], l2=result["l2"],
                                       learning_rate=config["learning_rate"], epochs=config["epochs"],
                                       validation=(x[val_idx], y[val_idx]), eval_every=config.get("eval_every", 10))
            f = np.full(len(x), np.nan)
            f[train_idx[0]:] = rrl.positions(theta[0], x[train_idx[0]:])
        out[trade_idx] = f[trade_idx]
    return out, info, masks


def compare(frame, config, splits, strategies, periods_per_year, block_size, reps=1000):
    """Per-strategy test metrics over seeds and bootstrap intervals vs buy-and-hold.

    Args:
        strategies: name -> list (over seeds) of position arrays over the
            rows of the feature table of `config["features"]`/`lags` ... as
            returned with their `info` and `masks`: name -> list of
            `(positions, info, masks)`.

    Returns:
        dict name -> {"sharpe": [...], "cumulative_return": [...], ...,
        "diff": (estimate, low, high), "in_sample_sharpe": [...]}.
    """
    table = {}
    reference = None
    for name, runs in strategies.items():
        rows = []
        for positions, info, masks in runs:
            test = segment(positions, info, masks["test"], config["cost"], periods_per_year)
            train = segment(positions, info, masks["train"], config["cost"], periods_per_year)
            rows.append((test, train, info, masks))
        entry = {key: [r[0]["summary"][key] for r in rows] for key in rows[0][0]["summary"]}
        entry["in_sample_sharpe"] = [r[1]["summary"]["sharpe"] for r in rows]
        test0, _, info0, masks0 = rows[0]
        bench = segment(None, info0, masks0["test"], config["cost"], periods_per_year, benchmark=True)
        # Strategies built on different feature sets start at different rows;
        # the test periods are the same dates.
        assert all(np.array_equal(r[0]["dates"], test0["dates"]) for r in rows)
        entry["diff"] = metrics_lib.sharpe_difference_interval(
            np.stack([r[0]["excess"] for r in rows]), bench["excess"], periods_per_year, block_size, reps=reps)
        entry["test"] = [r[0] for r in rows]
        table[name] = entry
        if reference is None:
            reference = (bench, segment(None, info0, masks0["train"], config["cost"], periods_per_year,
                                        benchmark=True))
    bench, bench_train = reference
    table[BUY_AND_HOLD] = {key: [value] for key, value in bench["summary"].items()}
    table[BUY_AND_HOLD]["in_sample_sharpe"] = [bench_train["summary"]["sharpe"]]
    table[BUY_AND_HOLD]["test"] = [bench]
    return table


def grid(config, keys):
    """Every combination of the listed config values (for reports)."""
    values = [_as_list(config[k]) for k in keys]
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]
