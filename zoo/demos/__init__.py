"""Runnable demos: `python -m zoo.demos.<name>`.

- `gradient_flow`: a vanilla RNN and an LSTM on the adding problem, with
  the norm of dLoss/dh_t over time (vanishing gradients, the LSTM highway).
"""
