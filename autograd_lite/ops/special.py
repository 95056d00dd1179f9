"""Trigonometric functions and the error function (which the exact GELU is made of)."""

from __future__ import annotations

import math

import numpy as np

from ..array_namespace import array_namespace, erf
from ..function import Function
from .elementwise import as_floating

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Sin(Function):
    """z = sin x.   ∂z/∂x = cos x."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return np.sin(x)

    def backward(self, g):
        (x,) = self.saved
        return (g * array_namespace(g).cos(x),)


class Cos(Function):
    """z = cos x.   ∂z/∂x = −sin x."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return np.cos(x)

    def backward(self, g):
        (x,) = self.saved
        return (-g * array_namespace(g).sin(x),)


class Erf(Function):
    """z = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.   ∂z/∂x = (2/√π) e^(−x²).

    NumPy has no erf: the C library's (``math.erf``), element by element, exact to a rounding.
    """

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return erf(x)

    def backward(self, g):
        (x,) = self.saved
        return (g * TWO_OVER_SQRT_PI * array_namespace(g).exp(-(x * x)),)
