"""Data of the trading application: the `arch` package's bundled series, or a CSV.

Every loader returns a `pandas.DataFrame` indexed by a sorted, unique
`DatetimeIndex` (period ends). Nothing here looks ahead: `build_panel` aligns
series with their publication lags, and `build_features` uses, for the
decision at the end of period `t`, only values published by then.

Conventions (also in the README):

- `excess` is the market's excess return over the risk-free rate in period
  `t` (a fraction, 0.01 = 1%); `rf` is the risk-free return of period `t`.
- Sample `t` pairs the features known at the end of period `t` with the
  *next* period's excess return (`target[t] = excess[t + 1]`): the position
  chosen at `t` is held during `t + 1`.

Publication lags assumed (in months, beyond the period the value belongs to):

| series | source | lag |
| --- | --- | --- |
| Fama-French Mkt-RF, SMB, HML, RF | `arch.data.frenchdata` | 0 (returns of month t are known at its end) |
| Moody's AAA and BAA yields (default spread BAA - AAA) | `arch.data.default` | 1 (monthly averages, published early the next month) |
| core CPI (CPILFESL) | `arch.data.core_cpi` | 1 (released mid-month for the previous month) |
| S&P 500 and NASDAQ closes | `arch.data.sp500`, `arch.data.nasdaq` | 0 (daily close) |

For daily data the monthly series are lagged by a further month and forward
filled onto trading days, so a day only sees monthly values published by then.
"""

import numpy as np
import pandas as pd

MONTHLY = "monthly"
DAILY = "daily"
PERIODS_PER_YEAR = {MONTHLY: 12, DAILY: 252}
FEATURE_SETS = ("returns", "ff", "macro", "macro_cpi")
"""`returns`: lagged market excess returns only; `ff`: plus Fama-French SMB
and HML; `macro`: plus the risk-free rate and the corporate default spread;
`macro_cpi`: plus core-CPI inflation (from 1958 on only)."""

PUBLICATION_LAG_MONTHS = {"default_spread": 1, "inflation": 1}


def fix_yyyymm_index(index):
    """Month-end timestamps from `arch.data.frenchdata`'s broken dates.

    `arch.data.frenchdata.load()` reads its `Date` column (YYYYMM integers,
    e.g. 192607) as nanoseconds since 1970, so July 1926 shows up as
    `1970-01-01 00:00:00.000192607`. This recovers the integers and returns
    the last day of each month.

    Args:
        index: the loaded index (datetimes holding YYYYMM nanoseconds) or the
            YYYYMM integers themselves.

    Returns:
        `pandas.DatetimeIndex` of month ends.
    """
    if isinstance(index, pd.DatetimeIndex):
        values = index.asi8
        if index.unit != "ns":
            values = index.as_unit("ns").asi8
    else:
        values = np.asarray(index, dtype="int64")
    years, months = values // 100, values % 100
    if len(values) and (months.min() < 1 or months.max() > 12 or years.min() < 1800):
        raise ValueError(
            "Dates are not YYYYMM integers. Received: "
            f"index[:3]={list(values[:3])}"
        )
    starts = pd.to_datetime({"year": years, "month": months, "day": 1})
    return pd.DatetimeIndex(starts + pd.offsets.MonthEnd(0), name="date")


def _to_month_end(frame):
    frame = frame.copy()
    frame.index = pd.DatetimeIndex(frame.index).to_period("M").to_timestamp("M")
    frame.index.name = "date"
    return frame


def load_frenchdata():
    """Fama-French monthly factors (fractions), July 1926 to November 2018.

    Columns `excess` (Mkt-RF), `smb`, `hml`, `rf`, indexed by month end.
    """
    from arch.data import frenchdata

    raw = frenchdata.load()
    frame = pd.DataFrame(
        {
            "excess": raw["Mkt-RF"].to_numpy() / 100.0,
            "smb": raw["SMB"].to_numpy() / 100.0,
            "hml": raw["HML"].to_numpy() / 100.0,
            "rf": raw["RF"].to_numpy() / 100.0,
        },
        index=fix_yyyymm_index(raw.index),
    )
    return check_series(frame, "frenchdata")


