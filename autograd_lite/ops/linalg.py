"""Matrix products."""

from __future__ import annotations

import numpy as np

from ..function import Function, unbroadcast


class MatMul(Function):
    """Z = X @ Y.   ∂L/∂X = G @ Yᵀ,   ∂L/∂Y = Xᵀ @ G.

    1-D operands follow NumPy: a vector is a row on the left and a column on the right, so the
    gradient is computed as for that matrix and returned in the vector's shape. Stacks of matrices
    broadcast, and their gradients are summed back over the broadcast axes.
    """

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("matmul needs operands of at least one dimension; use * for scalars")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(
                f"inner dimensions differ ({x.shape[-1]} vs {y.shape[-2 if y.ndim > 1 else 0]}): "
                "X @ Y needs X.shape[-1] == Y.shape[-2]; transpose an operand (.T) if meant"
            )
        self.save(x, y)
        return x @ y

    def backward(self, g):
        x, y = self.saved
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        if x.ndim == 1:
            g = np.expand_dims(g, -2)
        if y.ndim == 1:
            g = np.expand_dims(g, -1)
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(g @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
        if self.needs_input_grad[1]:
            gy = unbroadcast(np.swapaxes(x2, -1, -2) @ g, y2.shape).reshape(y.shape)
        return gx, gy
