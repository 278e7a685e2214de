"""Backtest on your own prices: train on the CSV's first 60%, select on the next 20%, trade the last 20%.

    python -m applications.trading.backtest --csv prices.csv                  # date + Close/Adj Close/Price column
    python -m applications.trading.backtest --csv returns.csv --return-column ret --cost 0.001
    python -m applications.trading.backtest --csv prices.csv --weights trading_rrl_monthly   # no training

A CSV has no risk-free rate: its returns count as excess returns. Only the
`returns` feature set applies. The report compares the policy with
buy-and-hold on the last 20% of the periods (out of sample); the command is
`applications.trading.backtest_lib`, declared as the application's
`user_command`.
"""

from applications.trading import APPLICATION
from zoo.cli import user_main

if __name__ == "__main__":
    user_main(APPLICATION)
