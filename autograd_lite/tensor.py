"""``Tensor``: a NumPy array that remembers the operation that made it.

The class stays thin: each method below hands its work to one operation in ``ops``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import engine
from .ops import elementwise as ew
from .ops import linalg, reduce, shape


def as_array(data: Any, dtype: Any = None, copy: bool = True) -> np.ndarray:
    """``data`` as an ndarray; Python numbers and lists become float64 unless ``dtype`` is given.

    Arrays are copied by default, as ``torch.tensor`` does, so that updating a parameter in place
    never changes the array it was made from.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):  # NumPy scalars keep their dtype too
        array = np.array(data, dtype=dtype, copy=copy or None)
    elif isinstance(data, (bool, int, float, list, tuple)):
        try:
            array = np.array(data, dtype=np.float64 if dtype is None else dtype)
        except (ValueError, TypeError):
            raise TypeError(
                f"Tensor data must be a number, a nested list of numbers of a regular shape, or a "
                f"NumPy array; got {_describe(data)}"
            ) from None
    else:
        raise TypeError(
            f"Tensor data must be a number, a nested list of numbers or a NumPy array; "
            f"got {_describe(data)}"
        )
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"Tensor data must be numeric (float, int or bool); got an array of dtype "
            f"{array.dtype}: convert it with np.asarray(data, dtype=float) first"
        )
    return array


def _describe(data: Any) -> str:
    text = repr(data)
    return f"{type(data).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


class Tensor:
    """An n-dimensional array whose operations are recorded for reverse-mode differentiation."""

    __slots__ = ("data", "grad", "requires_grad", "name", "_ctx", "__weakref__")
    __array_ufunc__ = None  # so that `ndarray * Tensor` is handed to Tensor.__rmul__

    def __init__(
        self, data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
    ) -> None:
        self.data = as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; this one has dtype "
                f"{self.data.dtype}. Pass float data, e.g. Tensor(x, dtype=np.float64, "
                f"requires_grad=True)"
            )
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._ctx = None  # the Function that made this tensor; None for leaves

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, ctx: Any) -> Tensor:
        """An operation's result, skipping the checks that ``__init__`` does on user data."""
        t = cls.__new__(cls)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t.grad = None
        t.requires_grad = requires_grad
        t.name = None
        t._ctx = ctx
        return t

    # ----- attributes -------------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="The shape of ``.data``.")
    ndim = property(lambda self: self.data.ndim, doc="The number of dimensions.")
    size = property(lambda self: self.data.size, doc="The number of elements.")
    dtype = property(lambda self: self.data.dtype, doc="The NumPy dtype of ``.data``.")

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user, False for results of recorded operations."""
        return self._ctx is None

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __repr__(self) -> str:
        extras = "".join(
            [
                f", name={self.name!r}" if self.name else "",
                f", grad_fn={self._ctx.name}" if self._ctx is not None else "",
                ", requires_grad=True" if self.requires_grad and self._ctx is None else "",
            ]
        )
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}{extras})"

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor; NumPy's error for any other."""
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data.item())  # .item(): any one-element shape, as in PyTorch

    def __int__(self) -> int:
        return int(self.data.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The data, so that ``np.asarray(t)`` and plotting libraries see numbers, not objects."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    # ----- gradients ------------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf behind this tensor.

        ``grad`` is the gradient of some final scalar with respect to this tensor; it may be left
        out only when this tensor holds one element (it is then 1).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it ran inside no_grad()). Create the inputs with "
                "Tensor(..., requires_grad=True)."
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient works only for a single-element output; this "
                    f"one has shape {self.shape}. Reduce it first (e.g. .sum() or .mean()) or pass "
                    f"backward(grad) with an array of shape {self.shape}."
                )
            if not np.isfinite(self.data).all():
                raise FloatingPointError(
                    f"backward() from a loss of {self.data.item()}: the gradients would be "
                    "meaningless. Look for a learning rate that is too large, a log of 0, or NaN "
                    "in the inputs."
                )
            grad_array = np.ones_like(self.data)
        else:
            grad_array = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad_array.shape != self.shape:
                raise ValueError(
                    f"backward(grad): grad has shape {grad_array.shape} but the tensor has shape "
                    f"{self.shape}; they must match exactly"
                )
        engine.backward(self, grad_array, retain_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``), as PyTorch does."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data (shared, not copied) outside the graph."""
        return Tensor._make(self.data, False, None)

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    # ----- arithmetic -----------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return ew.Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ew.Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ew.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ew.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ew.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ew.Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ew.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ew.Div.apply(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            return ew.PowScalar.apply(self, exponent=exponent)
        return ew.Pow.apply(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ew.Pow.apply(base, self)

    def __matmul__(self, other: Any) -> Tensor:
        return linalg.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return linalg.MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return ew.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return shape.GetItem.apply(self, index=_plain_index(index))

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < _data(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > _data(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= _data(other)

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data == _data(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data != _data(other)

    __hash__ = object.__hash__  # tensors are identified by identity, as in PyTorch

    # ----- methods --------------------------------------------------------------------------
    def matmul(self, other: Any) -> Tensor:
        return linalg.MatMul.apply(self, other)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return reduce.Sum.apply(self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return reduce.Mean.apply(self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return reduce.Max.apply(self, axis=_axis(axis), keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return reduce.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return reduce.LogSoftmax.apply(self, axis=axis)

    def exp(self) -> Tensor:
        return ew.Exp.apply(self)

    def log(self) -> Tensor:
        return ew.Log.apply(self)

    def sqrt(self) -> Tensor:
        return ew.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return ew.Abs.apply(self)

    def tanh(self) -> Tensor:
        return ew.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return ew.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return ew.ReLU.apply(self)

    def reshape(self, *new_shape: Any) -> Tensor:
        if len(new_shape) == 1 and isinstance(new_shape[0], (tuple, list)):
            new_shape = tuple(new_shape[0])
        return shape.Reshape.apply(self, shape=new_shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return shape.Transpose.apply(self, axes=axes or None)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _plain_index(index: Any) -> Any:
    """An index with any Tensor inside replaced by its array, and lists made arrays."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def concatenate(tensors: Any, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each gets back the slice of the gradient it filled."""
    return shape.Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """Join tensors along a new axis; each gets back its own slice of the gradient."""
    return shape.Stack.apply(*tensors, axis=axis)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``; ``cond`` is a constant boolean array."""
    return shape.Where.apply(a, b, cond=np.asarray(_data(cond), dtype=bool))