def load_default_spread():
    """Moody's BAA minus AAA corporate bond yield (percentage points), monthly."""
    from arch.data import default

    raw = _to_month_end(default.load())
    return (raw["BAA"] - raw["AAA"]).rename("default_spread")


def load_core_cpi():
    """Core CPI index (CPILFESL), monthly from 1957."""
    from arch.data import core_cpi

    return _to_month_end(core_cpi.load())["CPILFESL"].rename("core_cpi")


def load_daily_index(name):
    """Adjusted closes of `sp500` or `nasdaq`, 1999 to 2018."""
    if name not in ("sp500", "nasdaq"):
        raise ValueError(f"Unknown daily index; choose 'sp500' or 'nasdaq'. Received: name={name!r}")
    import importlib

    raw = importlib.import_module(f"arch.data.{name}").load()
    series = raw["Adj Close"].astype("float64")
    series.index = pd.DatetimeIndex(series.index).as_unit("ns")
    series.index.name = "date"
    return series.rename(name)


def check_series(frame, what, min_length=24):
    """Clear errors for data a backtest cannot use.

    Checks: a `DatetimeIndex`, sorted, no duplicate dates, no missing
    (NaN / infinite) values, at least `min_length` rows.
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError(f"{what}: the index must hold dates. Received: index type={type(frame.index).__name__}")
    duplicated = frame.index[frame.index.duplicated()]
    if len(duplicated):
        raise ValueError(
            f"{what}: dates must be unique. Received: duplicate dates={[str(d.date()) for d in duplicated[:5]]}"
        )
    if not frame.index.is_monotonic_increasing:
        bad = int(np.argmax(np.diff(frame.index.asi8) < 0))
        raise ValueError(
            f"{what}: dates must be sorted in increasing order. Received: "
            f"{frame.index[bad].date()} before {frame.index[bad + 1].date()} (row {bad})"
        )
    values = frame.to_numpy(dtype="float64")
    bad_rows = ~np.isfinite(values).reshape(len(frame), -1).all(axis=1)
    if bad_rows.any():
        dates = [str(d.date()) for d in frame.index[bad_rows][:5]]
        raise ValueError(
            f"{what}: missing or non-finite values (NaN, inf) are not allowed; fill or drop them first. "
            f"Received: {int(bad_rows.sum())} bad rows, first dates={dates}"
        )
    if len(frame) < min_length:
        raise ValueError(
            f"{what}: the series is too short for a backtest (at least {min_length} rows). "
            f"Received: length={len(frame)}"
        )
    return frame


def load_csv(path, date_column=None, price_column=None, return_column=None, min_length=100):
    """A user's series: a date column and a price (or return) column.

    Args:
        path: CSV file with a header row.
        date_column: the dates' column (default: the first column whose name
            contains "date", else the first column).
        price_column: a column of prices (strictly positive). Default: the
            first of "adj close", "close", "price" present, unless
            `return_column` is given.
        return_column: a column of simple returns (fractions) instead.
        min_length: the fewest returns accepted (a backtest trades the last
            20% of them, after training on 60% and validating on 20%).

    Returns:
        DataFrame with `excess` (the period return; a CSV has no risk-free
        rate, so returns count as excess returns) and `rf` (zeros).
    """
    frame = pd.read_csv(path)
    columns = {c.lower().strip(): c for c in frame.columns}
    if date_column is None:
        date_column = next((c for k, c in columns.items() if "date" in k), frame.columns[0])
    if date_column not in frame.columns:
        raise ValueError(f"{path}: no date column {date_column!r}. Received: columns={list(frame.columns)}")
    if price_column is None and return_column is None:
        price_column = next((columns[k] for k in ("adj close", "adj_close", "close", "price") if k in columns), None)
        if price_column is None:
            raise ValueError(
                f"{path}: name the price column (--price-column) or a return column (--return-column). "
                f"Received: columns={list(frame.columns)}"
            )
    column = return_column or price_column
    if column not in frame.columns:
        raise ValueError(f"{path}: no column {column!r}. Received: columns={list(frame.columns)}")
    try:
        dates = pd.to_datetime(frame[date_column])
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: the {date_column!r} column does not parse as dates ({error}). "
                         f"Received: first values={list(frame[date_column][:3])}") from None
    values = pd.to_numeric(frame[column], errors="coerce")
    series = pd.DataFrame({column: values.to_numpy()}, index=pd.DatetimeIndex(dates, name="date"))
    check_series(series, f"{path} ({column})", min_length + 1)
    if return_column is None:
        prices = series[column]
        if (prices <= 0).any():
            raise ValueError(f"{path}: prices must be positive. Received: min price={prices.min()}")
        returns = prices.pct_change().iloc[1:]
    else:
        returns = series[column]
    return pd.DataFrame({"excess": returns, "rf": 0.0}, index=returns.index)


def _infer_frequency(index):
    gap = np.median(np.diff(index.asi8)) / 86400e9
    return DAILY if gap < 5 else MONTHLY


def load_panel(dataset, csv=None):
    """The aligned table every strategy of `dataset` reads.

    Args:
        dataset: `frenchdata` (monthly), `sp500` or `nasdaq` (daily), or
            `csv` (then `csv` is the path or a frame from `load_csv`).

    Returns:
        `(frame, frequency)`: `frame` has `excess` and `rf` plus whichever of
        `smb`, `hml`, `default_spread`, `inflation`, `other` (the other daily
        index's return) the dataset provides, each already shifted by its
        publication lag (a row dated `t` holds what is known at the end of `t`).
    """
    if dataset == "frenchdata":
        ff = load_frenchdata()
        spread = load_default_spread().shift(PUBLICATION_LAG_MONTHS["default_spread"])
        cpi = load_core_cpi()
        inflation = np.log(cpi / cpi.shift(12)).shift(PUBLICATION_LAG_MONTHS["inflation"]).rename("inflation")
        frame = ff.join(spread, how="left").join(inflation, how="left")
        return frame, MONTHLY
    if dataset in ("sp500", "nasdaq"):
        other_name = "nasdaq" if dataset == "sp500" else "sp500"
        prices = load_daily_index(dataset)
        other = load_daily_index(other_name).reindex(prices.index)
        returns = prices.pct_change()
        other_returns = other.pct_change()
        ff = load_frenchdata()
        days = pd.Series(1, index=prices.index).groupby(prices.index.to_period("M")).transform("size")
        month = prices.index.to_period("M")
        monthly_rf = ff["rf"].copy()
        monthly_rf.index = monthly_rf.index.to_period("M")
        # The month's T-bill return is set at its start; December 2018 (after
        # the data's end) repeats November's.
        rf = monthly_rf.reindex(month).ffill().to_numpy() / days.to_numpy()
        # Monthly macro series: known one month after their publication lag.
        spread = load_default_spread()
        spread.index = spread.index.to_period("M")
        lagged = spread.shift(PUBLICATION_LAG_MONTHS["default_spread"] + 1)
        frame = pd.DataFrame(
            {
                "excess": returns.to_numpy() - rf,
                "rf": rf,
                "other": other_returns.to_numpy(),
                "default_spread": lagged.reindex(month).ffill().to_numpy(),
                "rf_level": monthly_rf.shift(1).reindex(month).ffill().to_numpy(),
            },
            index=prices.index,
        ).iloc[1:]
        return frame, DAILY
    if dataset == "csv":
        if csv is None:
            raise ValueError("dataset 'csv' needs a file: pass --csv FILE. Received: csv=None")
        frame = load_csv(csv) if isinstance(csv, str) else csv
        return frame, _infer_frequency(frame.index)
    from applications.trading import APPLICATION

    APPLICATION.check_dataset(dataset)  # raises, naming the declared datasets
    raise AssertionError(f"{dataset} is declared but load_panel does not read it. Received: dataset={dataset!r}")


def feature_columns(feature_set, lags, available):
    """Names of the features a set uses, given the panel's columns."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"Unknown feature set; choose one of {list(FEATURE_SETS)}. Received: features={feature_set!r}")
    if int(lags) < 1:
        raise ValueError(f"`lags` must be at least 1. Received: lags={lags!r}")
    names = [f"excess_lag{k}" for k in range(lags)]
    extra = {
        "returns": [],
        "ff": ["smb", "hml", "other"],
        "macro": ["smb", "hml", "other", "rf", "rf_level", "default_spread"],
        "macro_cpi": ["smb", "hml", "other", "rf", "rf_level", "default_spread", "inflation"],
    }[feature_set]
    names += [c for c in extra if c in available]
    if feature_set == "macro_cpi" and "inflation" not in available:
        raise ValueError(f"Feature set 'macro_cpi' needs inflation data, which this dataset lacks. "
                         f"Received: columns={sorted(available)}")
    return names


def build_features(frame, feature_set="returns", lags=8):
    """Features known at the end of each period, and the next period's return.

    Args:
        frame: a panel from `load_panel` (rows dated by period end).
        feature_set: one of `FEATURE_SETS`.
        lags: how many lagged excess returns (`excess[t], ..., excess[t-lags+1]`).

    Returns:
        `(features, info)`, both indexed by the decision date (end of period
        `t`) and holding the rows whose features are complete: `features` a
        `(T, d)` DataFrame; `info` with `target` (the excess return of period
        `t + 1`, NaN for the last row: not known yet), `rf_next` (that
        period's risk-free return) and `earn_date` (the end of period `t + 1`).
    """
    columns = feature_columns(feature_set, lags, frame.columns)
    data = {}
    for k in range(lags):
        data[f"excess_lag{k}"] = frame["excess"].shift(k)
    for name in columns[lags:]:
        data[name] = frame[name]
    features = pd.DataFrame(data, index=frame.index)[columns]
    info = pd.DataFrame(
        {
            "target": frame["excess"].shift(-1),
            "rf_next": frame["rf"].shift(-1),
            "earn_date": pd.Series(frame.index, index=frame.index).shift(-1),
        },
        index=frame.index,
    )
    complete = features.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise ValueError(f"No period has every feature of {feature_set!r}. Received: {len(frame)} rows")
    first = int(np.argmax(complete))
    if not complete[first:].all():
        gap = frame.index[first:][~complete[first:]][0]
        raise ValueError(f"Features of {feature_set!r} are missing after they start. Received: first gap at {gap.date()}")
    return features.iloc[first:], info.iloc[first:]


SPLITS = {
    # Moody & Saffell's monthly test period: trade 1970-1994, train before.
    "frenchdata": {"train_start": "1926-07", "train_end": "1959-12", "validation_end": "1969-12",
                   "test_end": "1994-12"},
    # The daily split: train 1999-2008 (its last two years validate), test 2009-2018.
    "sp500": {"train_start": "1999-01", "train_end": "2006-12", "validation_end": "2008-12", "test_end": "2018-12"},
    "nasdaq": {"train_start": "1999-01", "train_end": "2006-12", "validation_end": "2008-12", "test_end": "2018-12"},
}
"""Split dates, by the period a position *earns* in (inclusive month ends)."""


def default_splits(dataset, frame=None):
    """The dataset's split dates; for a CSV, 60/20/20 of its periods by time."""
    if dataset in SPLITS:
        return dict(SPLITS[dataset])
    index = frame.index
    n = len(index)
    at = lambda q: str(index[min(n - 1, int(q * n))].date())  # noqa: E731
    return {"train_start": str(index[0].date()), "train_end": at(0.6), "validation_end": at(0.8),
            "test_end": str(index[-1].date())}


def split_masks(info, splits):
    """Boolean masks `train`, `validation`, `test` over `info`'s rows (by earn date)."""
    earn = pd.DatetimeIndex(info["earn_date"])
    known = info["target"].notna().to_numpy()

    def end(text):
        return pd.Period(text, freq="D" if len(text) > 7 else "M").end_time

    def start(text):
        return pd.Period(text, freq="D" if len(text) > 7 else "M").start_time

    bounds = {
        "train": (start(splits["train_start"]), end(splits["train_end"])),
        "validation": (end(splits["train_end"]), end(splits["validation_end"])),
        "test": (end(splits["validation_end"]), end(splits["test_end"])),
    }
    masks = {}
    for name, (low, high) in bounds.items():
        inclusive_low = name == "train"
        above = (earn >= low) if inclusive_low else (earn > low)
        masks[name] = np.asarray(above & (earn <= high)) & known
        if not masks[name].any():
            raise ValueError(f"The {name} split is empty for these dates. Received: splits={splits}")
    return masks
