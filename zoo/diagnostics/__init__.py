"""Diagnostics of recurrent networks.

- `gradient_flow(model, x, y)`: the norm of dLoss/dh_t at every step `t`,
  which makes vanishing gradients (and the LSTM's highway) visible; see
  `python -m zoo.demos.gradient_flow`.

Works on the TensorFlow and JAX backends.
"""

from zoo.diagnostics.gradient_flow import gradient_flow

__all__ = ["gradient_flow"]
