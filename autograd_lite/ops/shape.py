"""Operations that move elements around without changing them: each routes gradients back."""

from __future__ import annotations

import numpy as np

from ..array_namespace import array_namespace
from ..function import Function, unbroadcast


class Reshape(Function):
    """z = x with a new shape.   The gradient is g with x's shape."""

    def forward(self, x, shape):
        self.save(x.shape)
        return x.reshape(shape)

    def backward(self, g):
        (shape,) = self.saved
        return (g.reshape(shape),)


class Transpose(Function):
    """z = x with its axes permuted (reversed when none are given).   The gradient is g with the
    inverse permutation."""

    def forward(self, x, axes):
        self.save(axes)
        return x.transpose(axes)  # the method: np.transpose's Python wrapper costs a microsecond

    def backward(self, g):
        (axes,) = self.saved
        if axes is None:  # the method, which arrays and Tensors share (np.transpose is slower)
            return (g.transpose(),)
        # Negative axes count from the end: normalise them, or argsort gives the wrong inverse.
        return (g.transpose(tuple(np.argsort([a % g.ndim for a in axes]).tolist())),)


class GetItem(Function):
    """z = x[index].   ∂L/∂x is zero except at the selected positions, where g is added; an
    element picked several times by an integer array receives the sum of its gradients."""

    def forward(self, x, index):
        self.save(x.shape, index)
        return x[index]

    def backward(self, g):
        shape, index = self.saved
        return (array_namespace(g).index_add(g, shape, index),)


class IndexAdd(Function):
    """z = zeros(shape) with g added at index: the adjoint of ``x[index]``.   ∂L/∂g = G[index]."""

    def forward(self, g, shape, index):
        self.save(index)
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, index, g)
        return out

    def backward(self, gg):
        (index,) = self.saved
        return (gg[index],)


class BroadcastTo(Function):
    """z = x repeated along new or length-1 axes to ``shape``.   ∂L/∂x = G summed over them."""

    def forward(self, x, shape):
        self.save(x.shape)
        return np.broadcast_to(x, shape)

    def backward(self, g):
        (shape,) = self.saved
        return (unbroadcast(g, shape),)


class Concatenate(Function):
    """z = [x₁, x₂, …] joined along an axis.   Each xₖ's gradient is the slice of g it filled."""

    def forward(self, *xs, axis):
        self.save(axis, np.cumsum([x.shape[axis] for x in xs])[:-1])
        return np.concatenate(xs, axis=axis)

    def backward(self, g):
        axis, splits = self.saved
        return tuple(array_namespace(g).split(g, splits, axis=axis))


class Stack(Function):
    """z = [x₁, x₂, …] stacked along a new axis.   Each xₖ's gradient is g's k-th slice there."""

    def forward(self, *xs, axis):
        self.save(axis)
        return np.stack(xs, axis=axis)

    def backward(self, g):
        (axis,) = self.saved
        before = (slice(None),) * (axis % g.ndim)
        return tuple(g[(*before, k)] for k in range(g.shape[axis]))


class Where(Function):
    """z = a where cond else b.   ∂z/∂a = cond,   ∂z/∂b = not cond."""

    def forward(self, a, b, cond):
        self.save(cond)
        return np.where(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved
        xp = array_namespace(g)
        return xp.where(cond, g, 0), xp.where(cond, 0, g)
