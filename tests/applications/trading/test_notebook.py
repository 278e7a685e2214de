"""The trading notebook runs top to bottom on the shipped weights (about 20 s)."""

from tests.harness import run_notebook


def test_notebook_executes():
    # the market, the backtest, online learning
    assert run_notebook("trading.ipynb", "trading_rrl_monthly", timeout=300) >= 3
