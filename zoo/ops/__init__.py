"""Backend-dispatched loop primitives used by `zoo.layers`."""

from zoo.ops.scan import prefers_custom_loop_gradient
from zoo.ops.scan import scan

__all__ = ["prefers_custom_loop_gradient", "scan"]
