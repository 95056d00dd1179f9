"""Free functions with PyTorch's and NumPy's names (``autograd_lite.maximum(a, b)``, ``cat``, …).

Each hands its work to the same operation as the Tensor method; a plain number or array on
either side is a constant, as with the operators.
"""

from __future__ import annotations

from typing import Any

from . import arguments
from .ops import exp_log, piecewise
from .tensor import Tensor, concatenate


def cat(tensors: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """PyTorch's name for ``concatenate``: join tensors along an existing axis (0 by default)."""
    return concatenate(tensors, axis=arguments.one_axis(axis, dim, 0, "cat"))


def maximum(a: Any, b: Any) -> Tensor:
    """The larger of ``a`` and ``b`` element-wise; at a tie each gets half the gradient."""
    return piecewise.Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """The smaller of ``a`` and ``b`` element-wise; at a tie each gets half the gradient."""
    return piecewise.Minimum.apply(a, b)


def logaddexp(a: Any, b: Any) -> Tensor:
    """ln(eᵃ + eᵇ) element-wise, without overflow."""
    return exp_log.LogAddExp.apply(a, b)


def clip(t: Any, min: Any = None, max: Any = None) -> Tensor:
    """``t`` limited to [min, max] (either may be left out; Tensor bounds get gradients too)."""
    return piecewise.Clip.apply(t, *arguments.clip_bounds(min, max))


clamp = clip
