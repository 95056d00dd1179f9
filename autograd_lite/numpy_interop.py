"""NumPy functions called on Tensors: they keep the graph, or they say which method to use.

``np.exp(t)``, ``arr * t`` or ``np.sum(t)`` hand the call to the Tensor (NumPy's
``__array_ufunc__`` and ``__array_function__`` protocols). Where the library has the operation,
the call becomes that operation and stays in the graph. Anything else runs on the plain arrays
only while no argument requires grad or the answer is not a floating array (``np.allclose``,
``np.isfinite``): a float result computed from a tensor that requires grad would silently drop
the graph, so it is a ``TypeError`` naming what to use instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .ops import elementwise as ew
from .ops import exp_log, linalg, piecewise, special


def _tensor_class() -> type:
    from .tensor import Tensor

    return Tensor


# ufunc -> the operation that records it (each takes the ufunc's positional operands)
UFUNC_OPERATIONS: dict[Any, Callable[..., Any]] = {
    np.add: ew.Add.apply,
    np.subtract: ew.Sub.apply,
    np.multiply: ew.Mul.apply,
    np.true_divide: ew.Div.apply,
    np.power: ew.Pow.apply,
    np.matmul: linalg.MatMul.apply,
    np.negative: ew.Neg.apply,
    np.positive: lambda x: x,
    np.exp: ew.Exp.apply,
    np.log: ew.Log.apply,
    np.sqrt: ew.Sqrt.apply,
    np.absolute: ew.Abs.apply,
    np.tanh: ew.Tanh.apply,
    np.remainder: piecewise.Mod.apply,
    np.maximum: piecewise.Maximum.apply,
    np.minimum: piecewise.Minimum.apply,
    np.sign: piecewise.Sign.apply,
    np.square: exp_log.Square.apply,
    np.reciprocal: exp_log.Reciprocal.apply,
    np.log1p: exp_log.Log1p.apply,
    np.expm1: exp_log.Expm1.apply,
    np.log2: exp_log.Log2.apply,
    np.log10: exp_log.Log10.apply,
    np.exp2: exp_log.Exp2.apply,
    np.logaddexp: exp_log.LogAddExp.apply,
    np.sin: special.Sin.apply,
    np.cos: special.Cos.apply,
}

# array function -> how to call the Tensor method or free function with NumPy's arguments
FUNCTION_OPERATIONS: dict[Any, Callable[..., Any]] = {
    np.reshape: lambda a, shape=None, order="C", *, newshape=None: _as(a).reshape(
        shape if shape is not None else newshape
    ),
    np.transpose: lambda a, axes=None: _as(a).transpose(*(axes or ())),
    np.sum: lambda a, axis=None, dtype=None, out=None, keepdims=False: _reduction(
        "sum", a, axis, keepdims, dtype, out
    ),
    np.mean: lambda a, axis=None, dtype=None, out=None, keepdims=False: _reduction(
        "mean", a, axis, keepdims, dtype, out
    ),
    np.max: lambda a, axis=None, out=None, keepdims=False: _reduction(
        "max", a, axis, keepdims, None, out
    ),
    np.amax: lambda a, axis=None, out=None, keepdims=False: _reduction(
        "max", a, axis, keepdims, None, out
    ),
    np.dot: lambda a, b: linalg.MatMul.apply(a, b),
    np.concatenate: lambda arrays, axis=0: _free("concatenate")(arrays, axis=axis),
    np.stack: lambda arrays, axis=0: _free("stack")(arrays, axis=axis),
    np.where: lambda cond, a, b: _free("where")(cond, a, b),
    np.clip: lambda a, a_min=None, a_max=None: _as(a).clip(a_min, a_max),
    np.min: lambda a, axis=None, out=None, keepdims=False: _reduction(
        "min", a, axis, keepdims, None, out
    ),
    np.amin: lambda a, axis=None, out=None, keepdims=False: _reduction(
        "min", a, axis, keepdims, None, out
    ),
    np.prod: lambda a, axis=None, dtype=None, out=None, keepdims=False: _reduction(
        "prod", a, axis, keepdims, dtype, out
    ),
    np.var: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False: _as(a).var(
        axis=axis, keepdims=keepdims, correction=ddof
    ),
    np.std: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False: _as(a).std(
        axis=axis, keepdims=keepdims, correction=ddof
    ),
    np.squeeze: lambda a, axis=None: _as(a).squeeze(axis),
    np.expand_dims: lambda a, axis: _as(a).unsqueeze(axis),
    np.flip: lambda a, axis=None: _as(a).flip(*(() if axis is None else np.atleast_1d(axis))),
    np.tile: lambda a, reps: _as(a).tile(*np.atleast_1d(reps)),
    np.swapaxes: lambda a, axis1, axis2: _as(a).swapaxes(axis1, axis2),
    np.broadcast_to: lambda a, shape: _as(a).broadcast_to(shape),
}


def _as(a: Any) -> Any:
    Tensor = _tensor_class()
    return a if isinstance(a, Tensor) else Tensor(a)


def _free(name: str) -> Callable[..., Any]:
    from . import tensor

    return getattr(tensor, name)


def _reduction(name: str, a: Any, axis: Any, keepdims: bool, dtype: Any, out: Any) -> Any:
    if dtype is not None or out is not None:
        raise TypeError(f"np.{name}(tensor, dtype=..., out=...) is not supported; use t.{name}()")
    return getattr(_as(a), name)(axis=axis, keepdims=keepdims)


def _plain(value: Any) -> Any:
    """``value`` with every Tensor (also inside lists and tuples) replaced by its array."""
    Tensor = _tensor_class()
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _needs_grad(values: Any) -> bool:
    Tensor = _tensor_class()
    for v in values:
        if isinstance(v, Tensor) and v.requires_grad:
            return True
        if isinstance(v, (list, tuple)) and _needs_grad(v):
            return True
    return False


def _refuse(what: str) -> TypeError:
    return TypeError(
        f"{what} on a Tensor that requires grad would give a plain array and drop the graph "
        f"silently. Build it from the Tensor's own operations (t.exp(), t.clamp(...), t.sum(), "
        f"autograd_lite.where, ...: every one is in docs/operations.md); for the values alone, "
        f"call it on t.data or t.detach()"
    )


def _run_plain(func: Any, args: tuple, kwargs: dict, what: str) -> Any:
    result = func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
    floating = isinstance(result, (np.ndarray, np.generic)) and result.dtype.kind in "fc"
    if floating and (_needs_grad(args) or _needs_grad(kwargs.values())):
        raise _refuse(what)
    return result


def array_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``np.<ufunc>(...)`` with a Tensor among the operands."""
    operation = UFUNC_OPERATIONS.get(ufunc)
    if operation is not None and method == "__call__" and not kwargs:
        return operation(*inputs)
    if "out" in kwargs:
        raise TypeError(
            f"np.{ufunc.__name__}(..., out=...) with a Tensor operand: write into a NumPy array "
            f"with its .data, or use the Tensor's in-place operators (+=, -=, ...) under no_grad()"
        )
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    return _run_plain(getattr(ufunc, method), inputs, kwargs, f"np.{name}")


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    """``np.<function>(...)`` with a Tensor among the arguments."""
    operation = FUNCTION_OPERATIONS.get(func)
    if operation is not None:
        return operation(*args, **kwargs)
    return _run_plain(func, args, kwargs, f"np.{func.__name__}")
