"""``Tensor``: a NumPy array that remembers the operation that made it.

The class stays thin: each method below hands its work to one operation in ``ops``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import arguments, engine, numpy_interop, versions
from .grad_mode import _mode
from .hooks import GradHooks, RemovableHandle
from .ops import elementwise as ew
from .ops import linalg, reduce, shape
from .tensor_operations import MoreOperations


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


class Tensor(MoreOperations):
    """An n-dimensional array whose operations are recorded for reverse-mode differentiation."""

    __slots__ = (
        "data",
        "_grad",
        "_requires_grad",
        "name",
        "_ctx",
        "_hooks",
        "_version_counter",
        "__weakref__",
    )

    def __init__(
        self, data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
    ) -> None:
        self.data = as_array(data, dtype)
        self._ctx = None  # the Function that made this tensor; None for leaves
        self._hooks: GradHooks | None = None
        self._grad: np.ndarray | None = None
        self._requires_grad = False
        self.requires_grad = requires_grad
        self.name = name
        self._version_counter: list[int] | None = None  # [version, stamp], made on first use
        if _mode.tracer is not None:  # compile() needs to know where this tensor's data came from
            _mode.tracer.tensor_made(self, data)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, ctx: Any) -> Tensor:
        """An operation's result, skipping the checks that ``__init__`` does on user data."""
        t = cls.__new__(cls)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t._grad = None
        t._requires_grad = requires_grad
        t.name = None
        t._ctx = ctx
        t._hooks = None
        t._version_counter = None
        return t

    # ----- gradient attributes, checked on assignment -----------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded so that gradients reach it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._ctx is not None:
            raise RuntimeError(
                "requires_grad can only be changed on a leaf tensor; this one is the result of "
                f"'{self._ctx.name}'. Use .detach() to get a leaf with the same data"
            )
        if value and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; this one has dtype "
                f"{self.data.dtype}. Pass float data, e.g. Tensor(x, dtype=np.float64, "
                f"requires_grad=True)"
            )
        self._requires_grad = bool(value)

    @property
    def grad(self) -> np.ndarray | None:
        """The gradient accumulated by ``backward()``: an ndarray of ``.data``'s shape and dtype.

        Leaves keep it; an intermediate result only after ``retain_grad()``, as in PyTorch.
        """
        if self._ctx is not None and not (self._hooks and self._hooks.retain):
            warnings.warn(
                "the .grad of a tensor that is not a leaf is not kept by backward(); call "
                "t.retain_grad() before backward() to keep it (or use autograd_lite.grad)",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            if isinstance(value, Tensor):
                value = value.data
            if not isinstance(value, np.ndarray):
                raise TypeError(
                    f"grad must be None or an np.ndarray of shape {self.shape} and dtype "
                    f"{self.dtype}; got {type(value).__name__}"
                )
            if value.shape != self.shape or value.dtype != self.dtype:
                raise ValueError(
                    f"grad must have the tensor's shape {self.shape} and dtype {self.dtype}; got "
                    f"shape {value.shape} and dtype {value.dtype}. Convert it with "
                    f"np.asarray(g, dtype=t.dtype).reshape(t.shape) if that is what you meant"
                )
        self._grad = value

    @property
    def _version(self) -> int:
        """How many in-place changes were made to this tensor's data (shared with its views)."""
        return 0 if self._version_counter is None else self._version_counter[0]

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
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it holds one number; use .item()")
        return len(self.data)

    def __iter__(self) -> Any:
        """The sub-tensors along the first axis, each in the graph (``t[0]``, ``t[1]``, …)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor: it holds one number; use .item()")
        return (self[i] for i in range(len(self.data)))

    # ----- copies: a leaf keeps its data and gradient; a result keeps its value, not its graph
    def __reduce_ex__(self, protocol: Any) -> Any:
        if self._ctx is not None:
            return (_rebuild, (Tensor, self.data.copy(), None, False, self.name))
        grad = None if self._grad is None else self._grad.copy()
        return (_rebuild, (type(self), self.data.copy(), grad, self._requires_grad, self.name))

    def __bool__(self) -> bool:
        """The truth of a one-element tensor; NumPy's error for any other."""
        _value_read("bool()")
        return bool(self.data)

    def __float__(self) -> float:
        _value_read("float()")
        return float(self.data.item())  # .item(): any one-element shape, as in PyTorch

    def __int__(self) -> int:
        _value_read("int()")
        return int(self.data.item())

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``arr * t``, ``np.exp(t)``: recorded as the Tensor operation (see numpy_interop)."""
        return numpy_interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """``np.sum(t)``, ``np.reshape(t, ...)``: recorded as the Tensor operation, or refused."""
        return numpy_interop.array_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The data, so that ``np.asarray(t)`` and plotting libraries see numbers, not objects."""
        _value_read("np.asarray()")
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    # ----- gradients ------------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf behind this tensor.

        ``grad`` is the gradient of some final scalar with respect to this tensor; it may be left
        out only when this tensor holds one element (it is then 1).
        """
        if _mode.tracer is not None:
            _mode.tracer.refuse("backward() inside fn")
        if not self._requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it ran inside no_grad()). Create the inputs with "
                "Tensor(..., requires_grad=True)."
            )
        data = self.data
        if grad is None:
            if data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient works only for a single-element output; this "
                    f"one has shape {self.shape}. Reduce it first (e.g. .sum() or .mean()) or pass "
                    f"backward(grad) with an array of shape {self.shape}."
                )
            if not math.isfinite(data.item()):
                raise FloatingPointError(
                    f"backward() from a loss of {data.item()}: the gradients would be "
                    "meaningless. Look for a learning rate that is too large, a log of 0, or NaN "
                    "in the inputs."
                )
            grad_array = np.empty(data.shape, data.dtype)  # np.ones's wrapper: 3 times slower
            grad_array.fill(1)
        else:
            given = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if given.dtype.kind not in "fiu":
                raise TypeError(
                    f"backward(grad): grad must hold real numbers; got dtype {given.dtype}. Pass "
                    f"a float array of shape {self.shape}"
                )
            grad_array = np.array(given, dtype=data.dtype)
            if grad_array.shape != data.shape:
                raise ValueError(
                    f"backward(grad): grad has shape {grad_array.shape} but the tensor has shape "
                    f"{self.shape}; they must match exactly"
                )
        engine.backward(self, grad_array, retain_graph)

    def retain_grad(self) -> None:
        """Keep this intermediate result's gradient in ``.grad`` after backward, as leaves do."""
        if self._ctx is None:
            return
        if _mode.tracer is not None:
            _mode.tracer.refuse("retain_grad() inside fn")
        if self._hooks is None:
            self._hooks = GradHooks()
        self._hooks.retain = True

    def register_hook(self, hook: Callable[[np.ndarray], np.ndarray | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when backward computes this tensor's gradient (an ndarray of its
        shape); an array it returns replaces the gradient. Returns a handle with ``.remove()``."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook on a tensor that does not require grad: backward never reaches it"
            )
        if _mode.tracer is not None:
            _mode.tracer.refuse("register_hook() inside fn")
        if self._hooks is None:
            self._hooks = GradHooks()
        return self._hooks.add(hook)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``), as PyTorch does."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data (shared, not copied, with the same version counter) outside the graph."""
        if _mode.tracer is not None:
            _mode.tracer.refuse("detach() inside fn")
        t = Tensor._make(self.data, False, None)
        if self._version_counter is None:
            self._version_counter = [0, 0]
        t._version_counter = self._version_counter
        return t

    def item(self) -> float:
        _value_read(".item()")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        _value_read(".numpy()")
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

    # ----- in place ------------------------------------------------------------------------
    # PyTorch's rules: a parameter changes in place only under no_grad() (an optimizer's step); a
    # result inside a graph never does; every change bumps the version that backward checks.
    def __iadd__(self, other: Any) -> Tensor:
        return self._update(np.add, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._update(np.subtract, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._update(np.multiply, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update(np.true_divide, other, "/=")

    def add_(self, other: Any) -> Tensor:
        return self._update(np.add, other, "add_")

    def sub_(self, other: Any) -> Tensor:
        return self._update(np.subtract, other, "sub_")

    def mul_(self, other: Any) -> Tensor:
        return self._update(np.multiply, other, "mul_")

    def div_(self, other: Any) -> Tensor:
        return self._update(np.true_divide, other, "div_")

    def copy_(self, src: Any) -> Tensor:
        """Overwrite the values with ``src`` (broadcast to this shape, cast to this dtype)."""
        return self._update(None, src, "copy_")

    def fill_(self, value: float) -> Tensor:
        return self._update(None, value, "fill_")

    def zero_(self) -> Tensor:
        return self._update(None, 0, "zero_")

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace(value, "t[index] = value")
        self.data[_plain_index(index)] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

    def _update(self, ufunc: Any, other: Any, what: str) -> Tensor:
        """Change ``self.data`` in place to ``ufunc(data, other)``, or to ``other`` if no ufunc."""
        if _mode.enabled or _mode.tracer is not None:  # inside no_grad (an update), no check
            self._check_inplace(other, what)
        value = other.data if isinstance(other, Tensor) else other
        try:
            if ufunc is None:
                np.copyto(self.data, value, casting="same_kind")
            else:  # a ufunc's output casting is "same_kind" by default, as for copyto above
                ufunc(self.data, value, self.data)
        except ValueError as err:
            raise ValueError(
                f"{what} on a tensor of shape {self.shape}: {err}. An in-place change keeps the "
                f"tensor's shape; the other operand must broadcast to it"
            ) from None
        self._bump_version()
        return self

    def _bump_version(self) -> None:
        if self._version_counter is None:
            self._version_counter = [0, 0]
        versions.bump(self._version_counter)

    def _check_inplace(self, other: Any, what: str) -> None:
        if _mode.tracer is not None:
            _mode.tracer.refuse(f"an in-place change ({what}) inside fn")
        if not _mode.enabled:
            return
        if self._ctx is not None:
            raise RuntimeError(
                f"{what} on the result of '{self._ctx.name}', which is part of a graph: backward "
                f"needs its value. Write it out of place instead (t = t + x), or work on "
                f"t.detach()"
            )
        if self._requires_grad:
            raise RuntimeError(
                f"{what} on a leaf tensor that requires grad{_named(self)} would be recorded as a "
                f"new operation and turn the parameter into an intermediate result. Update "
                f"parameters inside no_grad():\n    with no_grad():\n        w -= lr * w.grad\n"
                f"or let an optimizer do it (nn.optim.SGD(params, lr).step())"
            )
        if isinstance(other, Tensor) and other._requires_grad:
            raise RuntimeError(
                f"{what} of a tensor that requires grad into one that does not would have to be "
                f"recorded; write it out of place (t = t + x) so that the graph sees it"
            )

    # ----- methods --------------------------------------------------------------------------
    def matmul(self, other: Any) -> Tensor:
        return linalg.MatMul.apply(self, other)

    # Reductions take NumPy's axis=/keepdims= and PyTorch's dim=/keepdim= (arguments.reduction).
    def sum(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "sum")
        return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "mean")
        return reduce.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "max")
        return reduce.Max.apply(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return reduce.Softmax.apply(self, axis=arguments.one_axis(axis, dim, -1, "softmax"))

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return reduce.LogSoftmax.apply(self, axis=arguments.one_axis(axis, dim, -1, "log_softmax"))

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

    def astype(self, dtype: Any) -> Tensor:
        """The values in another floating dtype (the gradient flows back in this one's)."""
        return ew.Cast.apply(self, dtype=np.dtype(dtype))

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """The tensor with two axes exchanged (NumPy's and PyTorch's ``swapaxes``)."""
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return shape.Transpose.apply(self, axes=tuple(axes))

    def broadcast_to(self, *new_shape: Any) -> Tensor:
        """The tensor repeated along new or length-1 axes to ``new_shape`` (NumPy's rule)."""
        if len(new_shape) == 1 and isinstance(new_shape[0], (tuple, list)):
            new_shape = tuple(new_shape[0])
        return shape.BroadcastTo.apply(self, shape=tuple(new_shape))

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return shape.Transpose.apply(self, axes=axes or None)

    # PyTorch's spellings of what exists (alpha= is not taken); more operations: MoreOperations
    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__
    permute, view = transpose, reshape


def _value_read(what: str) -> None:
    if _mode.tracer is not None:
        _mode.tracer.refuse(f"fn reads a tensor's value ({what}), so its path may depend on it")


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _plain_index(index: Any) -> Any:
    """An index with any Tensor inside replaced by its array, and lists made arrays.

    Index arrays are copied: the operation keeps its index for backward, and the caller changing
    the array afterwards must not move the gradient. An empty list selects nothing.
    """
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, list):
        copy = np.asarray(index) if index else np.zeros(0, dtype=np.intp)
    elif isinstance(index, np.ndarray):
        copy = index.copy()
    else:
        return index
    if _mode.tracer is not None:
        _mode.tracer.array_copied(index, copy)
    return copy


def _named(t: Tensor) -> str:
    return f" ({t.name!r}, shape {t.shape})" if t.name else f" (shape {t.shape})"


def _rebuild(
    cls: type, data: np.ndarray, grad: np.ndarray | None, requires_grad: bool, name: str | None
) -> Tensor:
    """A leaf from what pickle or deepcopy kept of a tensor (see ``Tensor.__reduce_ex__``)."""
    t = cls._make(data, requires_grad, None)
    t._grad, t.name = grad, name
    return t


def _check_axis(tensors: Any, axis: int, what: str, new_axis: bool) -> list:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{what} needs at least one tensor; got an empty sequence")
    ndim = np.ndim(tensors[0].data if isinstance(tensors[0], Tensor) else tensors[0]) + new_axis
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(
            f"{what}: axis {axis} is out of range for {ndim - new_axis}-d tensors; valid axes "
            f"are {-ndim} to {ndim - 1}"
        )
    return tensors


def concatenate(tensors: Any, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each gets back the slice of the gradient it filled."""
    return shape.Concatenate.apply(*_check_axis(tensors, axis, "concatenate", False), axis=axis)


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """Join tensors along a new axis; each gets back its own slice of the gradient."""
    return shape.Stack.apply(*_check_axis(tensors, axis, "stack", True), axis=axis)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``; ``cond`` is a constant boolean array."""
    # A private copy of the condition: backward reads it, and the caller may reuse the array.
    copy = np.array(_data(cond), dtype=bool)
    if _mode.tracer is not None:
        _mode.tracer.array_copied(_data(cond), copy)
    return shape.Where.apply(a, b, cond=copy)
