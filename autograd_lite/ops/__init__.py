"""The operations, grouped by kind. Each is one ``Function`` subclass: forward beside derivative."""

from . import (
    activations_piecewise,
    activations_smooth,
    elementwise,
    exp_log,
    linalg,
    piecewise,
    reduce,
    reductions_more,
    shape,
    shape_more,
    special,
)

__all__ = [
    "activations_piecewise",
    "activations_smooth",
    "elementwise",
    "exp_log",
    "linalg",
    "piecewise",
    "reduce",
    "reductions_more",
    "shape",
    "shape_more",
    "special",
]
