"""Powers, exponentials and logarithms beyond exp/log/sqrt: the spellings that keep precision
(``log1p``, ``expm1``, ``logaddexp``) or say what is meant (``square``, ``rsqrt``).

Each backward is written once for arrays and Tensors (see ``array_namespace``), so each is
differentiable again.
"""

from __future__ import annotations

import math

import numpy as np

from ..array_namespace import array_namespace
from ..function import Function
from .elementwise import as_floating

# Python floats, not NumPy's: a float32 gradient times a Python float stays float32.
LN2, LN10 = math.log(2.0), math.log(10.0)


class Square(Function):
    """z = x².   ∂z/∂x = 2x."""

    def forward(self, x):
        self.save(x)
        return np.square(x)

    def backward(self, g):
        (x,) = self.saved
        return (g * (2 * x),)


class Reciprocal(Function):
    """z = 1/x.   ∂z/∂x = −1/x² = −z²."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        with np.errstate(divide="ignore"):  # 1/0 = inf, as in PyTorch
            z = 1 / x
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (-g * z * z,)


class Rsqrt(Function):
    """z = 1/√x.   ∂z/∂x = −½x^(−3/2) = −½z³."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        with np.errstate(divide="ignore"):  # 1/√0 = inf, as in PyTorch
            z = 1 / np.sqrt(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (g * -0.5 * z * z * z,)


class Log1p(Function):
    """z = ln(1 + x), exact for tiny x.   ∂z/∂x = 1/(1 + x)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return np.log1p(x)

    def backward(self, g):
        (x,) = self.saved
        return (g / (1 + x),)


class Expm1(Function):
    """z = eˣ − 1, exact for tiny x.   ∂z/∂x = eˣ = z + 1."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        z = np.expm1(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (g * (z + 1),)


class Log2(Function):
    """z = log₂ x.   ∂z/∂x = 1/(x ln 2)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return np.log2(x)

    def backward(self, g):
        (x,) = self.saved
        return (g / (x * LN2),)


class Log10(Function):
    """z = log₁₀ x.   ∂z/∂x = 1/(x ln 10)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return np.log10(x)

    def backward(self, g):
        (x,) = self.saved
        return (g / (x * LN10),)


class Exp2(Function):
    """z = 2ˣ.   ∂z/∂x = 2ˣ ln 2 = z ln 2."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        z = np.exp2(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (g * z * LN2,)


class LogAddExp(Function):
    """z = ln(eˣ + eʸ), without overflow for large x or y.   ∂z/∂x = e^(x − z) = σ(x − y),
    ∂z/∂y = e^(y − z) = σ(y − x) (each ≤ 1, so the gradient cannot overflow either)."""

    def forward(self, x, y):
        # Both integer or bool; with one float operand NumPy's promotion stands, as before.
        if x.dtype.kind != "f" and y.dtype.kind != "f":
            x, y = as_floating(x), as_floating(y)
        z = np.logaddexp(x, y)
        self.save(x, y, z)
        return z

    def backward(self, g):
        x, y, z = self.saved
        xp = array_namespace(g)
        return g * xp.exp(x - z), g * xp.exp(y - z)
