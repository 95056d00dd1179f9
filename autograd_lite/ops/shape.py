"""Operations that move elements around without changing them: each routes gradients back."""

from __future__ import annotations

import numpy as np

from ..function import Function


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
        return np.transpose(x, axes)

    def backward(self, g):
        (axes,) = self.saved
        if axes is None:
            return (np.transpose(g),)
        # Negative axes count from the end: normalise them, or argsort gives the wrong inverse.
        return (np.transpose(g, np.argsort([a % g.ndim for a in axes])),)


class GetItem(Function):
    """z = x[index].   ∂L/∂x is zero except at the selected positions, where g is added; an
    element picked several times by an integer array receives the sum of its gradients."""

    def forward(self, x, index):
        self.save(x.shape, x.dtype, index)
        return x[index]

    def backward(self, g):
        shape, dtype, index = self.saved
        grad = np.zeros(shape, dtype=np.result_type(dtype, g.dtype))
        np.add.at(grad, index, g)
        return (grad,)


class Concatenate(Function):
    """z = [x₁, x₂, …] joined along an axis.   Each xₖ's gradient is the slice of g it filled."""

    def forward(self, *xs, axis):
        self.save(axis, np.cumsum([x.shape[axis] for x in xs])[:-1])
        return np.concatenate(xs, axis=axis)

    def backward(self, g):
        axis, splits = self.saved
        return tuple(np.split(g, splits, axis=axis))


class Stack(Function):
    """z = [x₁, x₂, …] stacked along a new axis.   Each xₖ's gradient is g's k-th slice there."""

    def forward(self, *xs, axis):
        self.save(axis)
        return np.stack(xs, axis=axis)

    def backward(self, g):
        (axis,) = self.saved
        return tuple(np.moveaxis(g, axis, 0))


class Where(Function):
    """z = a where cond else b.   ∂z/∂a = cond,   ∂z/∂b = not cond."""

    def forward(self, a, b, cond):
        self.save(cond)
        return np.where(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved
        return np.where(cond, g, 0), np.where(cond, 0, g)
