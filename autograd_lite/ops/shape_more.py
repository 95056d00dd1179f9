"""Tiling and flipping. (``squeeze``, ``unsqueeze``, ``flatten``, ``view`` are Reshape,
``expand`` is BroadcastTo, ``permute`` is Transpose and ``gather`` is GetItem, in ``shape``.)"""

from __future__ import annotations

import numpy as np

from ..function import Function


class Tile(Function):
    """z = x repeated rᵢ times along axis i (PyTorch's ``repeat``, NumPy's ``tile``; x gets
    leading axes of length 1 when there are more reps than axes).   ∂L/∂x = G cut into its
    copies of x and summed over them."""

    def forward(self, x, reps):
        self.save(x.shape, reps)
        return np.tile(x, reps)

    def backward(self, g):
        shape, reps = self.saved
        padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
        # axis 2i counts the copies along axis i, axis 2i + 1 runs within one copy
        split = tuple(n for pair in zip(reps, padded, strict=True) for n in pair)
        copies = tuple(range(0, 2 * len(reps), 2))
        return (g.reshape(split).sum(axis=copies).reshape(shape),)


class Flip(Function):
    """z = x with the order of its elements reversed along the axes.   ∂L/∂x = G flipped back
    along the same axes. The result is a copy, as PyTorch's flip."""

    def forward(self, x, axes):
        self.save(axes)
        return np.flip(x, axes).copy()

    def backward(self, g):
        (axes,) = self.saved
        return (
            g[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(g.ndim))],
        )
