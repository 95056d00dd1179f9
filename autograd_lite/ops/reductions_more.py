"""More reductions: variance, standard deviation, product, minimum and log-sum-exp.

``argmax`` and ``argmin`` are here too, as plain functions rather than operations: an index has
no gradient, so ``t.argmax(1)`` returns an integer Tensor outside the graph, as PyTorch's does.
"""

from __future__ import annotations

import math

import numpy as np

from ..array_namespace import array_namespace
from ..function import Function
from .elementwise import as_floating
from .reduce import Max, restore_reduced_axes


def _axes(axis, ndim: int) -> tuple[int, ...]:
    """The reduced axes as a tuple (every axis for None)."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def _scale(x, axis, correction: float) -> float:
    """1/(n − correction), inf when n − correction ≤ 0 (var is then nan or inf, as PyTorch's)."""
    n = math.prod(x.shape[a] for a in _axes(axis, x.ndim))
    dof = n - correction
    return 1.0 / dof if dof > 0 else math.inf


class Var(Function):
    """z = Σᵢ (xᵢ − x̄)²/(n − c) over the axes: n elements each, c the correction (1, PyTorch's
    default, is Bessel's; 0 the population variance; NumPy's ddof).   ∂z/∂xᵢ = 2(xᵢ − x̄)/(n − c).

    The mean is subtracted before squaring (two passes), so a large offset costs no precision.
    """

    def forward(self, x, axis, keepdims, correction):
        if x.dtype.kind != "f":
            x = as_floating(x)
        scale = _scale(x, axis, correction)
        d = x - x.mean(axis=axis, keepdims=True)
        with np.errstate(invalid="ignore"):  # 0·inf where n − c ≤ 0: nan, as in PyTorch
            z = (d * d).sum(axis=axis, keepdims=keepdims) * scale
        self.save(x, axis, keepdims, scale)
        return z

    def backward(self, g):
        x, axis, keepdims, scale = self.saved
        g = restore_reduced_axes(g, x.shape, axis, keepdims)
        return (g * (x - x.mean(axis=axis, keepdims=True)) * (2 * scale),)


class Std(Function):
    """z = √var(x) over the axes, with var's correction c (see Var).
    ∂z/∂xᵢ = (xᵢ − x̄)/((n − c)·z), taken as 0 where z = 0 (all elements equal), as PyTorch does,
    rather than 0/0."""

    def forward(self, x, axis, keepdims, correction):
        if x.dtype.kind != "f":
            x = as_floating(x)
        scale = _scale(x, axis, correction)
        d = x - x.mean(axis=axis, keepdims=True)
        with np.errstate(invalid="ignore"):
            z = np.sqrt((d * d).sum(axis=axis, keepdims=keepdims) * scale)
        self.save(x, z, axis, keepdims, scale)
        return z

    def backward(self, g):
        x, z, axis, keepdims, scale = self.saved
        xp = array_namespace(g)
        g = restore_reduced_axes(g, x.shape, axis, keepdims)
        z = restore_reduced_axes(z, x.shape, axis, keepdims)
        flat = z == 0
        g = xp.where(flat, 0.0, g / xp.where(flat, 1.0, z))
        return (g * (x - x.mean(axis=axis, keepdims=True)) * scale,)


class Prod(Function):
    """z = Πᵢ xᵢ over the axes.   ∂z/∂xᵢ = Π_{j≠i} xⱼ, the product of the others.

    The others' product is never z/xᵢ: prefix times suffix products, so the gradient is exact
    with one zero (only the zero gets a non-zero gradient) and with several (all get 0). A
    recorded backward builds it from products too, k² values per slice of k elements (see
    ``array_namespace.TensorNamespace.prod_others``).
    """

    def forward(self, x, axis, keepdims):
        self.save(x, axis, keepdims)
        return np.prod(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        x, axis, keepdims = self.saved
        g = restore_reduced_axes(g, x.shape, axis, keepdims)
        return (g * array_namespace(g).prod_others(x, _axes(axis, x.ndim)),)


class Min(Max):
    """z = minᵢ xᵢ over the axes.   ∂z/∂xᵢ = 1/k where xᵢ is one of the k tied minima, else 0
    (ties share the gradient equally, as ``torch.amin`` and this library's max do; the forward
    and backward are Max's, with np.min)."""

    extreme = staticmethod(np.min)


class LogSumExp(Function):
    """z = ln Σᵢ e^xᵢ over the axes, taken as m + ln Σᵢ e^(xᵢ − m) with m the maximum, so that
    |x| = 1000 stays finite (and a slice of −∞ only gives −∞).   ∂z/∂xᵢ = e^(xᵢ − z) =
    softmax(x)ᵢ."""

    def forward(self, x, axis, keepdims):
        if x.dtype.kind != "f":
            x = as_floating(x)
        m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)  # all −∞ (or an ∞): nothing to shift by
        with np.errstate(divide="ignore"):  # ln 0 = −∞ for an empty or all −∞ slice
            z = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
        z = z if keepdims else np.squeeze(z, axis=axis)
        self.save(x, z, axis, keepdims)
        return z

    def backward(self, g):
        x, z, axis, keepdims = self.saved
        g = restore_reduced_axes(g, x.shape, axis, keepdims)
        z = restore_reduced_axes(z, x.shape, axis, keepdims)
        return (g * array_namespace(g).exp(x - z),)


def argmax(x: np.ndarray, axis: int | None, keepdims: bool) -> np.ndarray:
    """The index of the first maximum along ``axis`` (of the flattened array for None)."""
    return np.asarray(np.argmax(x, axis=_one_axis(axis, "argmax"), keepdims=keepdims))


def argmin(x: np.ndarray, axis: int | None, keepdims: bool) -> np.ndarray:
    """The index of the first minimum along ``axis`` (of the flattened array for None)."""
    return np.asarray(np.argmin(x, axis=_one_axis(axis, "argmin"), keepdims=keepdims))


def _one_axis(axis, what: str):
    if isinstance(axis, tuple):
        raise TypeError(f"{what} takes one axis (an int) or None; got {axis}")
    return axis
