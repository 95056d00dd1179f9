"""The functions a derivative may call, for arrays and for Tensors: one backward, two uses.

Every operation's backward is written once, against ``xp = array_namespace(g)``, with operators
(``+ - * / ** @``), the methods arrays and Tensors share (``.sum(axis, keepdims)``,
``.reshape``, indexing) and the functions below. A plain backward pass hands it NumPy arrays and
``xp`` is NumPy itself: nothing is recorded and nothing is slower. ``grad(...,
create_graph=True)`` hands it Tensors and ``xp`` is the recorded Tensor operations, so the
derivative is itself a graph and can be differentiated again (the idea of HIPS autograd's
``numpy_vjps.py``, with the array API standard's ``array_namespace`` as the switch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class NumpyNamespace:
    """NumPy itself: a backward pass that builds no graph."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sign = staticmethod(np.sign)
    where = staticmethod(np.where)
    zeros_like = staticmethod(np.zeros_like)

    @staticmethod
    def broadcast_to(g: np.ndarray, shape: tuple) -> np.ndarray:
        """``g`` repeated to ``shape``: a fresh array when small (np.broadcast_to's Python wrapper
        costs microseconds, the copy nanoseconds), a read-only view without copying when large."""
        if len(shape) < 3 and math.prod(shape) <= 256:
            out = np.empty(shape, dtype=g.dtype)
            out[...] = g
            return out
        return np.broadcast_to(g, shape)

    transpose = staticmethod(np.transpose)
    split = staticmethod(np.split)

    @staticmethod
    def index_add(g: np.ndarray, shape: tuple, index: Any) -> np.ndarray:
        """zeros(shape) with ``g`` added at ``index`` (repeated positions add up)."""
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, index, g)
        return out

    @staticmethod
    def astype(g: np.ndarray, dtype: Any) -> np.ndarray:
        return g.astype(dtype)

    # For the operations of issue 13 (their backwards need these as functions of x).
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tanh = staticmethod(np.tanh)
    abs = staticmethod(np.abs)

    @staticmethod
    def sigmoid(x: np.ndarray) -> np.ndarray:
        return stable_sigmoid(x)

    @staticmethod
    def softplus(x: np.ndarray) -> np.ndarray:
        return stable_softplus(x)

    @staticmethod
    def erf(x: np.ndarray) -> np.ndarray:
        return erf(x)

    @staticmethod
    def prod_others(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        """Π_{j≠i} x_j over ``axes`` for each element i: products of the prefix and the suffix,
        so that a zero is handled exactly (no division by x)."""
        moved, restore = _last_axis(x, axes, np.transpose, lambda a, s: a.reshape(s))
        if moved.shape[-1] == 0:  # an empty product: nothing to differentiate
            return np.ones_like(x)
        ones = np.ones((*moved.shape[:-1], 1), dtype=moved.dtype)
        before = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, moved[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        return restore(before * after)


class TensorNamespace:
    """The same functions as recorded operations: a backward pass that is itself a graph.

    Functions with no derivative worth recording (``sign``, ``zeros_like``) give plain arrays,
    which the other operations take as constants.
    """

    @staticmethod
    def exp(x: Any) -> Any:
        return ew().Exp.apply(x)

    @staticmethod
    def log(x: Any) -> Any:
        return ew().Log.apply(x)

    @staticmethod
    def sign(x: Any) -> np.ndarray:
        return np.sign(_data(x))

    @staticmethod
    def zeros_like(x: Any) -> np.ndarray:
        return np.zeros_like(_data(x))

    @staticmethod
    def where(cond: Any, a: Any, b: Any) -> Any:
        return shape_ops().Where.apply(a, b, cond=np.array(_data(cond), dtype=bool))

    @staticmethod
    def broadcast_to(x: Any, shape: tuple) -> Any:
        return shape_ops().BroadcastTo.apply(x, shape=tuple(shape))

    @staticmethod
    def transpose(x: Any, axes: Any = None) -> Any:
        return shape_ops().Transpose.apply(x, axes=None if axes is None else tuple(axes))

    @staticmethod
    def split(x: Any, indices: Any, axis: int) -> list:
        bounds = [0, *(int(i) for i in indices), x.shape[axis]]
        before = (slice(None),) * (axis % x.ndim)
        return [x[(*before, slice(a, b))] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    @staticmethod
    def index_add(g: Any, shape: tuple, index: Any) -> Any:
        return shape_ops().IndexAdd.apply(g, shape=shape, index=index)

    @staticmethod
    def astype(g: Any, dtype: Any) -> Any:
        return ew().Cast.apply(g, dtype=np.dtype(dtype))

    @staticmethod
    def sin(x: Any) -> Any:
        return special_ops().Sin.apply(x)

    @staticmethod
    def cos(x: Any) -> Any:
        return special_ops().Cos.apply(x)

    @staticmethod
    def tanh(x: Any) -> Any:
        return ew().Tanh.apply(x)

    @staticmethod
    def abs(x: Any) -> Any:
        return ew().Abs.apply(x)

    @staticmethod
    def sigmoid(x: Any) -> Any:
        return ew().Sigmoid.apply(x)

    @staticmethod
    def softplus(x: Any) -> Any:
        return smooth_ops().Softplus.apply(x, beta=1.0, threshold=np.inf)

    @staticmethod
    def erf(x: Any) -> Any:
        return special_ops().Erf.apply(x)

    @staticmethod
    def prod_others(x: Any, axes: tuple[int, ...]) -> Any:
        """Π_{j≠i} x_j as a graph: row i of a k × k matrix holds x with x_i replaced by 1, and
        its product is recorded, so that it can be differentiated again (k² values per slice:
        the price of a derivative of any order without dividing by x)."""
        transpose = TensorNamespace.transpose
        moved, restore = _last_axis(x, axes, transpose, lambda a, s: a.reshape(s))
        *kept, k = moved.shape
        rows = TensorNamespace.broadcast_to(moved.reshape((*kept, 1, k)), (*kept, k, k))
        rows = TensorNamespace.where(np.eye(k, dtype=bool), 1.0, rows)
        others = reductions_ops().Prod.apply(rows, axis=(len(kept) + 1,), keepdims=False)
        return restore(others)


def array_namespace(g: Any) -> type[NumpyNamespace] | type[TensorNamespace]:
    """NumPy for arrays, the recorded operations for Tensors (``g`` is backward's gradient)."""
    return NumpyNamespace if isinstance(g, (np.ndarray, np.generic)) else TensorNamespace


def _data(x: Any) -> Any:
    """A Tensor's array; anything else as it is."""
    return x.data if hasattr(x, "_ctx") else x


# The operation modules import this one, so they are looked up when first used.
def ew() -> Any:
    from .ops import elementwise

    return elementwise


def shape_ops() -> Any:
    from .ops import shape

    return shape


def special_ops() -> Any:
    from .ops import special

    return special


def smooth_ops() -> Any:
    from .ops import activations_smooth

    return activations_smooth


def reductions_ops() -> Any:
    from .ops import reductions_more

    return reductions_more


# ----- NumPy forms shared by the operations' forwards and the NumPy namespace -------------------
def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1/(1 + e⁻ˣ) from exp of −|x| only, so that |x| = 1000 cannot overflow."""
    e = np.exp(-np.abs(x))
    # 1/(1 + e) for x ≥ 0, e/(1 + e) below. As 0 ≤ e ≤ 1, that numerator is max(e, sign x):
    # two cheap ufuncs where np.where cost as much as all the rest on small arrays. The same
    # bits: at x = ±0 e is 1 anyway, and for a NaN x maximum keeps e's NaN, its first operand.
    return np.maximum(e, np.sign(x)) / (1.0 + e)


def stable_softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): exact for large |x| and no overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


_math_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function element-wise. NumPy has none; the C library's (``math.erf``) is exact
    to a rounding and keeps the package free of a SciPy dependency, at Python speed per element."""
    x = np.asarray(x)
    return np.asarray(_math_erf(x), dtype=x.dtype)


def _last_axis(x: Any, axes: tuple[int, ...], transpose: Any, reshape: Any) -> tuple[Any, Any]:
    """``x`` with ``axes`` moved to the end and flattened into one, and the function that puts
    an array of that layout back in ``x``'s."""
    axes = tuple(sorted(a % x.ndim for a in axes))
    order = [a for a in range(x.ndim) if a not in axes] + list(axes)
    moved = transpose(x, order) if order != list(range(x.ndim)) else x
    kept = moved.shape[: x.ndim - len(axes)]
    size = int(np.prod(moved.shape[x.ndim - len(axes) :], dtype=np.int64))
    inverse = tuple(np.argsort(order).tolist())

    def restore(y: Any) -> Any:
        y = reshape(y, moved.shape)
        return transpose(y, inverse) if order != list(range(x.ndim)) else y

    return reshape(moved, (*kept, size)), restore
