"""Reductions over axes, and the softmax family."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..array_namespace import array_namespace
from ..function import Function
from .elementwise import as_floating


def restore_reduced_axes(g, shape: tuple, axis, keepdims: bool):
    """Give ``g`` back the reduced axes (as length 1) so that it broadcasts against the input."""
    if keepdims:
        return g
    if axis is None:
        return g.reshape((1,) * len(shape))
    kept = list(shape)  # a plain loop: a third of the cost of a set and a generator
    for a in (axis,) if isinstance(axis, int) else axis:
        kept[a] = 1  # a negative axis counts from the end here too (forward checked the range)
    return g.reshape(kept)


class Sum(Function):
    """z = Σᵢ xᵢ over the axes.   ∂z/∂xᵢ = 1: each input gets the output's gradient."""

    def forward(self, x, axis, keepdims):
        self.save(x.shape, axis, keepdims)
        # What np.sum calls for an ndarray, without its Python wrapper (a third of the cost on a
        # small array): the same reduction, the same dtype.
        return np.add.reduce(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        shape, axis, keepdims = self.saved
        if axis is not None and not keepdims:  # a 0-d g (axis=None) broadcasts as it is
            g = restore_reduced_axes(g, shape, axis, keepdims)
        return (array_namespace(g).broadcast_to(g, shape),)


def numpy_mean(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> Any:
    """``x.mean(axis, keepdims)``, to the bit, for a floating ``x``.

    For float32 and float64 np.mean is this sum divided by this count; calling them directly skips
    its Python layer, a fifth of the time on small arrays. float16 (summed in float32) and empty
    arrays go through np.mean itself.
    """
    if x.dtype.itemsize >= 4 and x.size:
        total = np.add.reduce(x, axis=axis, keepdims=keepdims)
        return total / (x.size // max(total.size, 1))
    return x.mean(axis=axis, keepdims=keepdims)


class Mean(Function):
    """z = (1/n) Σᵢ xᵢ over the axes (n elements each).   ∂z/∂xᵢ = 1/n."""

    def forward(self, x, axis, keepdims):
        if x.dtype.kind != "f":  # np.mean casts integers chunk by chunk: other bits for large x
            x = as_floating(x)
        z = numpy_mean(x, axis, keepdims)
        self.save(x.shape, axis, keepdims, x.size // max(z.size, 1))
        return z

    def backward(self, g):
        shape, axis, keepdims, n = self.saved
        if axis is not None and not keepdims:  # a 0-d g (axis=None) broadcasts as it is
            g = restore_reduced_axes(g, shape, axis, keepdims)
        g = g / n
        return (array_namespace(g).broadcast_to(g, shape),)


class Max(Function):
    """z = maxᵢ xᵢ over the axes.   ∂z/∂xᵢ = 1/k where xᵢ is one of the k tied maxima, else 0.

    Ties share the gradient equally (as ``torch.amax`` does), so the gradient is the same whichever
    way the tie is broken.
    """

    extreme = staticmethod(np.max)  # Min (reductions_more.py) is the same with np.min

    def forward(self, x, axis, keepdims):
        z = self.extreme(x, axis=axis, keepdims=True)
        self.save(x, z, axis)
        return z if keepdims else np.squeeze(z, axis=axis)

    def backward(self, g):
        x, z, axis = self.saved
        winners = x == z
        share = winners / winners.sum(axis=axis, keepdims=True)
        return (share * g.reshape(z.shape),)


class Softmax(Function):
    """sᵢ = eˣⁱ / Σⱼ eˣʲ along the axis.   ∂L/∂xᵢ = sᵢ (gᵢ − Σⱼ gⱼ sⱼ)."""

    def forward(self, x, axis):
        if x.dtype.kind != "f":
            x = as_floating(x)
        if x.size == 0:  # nothing to normalise (NumPy's max has no identity to start from)
            self.save(x, axis)
            return x.copy()
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        s = e / e.sum(axis=axis, keepdims=True)
        self.save(s, axis)
        return s

    def backward(self, g):
        s, axis = self.saved
        return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)


class LogSoftmax(Function):
    """yᵢ = xᵢ − log Σⱼ eˣʲ along the axis.   ∂L/∂xᵢ = gᵢ − softmax(x)ᵢ Σⱼ gⱼ.

    The log-sum-exp is taken after subtracting the maximum, so |x| = 1000 stays finite.
    """

    def forward(self, x, axis):
        if x.dtype.kind != "f":
            x = as_floating(x)
        if x.size == 0:  # nothing to normalise (NumPy's max has no identity to start from)
            self.save(x, axis)
            return x.copy()
        # The reductions x.max and .sum call, without their Python wrappers (same ufuncs, bits)
        shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
        y = shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
        self.save(y, axis)
        return y

    def backward(self, g):
        y, axis = self.saved
        return (g - array_namespace(g).exp(y) * g.sum(axis=axis, keepdims=True),)
