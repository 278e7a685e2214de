"""Backend-dispatched loop primitives used by `zoo.layers`."""

from zoo.ops.scan import scan

__all__ = ["scan"]
