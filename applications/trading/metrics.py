"""Performance measures of a strategy, as defined in the README.

- annualized Sharpe: mean / standard deviation of the period excess returns
  (after costs) x sqrt(periods per year);
- cumulative return: final wealth - 1, wealth compounding each period's
  total return `rf + excess` (the risk-free rate included);
- maximum drawdown: the largest fall of wealth from its running peak, as a
  fraction of the peak;
- turnover: sum of |F_t - F_{t-1}| per year (a switch from long to short is 2).

The Sharpe difference's interval comes from `arch.bootstrap.StationaryBootstrap`
(Politis & Romano 1994) resampling the periods jointly for all strategies.
"""

import numpy as np


def annualized_sharpe(excess, periods_per_year):
    excess = np.asarray(excess, dtype="float64")
    std = excess.std(axis=-1)
    mean = excess.mean(axis=-1)
    return np.where(std > 0, mean / np.where(std > 0, std, 1.0), 0.0) * np.sqrt(periods_per_year)


def wealth(excess, rf):
    return np.cumprod(1.0 + np.asarray(excess, dtype="float64") + np.asarray(rf, dtype="float64"), axis=-1)


def max_drawdown(excess, rf):
    w = wealth(excess, rf)
    peak = np.maximum.accumulate(np.concatenate([np.ones(w.shape[:-1] + (1,)), w], axis=-1), axis=-1)[..., 1:]
    return float(np.max(1.0 - w / peak))


def turnover(positions, previous, periods_per_year):
    positions = np.asarray(positions, dtype="float64")
    steps = np.abs(np.diff(np.concatenate([[previous], positions])))
    return float(steps.sum() / (len(positions) / periods_per_year))


def summarize(excess, rf, positions, previous, periods_per_year):
    """The four measures of one strategy over one period."""
    excess = np.asarray(excess, dtype="float64")
    return {
        "sharpe": float(annualized_sharpe(excess, periods_per_year)),
        "cumulative_return": float(wealth(excess, rf)[-1] - 1.0),
        "max_drawdown": max_drawdown(excess, rf),
        "turnover": turnover(positions, previous, periods_per_year),
    }


def sharpe_difference_interval(strategies, benchmark, periods_per_year, block_size, reps=1000, seed=0,
                               level=0.95):
    """Stationary-bootstrap interval of mean_s(Sharpe(strategy_s)) - Sharpe(benchmark).

    Args:
        strategies: `(seeds, time)` period excess returns (several seeds of one
            strategy; their mean Sharpe is compared).
        benchmark: `(time,)` excess returns of the benchmark (buy-and-hold).
        block_size: the bootstrap's expected block length (periods).

    Returns:
        `(estimate, low, high)` in annualized Sharpe units.
    """
    from arch.bootstrap import StationaryBootstrap

    strategies = np.atleast_2d(np.asarray(strategies, dtype="float64"))
    benchmark = np.asarray(benchmark, dtype="float64")
    data = np.concatenate([strategies, benchmark[None]]).T  # (time, seeds + 1)

    def statistic(x):
        sharpes = annualized_sharpe(x.T, periods_per_year)
        return np.array([sharpes[:-1].mean() - sharpes[-1]])

    bootstrap = StationaryBootstrap(block_size, data, seed=np.random.default_rng(seed))
    low, high = bootstrap.conf_int(statistic, reps=reps, method="percentile", size=level)
    return float(statistic(data)[0]), float(low[0]), float(high[0])
