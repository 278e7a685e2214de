"""Training utilities for recurrent networks.

- `truncated_bptt_gradients` / `fit_truncated_bptt`: truncated
  backpropagation through time over long sequences (chunks of `k` steps,
  states carried across chunks, gradients cut at chunk borders);
- `make_optimizer`: Keras optimizers with gradient clipping, global-norm
  clipping at 1.0 by default; `optimizer_from_config` reads its arguments
  from an application's config (the one way applications build theirs).

Both work on the TensorFlow and JAX backends.
"""

from zoo.training.clipping import CLIP_CHOICES
from zoo.training.clipping import DEFAULT_CLIP
from zoo.training.clipping import DEFAULT_CLIP_VALUE
from zoo.training.clipping import make_optimizer
from zoo.training.clipping import optimizer_from_config
from zoo.training.tbptt import TruncatedBPTTResult
from zoo.training.tbptt import fit_truncated_bptt
from zoo.training.tbptt import truncated_bptt_gradients

__all__ = [
    "CLIP_CHOICES",
    "DEFAULT_CLIP",
    "DEFAULT_CLIP_VALUE",
    "TruncatedBPTTResult",
    "fit_truncated_bptt",
    "make_optimizer",
    "optimizer_from_config",
    "truncated_bptt_gradients",
]
