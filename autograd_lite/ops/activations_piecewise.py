"""Activations with kinks: the ReLU relatives and the hard (piecewise linear) ones.

At each kink the derivative is PyTorch's choice, stated in the docstring and pinned by the tests.
Exponentials are taken of min(x, 0) only, so |x| = 1000 cannot overflow in float32 or float64.
The ELU family's derivative below 0 is αe^x itself, not z + α, which would cancel digits far
below 0 (at x = −30 it would keep only three).
"""

from __future__ import annotations

import numpy as np

from ..array_namespace import array_namespace
from ..function import Function
from .elementwise import as_floating

# SELU's constants, as in PyTorch (Klambauer et al., 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class LeakyReLU(Function):
    """z = x for x > 0, else s·x (s = negative_slope, 0.01 by default).
    ∂z/∂x = 1 for x > 0, else s; at x = 0 it is s, as in PyTorch."""

    def forward(self, x, negative_slope):
        if x.dtype.kind != "f":
            x = as_floating(x)
        positive = x > 0
        self.save(positive, negative_slope)
        return np.where(positive, x, x * negative_slope)

    def backward(self, g):
        positive, slope = self.saved
        return (array_namespace(g).where(positive, g, g * slope),)


class ELU(Function):
    """z = x for x > 0, else α(eˣ − 1).   ∂z/∂x = 1 for x > 0, else αeˣ; at x = 0 it is α, as in
    PyTorch."""

    def forward(self, x, alpha):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x, alpha)
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, g):
        x, alpha = self.saved
        return (_below_zero(g, x, g * alpha, 1.0),)


class SELU(Function):
    """z = λx for x > 0, else λα(eˣ − 1), with PyTorch's λ ≈ 1.0507 and α ≈ 1.6733.
    ∂z/∂x = λ for x > 0, else λαeˣ; at x = 0 it is λα, as in PyTorch."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))

    def backward(self, g):
        (x,) = self.saved
        return (_below_zero(g * SELU_SCALE, x, g * (SELU_SCALE * SELU_ALPHA), 1.0),)


class CELU(Function):
    """z = x for x > 0, else α(e^(x/α) − 1) (α ≠ 0).   ∂z/∂x = 1 for x > 0, else e^(x/α); at
    x = 0 it is 1, as in PyTorch (continuously differentiable for every α)."""

    def forward(self, x, alpha):
        if alpha == 0:
            raise ValueError("celu: alpha must not be 0 (the formula divides by it)")
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x, alpha)
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))

    def backward(self, g):
        x, alpha = self.saved
        return (_below_zero(g, x, g, 1 / alpha),)


def _below_zero(above, x, factor, scale):
    """``above`` where x > 0, else factor·e^(scale·x): the exponential of min(x, 0) only, so that
    no branch overflows (a recorded ``where`` differentiates both)."""
    xp = array_namespace(factor)
    positive = x > 0
    return xp.where(positive, above, factor * xp.exp(xp.where(positive, 0.0, x) * scale))


class Hardtanh(Function):
    """z = min(max(x, lo), hi) with lo = min_val (−1), hi = max_val (1).
    ∂z/∂x = 1 for lo < x < hi, else 0: also 0 at x = lo and x = hi, as PyTorch's hardtanh
    (unlike clamp, whose gradient at the bounds is 1)."""

    def forward(self, x, min_val, max_val):
        if min_val > max_val:
            raise ValueError(
                f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
            )
        self.save((x > min_val) & (x < max_val))
        return np.minimum(np.maximum(x, min_val), max_val)

    def backward(self, g):
        (inside,) = self.saved
        return (array_namespace(g).where(inside, g, 0),)


class ReLU6(Hardtanh):
    """z = min(max(x, 0), 6).   ∂z/∂x = 1 for 0 < x < 6, else 0: also 0 at x = 0 and x = 6, as
    PyTorch's relu6 (which is its hardtanh(0, 6))."""

    def forward(self, x):
        return super().forward(x, 0.0, 6.0)


class Hardsigmoid(Function):
    """z = min(max(x + 3, 0), 6)/6.   ∂z/∂x = 1/6 for −3 < x < 3, else 0 (0 at x = ±3, as in
    PyTorch)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save((x > -3) & (x < 3))
        return np.minimum(np.maximum(x + 3, 0), 6) / 6

    def backward(self, g):
        (inside,) = self.saved
        return (array_namespace(g).where(inside, g / 6, 0),)


class Hardswish(Function):
    """z = x·min(max(x + 3, 0), 6)/6.   ∂z/∂x = 0 for x ≤ −3, x/3 + ½ for −3 < x < 3, 1 for
    x ≥ 3 (at x = −3 it is 0 and at x = 3 it is 1, as in PyTorch)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return x * np.minimum(np.maximum(x + 3, 0), 6) / 6

    def backward(self, g):
        (x,) = self.saved
        xp = array_namespace(g)
        return (xp.where(x <= -3, 0, xp.where(x < 3, g * (x / 3 + 0.5), g)),)
