"""Embedded data: fixed dates, publication lags, bad input."""

import numpy as np
import pandas as pd
import pytest

from applications.trading import data


def test_frenchdata_dates_are_fixed():
    raw_index = __import__("arch.data.frenchdata", fromlist=["load"]).load().index
    assert raw_index[0].year == 1970  # the bug this fixes: YYYYMM read as nanoseconds
    frame = data.load_frenchdata()
    assert frame.index[0] == pd.Timestamp("1926-07-31")
    assert frame.index[-1] == pd.Timestamp("2018-11-30")
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert (frame.index.is_month_end).all()
    assert len(frame) == len(raw_index) == 1109
    # Mkt-RF of July 1926 is 2.96% in the file.
    assert frame["excess"].iloc[0] == pytest.approx(0.0296)
    assert data.fix_yyyymm_index([197001, 199412]).tolist() == [pd.Timestamp("1970-01-31"), pd.Timestamp("1994-12-31")]
    with pytest.raises(ValueError, match="YYYYMM"):
        data.fix_yyyymm_index([197013])


def test_macro_series_are_lagged_by_their_publication_delay():
    frame, frequency = data.load_panel("frenchdata")
    assert frequency == data.MONTHLY
    spread = data.load_default_spread()
    cpi = data.load_core_cpi()
    when = pd.Timestamp("1980-06-30")
    # At the end of June 1980 the May spread and the May inflation are the latest known.
    assert frame.loc[when, "default_spread"] == pytest.approx(spread.loc["1980-05-31"])
    expected = np.log(cpi.loc["1980-05-31"] / cpi.loc["1979-05-31"])
    assert frame.loc[when, "inflation"] == pytest.approx(expected)


def test_features_and_target_alignment():
    frame, _ = data.load_panel("frenchdata")
    features, info = data.build_features(frame, "returns", 3)
    t = features.index.get_loc(pd.Timestamp("1970-01-31"))
    row = features.iloc[t]
    assert row["excess_lag0"] == frame.loc["1970-01-31", "excess"]
    assert row["excess_lag2"] == frame.loc["1969-11-30", "excess"]
    assert info["target"].iloc[t] == frame.loc["1970-02-28", "excess"]
    assert info["earn_date"].iloc[t] == pd.Timestamp("1970-02-28")
    assert np.isnan(info["target"].iloc[-1])  # the future is not known
    masks = data.split_masks(info, data.SPLITS["frenchdata"])
    test_dates = pd.DatetimeIndex(info["earn_date"][masks["test"]])
    assert test_dates[0] == pd.Timestamp("1970-01-31") and test_dates[-1] == pd.Timestamp("1994-12-31")
    assert len(test_dates) == 300
    assert not (masks["train"] & masks["validation"]).any()


def test_daily_panel():
    frame, frequency = data.load_panel("sp500")
    assert frequency == data.DAILY
    assert frame.index[0].year == 1999 and frame.index[-1] == pd.Timestamp("2018-12-31")
    assert np.isfinite(frame.to_numpy()).all()
    # A day in March 2010 sees the January spread at the latest (1 month publication + 1 month).
    spread = data.load_default_spread()
    assert frame.loc["2010-03-15", "default_spread"] == pytest.approx(spread.loc["2010-01-31"])


def _write(tmp_path, rows, name="p.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def _prices(n=150):
    dates = pd.date_range("2000-01-31", periods=n, freq="ME")
    return {"Date": dates.strftime("%Y-%m-%d"), "Close": 100 * np.exp(np.cumsum(np.full(n, 0.01)))}


def test_csv_loads_prices(tmp_path):
    frame = data.load_csv(_write(tmp_path, _prices()))
    assert len(frame) == 149
    np.testing.assert_allclose(frame["excess"], np.exp(0.01) - 1)


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda d: d["Close"].__setitem__(5, np.nan), "missing or non-finite"),
        (lambda d: d["Date"].__setitem__(5, d["Date"][4]), "unique"),
        (lambda d: d["Date"].__setitem__(slice(5, 7), d["Date"][5:7][::-1].copy()), "sorted"),
        (lambda d: d["Close"].__setitem__(3, -1.0), "positive"),
    ],
)
def test_csv_bad_input(tmp_path, change, match):
    rows = _prices()
    rows["Date"], rows["Close"] = np.array(rows["Date"]), np.array(rows["Close"])
    change(rows)
    with pytest.raises(ValueError, match=match):
        data.load_csv(_write(tmp_path, rows))


def test_csv_too_short_and_missing_column(tmp_path):
    with pytest.raises(ValueError, match="too short"):
        data.load_csv(_write(tmp_path, _prices(10)))
    with pytest.raises(ValueError, match="price column"):
        data.load_csv(_write(tmp_path, {"Date": ["2000-01-01"], "Volume": [1]}))


def test_zero_variance_window_is_refused():
    from applications.trading.preprocessing import FeatureScaler

    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.ones(10)})
    with pytest.raises(ValueError, match=r"Zero-variance.*\['b'\]"):
        FeatureScaler.fit(frame)


def test_unknown_names():
    with pytest.raises(ValueError, match="feature set"):
        data.feature_columns("everything", 3, [])
    with pytest.raises(ValueError, match="Unknown dataset"):
        data.load_panel("ftse")
