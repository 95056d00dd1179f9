"""Piecewise operations: remainder, sign, element-wise maximum/minimum and clipping.

Their derivatives are constant between the jumps and kinks, so each backward multiplies the
gradient by a mask that forward computed; at a kink the value is PyTorch's (stated per class).
"""

from __future__ import annotations

import numpy as np

from ..array_namespace import array_namespace
from ..function import Function


class Mod(Function):
    """z = x mod y = x − y·⌊x/y⌋, with the sign of y (Python's %, NumPy's remainder, PyTorch's
    remainder).   ∂z/∂x = 1,   ∂z/∂y = −⌊x/y⌋ (the quotient is constant between its jumps)."""

    def forward(self, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):  # x mod 0 is nan, as in PyTorch
            self.save(np.floor_divide(x, y))
            return np.remainder(x, y)

    def backward(self, g):
        (quotient,) = self.saved
        return g, -g * quotient


class Sign(Function):
    """z = sign(x) ∈ {−1, 0, 1}.   ∂z/∂x = 0 (a step function; PyTorch gives zeros too)."""

    def forward(self, x):
        return np.sign(x)

    def backward(self, g):
        return (array_namespace(g).zeros_like(g),)


class Maximum(Function):
    """z = max(x, y) element-wise.   ∂z/∂x = 1 where x > y, ½ where x = y, else 0;
    ∂z/∂y = 1 where y > x, ½ where x = y, else 0 (ties share, as in PyTorch's maximum)."""

    def forward(self, x, y):
        z = np.maximum(x, y)
        self.save(*_weights(x, y, x < y, x > y, z.dtype))
        return z

    def backward(self, g):
        wx, wy = self.saved
        return g * wx, g * wy


class Minimum(Function):
    """z = min(x, y) element-wise.   ∂z/∂x = 1 where x < y, ½ where x = y, else 0;
    ∂z/∂y = 1 where y < x, ½ where x = y, else 0 (ties share, as in PyTorch's minimum)."""

    def forward(self, x, y):
        z = np.minimum(x, y)
        self.save(*_weights(x, y, x > y, x < y, z.dtype))
        return z

    def backward(self, g):
        wx, wy = self.saved
        return g * wx, g * wy


def _weights(x, y, x_loses, y_loses, dtype):
    """Each operand's share of the gradient: 1 where it is chosen, ½ at a tie, 0 where the other
    is; PyTorch's masked_fill rule, so a NaN comparison (neither loses) passes the gradient to
    both."""
    dtype = dtype if dtype.kind == "f" else np.float64
    tie = x == y
    wx = np.where(tie, 0.5, np.where(x_loses, 0.0, 1.0)).astype(dtype)
    wy = np.where(tie, 0.5, np.where(y_loses, 0.0, 1.0)).astype(dtype)
    return wx, wy


class Clip(Function):
    """z = min(max(x, lo), hi) (``clip``, ``clamp``; with lo > hi every element is hi).
    ∂z/∂x = 1 where lo ≤ x ≤ hi, else 0: 1 at the bounds themselves, as PyTorch's clamp;
    ∂z/∂lo = 1 where x < lo < hi;   ∂z/∂hi = 1 where x > hi or hi < lo. A bound left out is ∓∞.
    """

    def forward(self, x, lo, hi):
        self.save((x >= lo) & (x <= hi), (x < lo) & (lo < hi), (x > hi) | (hi < lo))
        return np.minimum(np.maximum(x, lo), hi)

    def backward(self, g):
        inside, below, above = self.saved
        xp = array_namespace(g)
        return xp.where(inside, g, 0), xp.where(below, g, 0), xp.where(above, g, 0)
