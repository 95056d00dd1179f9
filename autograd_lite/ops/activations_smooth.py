"""Smooth activations: GELU, SiLU, Mish, Softplus, Softsign, LogSigmoid.

Each is computed from pieces that cannot overflow at |x| = 1000 (σ and softplus from e^−|x|
only), and each backward recomputes what it needs from x with ``xp``, so that a recorded backward
differentiates those pieces again.
"""

from __future__ import annotations

import math

import numpy as np

from ..array_namespace import array_namespace, erf, stable_sigmoid, stable_softplus
from ..function import Function
from .elementwise import as_floating

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
TANH_K, TANH_C = math.sqrt(2 / math.pi), 0.044715  # GELU's tanh approximation, as PyTorch's


class GELU(Function):
    """approximate="none": z = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)) the standard normal CDF.
    ∂z/∂x = Φ(x) + x·φ(x),   φ(x) = e^(−x²/2)/√(2π).

    approximate="tanh": z = ½x(1 + tanh u),   u = √(2/π)(x + 0.044715x³).
    ∂z/∂x = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
    """

    def forward(self, x, approximate):
        if approximate not in ("none", "tanh"):
            raise ValueError(f'gelu: approximate must be "none" or "tanh"; got {approximate!r}')
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x, approximate)
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(TANH_K * (x + TANH_C * x * x * x)))
        return x * 0.5 * (1 + erf(x * SQRT_HALF))

    def backward(self, g):
        x, approximate = self.saved
        xp = array_namespace(g)
        if approximate == "tanh":
            t = xp.tanh(TANH_K * (x + TANH_C * x * x * x))
            slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * TANH_K * (1 + 3 * TANH_C * x * x)
            return (g * slope,)
        cdf = 0.5 * (1 + xp.erf(x * SQRT_HALF))
        return (g * (cdf + x * INV_SQRT_2PI * xp.exp(-0.5 * x * x)),)


class SiLU(Function):
    """z = x·σ(x) (also called swish).   ∂z/∂x = σ(x)(1 + x(1 − σ(x)))."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return x * stable_sigmoid(x)

    def backward(self, g):
        (x,) = self.saved
        s = array_namespace(g).sigmoid(x)
        return (g * s * (1 + x * (1 - s)),)


class Mish(Function):
    """z = x·tanh(softplus(x)).   ∂z/∂x = t + x·σ(x)(1 − t²),   t = tanh(softplus(x))."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return x * np.tanh(stable_softplus(x))

    def backward(self, g):
        (x,) = self.saved
        xp = array_namespace(g)
        t = xp.tanh(xp.softplus(x))
        return (g * (t + x * xp.sigmoid(x) * (1 - t * t)),)


class Softplus(Function):
    """z = (1/β) ln(1 + e^(βx)), or x where βx > threshold (β = beta, 1 by default; threshold 20).
    ∂z/∂x = σ(βx), or 1 where βx > threshold (at βx = threshold it is σ(βx), as in PyTorch).
    """

    def forward(self, x, beta, threshold):
        if beta == 0:
            raise ValueError("softplus: beta must not be 0 (the formula divides by it)")
        if x.dtype.kind != "f":
            x = as_floating(x)
        bx = x * beta
        linear = bx > threshold
        self.save(x, linear, beta)
        return np.where(linear, x, stable_softplus(bx) / beta)

    def backward(self, g):
        x, linear, beta = self.saved
        xp = array_namespace(g)
        return (xp.where(linear, g, g * xp.sigmoid(x * beta)),)


class Softsign(Function):
    """z = x/(1 + |x|).   ∂z/∂x = 1/(1 + |x|)² (1 at x = 0, as in PyTorch)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return x / (1 + np.abs(x))

    def backward(self, g):
        (x,) = self.saved
        d = 1 + array_namespace(g).abs(x)
        return (g / (d * d),)


class LogSigmoid(Function):
    """z = ln σ(x) = −softplus(−x) = min(x, 0) − ln(1 + e^−|x|).   ∂z/∂x = σ(−x) = 1 − σ(x)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def backward(self, g):
        (x,) = self.saved
        return (g * array_namespace(g).sigmoid(-x),)
