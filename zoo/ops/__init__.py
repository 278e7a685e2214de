"""Backend-dispatched loop primitives used by `zoo.layers`."""

from zoo.ops.compile import compiles_functions
from zoo.ops.compile import in_graph
from zoo.ops.compile import plain_loops
from zoo.ops.compile import xla_function
from zoo.ops.scan import prefers_custom_loop_gradient
from zoo.ops.scan import scan

__all__ = [
    "compiles_functions",
    "in_graph",
    "plain_loops",
    "prefers_custom_loop_gradient",
    "scan",
    "xla_function",
]
