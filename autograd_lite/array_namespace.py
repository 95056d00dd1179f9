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

from typing import Any

import numpy as np


class NumpyNamespace:
    """NumPy itself: a backward pass that builds no graph."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sign = staticmethod(np.sign)
    where = staticmethod(np.where)
    zeros_like = staticmethod(np.zeros_like)
    broadcast_to = staticmethod(np.broadcast_to)
    transpose = staticmethod(np.transpose)
    expand_dims = staticmethod(np.expand_dims)
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
    def expand_dims(x: Any, axis: Any) -> Any:
        return x.reshape(np.expand_dims(np.empty(x.shape, dtype=bool), axis).shape)

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
