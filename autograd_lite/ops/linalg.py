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
        self.save(x, y)
        try:
            return x @ y
        except ValueError:  # explained only now, so that a valid product pays for no checks
            if x.ndim == 0 or y.ndim == 0:
                raise ValueError(
                    "matmul needs operands of at least one dimension; use * for scalars"
                ) from None
            inner = y.shape[-2 if y.ndim > 1 else 0]
            if x.shape[-1] != inner:
                raise ValueError(
                    f"inner dimensions differ ({x.shape[-1]} vs {inner}): "
                    "X @ Y needs X.shape[-1] == Y.shape[-2]; transpose an operand (.T) if meant"
                ) from None
            raise  # stacks that do not broadcast: NumPy's own message

    def backward(self, g):
        x, y = self.saved
        need_x, need_y = self.needs_input_grad
        if x.ndim == 2 and y.ndim < 3:
            # The common cases, with the same products as the general path below but none of its
            # reshaping: no axis is added or broadcast, so there is nothing to sum back.
            if y.ndim == 2:  # G @ Yᵀ and Xᵀ @ G
                gx = product_in_layout_of(g, y.T, x) if need_x else None
                gy = product_in_layout_of(x.T, g, y) if need_y else None
                return gx, gy
            # matrix @ vector: gx is the outer product of g and y, as (m, 1) @ (1, n), and gy is
            # Xᵀ @ g, which NumPy computes for a vector g as for a column (one gemv)
            gx = product_in_layout_of(g.reshape(-1, 1), y[None, :], x) if need_x else None
            gy = x.T @ g if need_y else None
            return gx, gy
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        # The column first: for vector @ vector g is 0-d and must become (1, 1).
        if y.ndim == 1:
            g = g.reshape((*g.shape, 1))
        if x.ndim == 1:
            g = g.reshape((*g.shape[:-1], 1, g.shape[-1]))
        gx = gy = None
        if need_x:
            gx = unbroadcast(product_in_layout_of(g, y2.swapaxes(-1, -2), x2), x2.shape)
            gx = gx.reshape(x.shape)
        if need_y:
            gy = unbroadcast(product_in_layout_of(x2.swapaxes(-1, -2), g, y2), y2.shape)
            gy = gy.reshape(y.shape)
        return gx, gy


def product_in_layout_of(a: np.ndarray, b: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``a @ b``, laid out in memory like ``like`` (a gradient takes its input's layout).

    For ``x @ w.T`` the input is a transposed view of ``w``: computing its gradient as
    ``(bᵀ @ aᵀ)ᵀ`` means that transposing it back for ``w`` gives a contiguous array, with no
    strided copy, exactly as PyTorch lays out gradients like their parameters. (Tensors, in a
    recorded backward, have no memory layout to follow.)
    """
    flags = getattr(like, "flags", None)
    if flags is not None and like.ndim == 2 and flags.f_contiguous and not flags.c_contiguous:
        if a.ndim == 2 and b.ndim == 2:  # .T is swapaxes(-1, -2) here, at half the cost
            return (b.T @ a.T).T
        return (b.swapaxes(-1, -2) @ a.swapaxes(-1, -2)).swapaxes(-1, -2)
    return a @ b
