"""The arguments of Tensor's methods, normalised in one place: PyTorch's spellings beside NumPy's.

A method of ``Tensor`` is one line handing its work to an operation; what users may pass (``dim=``
or ``axis=``, ``keepdim=`` or ``keepdims=``, sizes as ``*ints`` or one tuple, PyTorch's ``-1`` in
``expand``) is turned here into the one form the operation takes, and a bad argument becomes an
error that says what was wrong and what to write instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

AxisError = np.exceptions.AxisError  # a ValueError and an IndexError, like NumPy's and PyTorch's


def _int(value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what}: expected an integer, got {type(value).__name__} {value!r}")
    return int(value)


def _check_axis(axis: int, ndim: int, what: str) -> int:
    """``axis`` as a non-negative int, or an error naming the valid range."""
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise AxisError(
            f"{what}: axis {axis} is out of range for a tensor of {ndim} dimensions; valid axes "
            f"are {-max(ndim, 1)} to {max(ndim, 1) - 1}"
        )
    return axis % max(ndim, 1)


def reduction(
    ndim: int, axis: Any, keepdims: Any, dim: Any, keepdim: Any, what: str
) -> tuple[Any, bool]:
    """(axis, keepdims) from NumPy's and PyTorch's spellings, whichever the caller used.

    The axis may be None (all), an int or a tuple/list of ints, negative ones counting from the
    end; on a 0-d tensor 0 and -1 mean its one element, as in PyTorch (NumPy would refuse them).
    """
    if dim is not None:
        if axis is not None and dim != axis:
            raise TypeError(
                f"{what}: give the axis once, as dim= or axis=; got dim={dim!r} and axis={axis!r}"
            )
        axis = dim
    keep = bool(keepdims or keepdim)
    if axis is None:
        return None, keep
    if axis.__class__ is int and -ndim <= axis < ndim:  # the common case, on every sum(axis)
        return axis, keep
    # Checked, but passed on as given (a negative axis stays negative, as graph pictures show it)
    if isinstance(axis, (tuple, list)):
        axes = tuple(_int(a, what) for a in axis)
        if len({_check_axis(a, ndim, what) for a in axes}) != len(axes):
            raise ValueError(f"{what}: axis {axes} names an axis twice")
        return (None if ndim == 0 else axes), keep
    axis = _int(axis, what)
    _check_axis(axis, ndim, what)
    return (None if ndim == 0 else axis), keep


def one_axis(axis: Any, dim: Any, default: Any, what: str) -> Any:
    """A single axis given as ``axis=`` or ``dim=`` (or ``default``)."""
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(
            f"{what}: give the axis once, as dim= or axis=; got dim={dim!r} and axis={axis!r}"
        )
    return default if dim is None and axis is None else (dim if dim is not None else axis)


def correction(correction: Any, ddof: Any, unbiased: Any) -> float:
    """var/std's correction from PyTorch's ``correction`` or ``unbiased`` or NumPy's ``ddof``."""
    given = [v for v in (correction, ddof, unbiased) if v is not None]
    if len(given) > 1:
        raise TypeError(
            "var/std: give the correction once, as correction= (PyTorch), ddof= "
            "(NumPy) or unbiased= (older PyTorch)"
        )
    if unbiased is not None:
        return 1.0 if unbiased else 0.0
    return 1.0 if not given else float(given[0])


def sizes(values: tuple, what: str) -> tuple[int, ...]:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))``, as ints."""
    if len(values) == 1 and isinstance(values[0], (tuple, list, np.ndarray)):
        values = tuple(values[0])
    return tuple(_int(v, what) for v in values)


def squeezed(shape: tuple, dim: Any) -> tuple[int, ...]:
    """``shape`` without its length-1 axes (all, or those in ``dim``; PyTorch's rule: an axis in
    ``dim`` that is not of length 1 stays, where NumPy would refuse)."""
    if dim is None:
        return tuple(n for n in shape if n != 1)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    drop = {_check_axis(_int(d, "squeeze"), len(shape), "squeeze") for d in dims}
    return tuple(n for i, n in enumerate(shape) if not (i in drop and n == 1))


def unsqueezed(shape: tuple, dim: Any) -> tuple[int, ...]:
    """``shape`` with a new axis of length 1 at ``dim`` (-1 appends, as in PyTorch)."""
    dim = _check_axis(_int(dim, "unsqueeze"), len(shape) + 1, "unsqueeze")
    return (*shape[:dim], 1, *shape[dim:])


def flattened(shape: tuple, start_dim: Any, end_dim: Any) -> tuple[int, ...]:
    """``shape`` with axes start_dim..end_dim (inclusive) merged into one; a 0-d tensor gives
    one element, as in PyTorch."""
    if not shape:
        return (1,)
    start = _check_axis(_int(start_dim, "flatten"), len(shape), "flatten")
    end = _check_axis(_int(end_dim, "flatten"), len(shape), "flatten")
    if start > end:
        raise ValueError(
            f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})"
        )
    return (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


def expanded(shape: tuple, values: tuple) -> tuple[int, ...]:
    """PyTorch's ``expand`` sizes as a shape: -1 keeps an axis, new axes go in front."""
    new = sizes(values, "expand")
    extra = len(new) - len(shape)
    if extra < 0:
        raise ValueError(
            f"expand: {len(new)} sizes for a tensor of {len(shape)} dimensions; give "
            f"at least one size per dimension (-1 keeps one)"
        )
    if any(n == -1 for n in new[:extra]):
        raise ValueError(f"expand{new}: -1 cannot be the size of a new leading axis")
    target = tuple(
        old if n == -1 else n for n, old in zip(new, (None,) * extra + tuple(shape), strict=True)
    )
    for n, old in zip(target[extra:], shape, strict=True):
        if n != old and old != 1:
            raise ValueError(
                f"expand{new} of a tensor of shape {tuple(shape)}: an axis of length "
                f"{old} cannot become {n}; only length-1 axes expand"
            )
    return target


def repeats(shape: tuple, values: tuple) -> tuple[int, ...]:
    """PyTorch's ``repeat`` counts: one per axis at least (more add leading axes)."""
    reps = sizes(values, "repeat")
    if len(reps) < len(shape):
        raise ValueError(
            f"repeat{reps}: a tensor of {len(shape)} dimensions needs at least "
            f"{len(shape)} counts, one per dimension (use tile for fewer)"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat{reps}: counts must be ≥ 0")
    return reps


def tiles(shape: tuple, values: tuple) -> tuple[int, ...]:
    """NumPy's ``tile`` reps: fewer than the axes are padded with leading 1s."""
    reps = (values[0],) if len(values) == 1 and isinstance(values[0], int) else values
    reps = sizes(reps, "tile")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile{reps}: counts must be ≥ 0")
    return (1,) * (len(shape) - len(reps)) + reps


def flip_axes(ndim: int, dims: tuple) -> tuple[int, ...]:
    """The axes to flip, non-negative; none given means all (NumPy's ``flip``)."""
    axes = sizes(dims, "flip") if dims else tuple(range(ndim))
    return tuple(sorted({_check_axis(a, ndim, "flip") for a in axes})) if ndim else ()


def gather_index(shape: tuple, dim: Any, index: Any) -> tuple[np.ndarray, ...]:
    """PyTorch's ``gather`` as an integer-array index: out[i][j][k] = x[i][index[i][j][k]][k]
    for dim = 1, so that the gradient is indexing's (repeated indices add up)."""
    index = np.array(index.data if hasattr(index, "_ctx") else index)  # a private copy
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: index must hold integers; got dtype {index.dtype}")
    if index.ndim != len(shape):
        raise ValueError(
            f"gather: index has {index.ndim} dimensions but the tensor has "
            f"{len(shape)}; they must have the same number"
        )
    dim = _check_axis(_int(dim, "gather"), len(shape), "gather")
    for d, (n, m) in enumerate(zip(index.shape, shape, strict=True)):
        if d != dim and n > m:
            raise ValueError(
                f"gather: index.shape[{d}] = {n} exceeds the tensor's {m}; every "
                f"dimension but dim must fit"
            )
    if index.size and (index.min() < 0 or index.max() >= shape[dim]):
        raise IndexError(
            f"gather: index values must lie in [0, {shape[dim]}) along dim {dim}; "
            f"got {index.min()} to {index.max()}"
        )
    grid = [
        np.arange(n).reshape([-1 if i == d else 1 for i in range(index.ndim)])
        for d, n in enumerate(index.shape)
    ]
    grid[dim] = index
    return tuple(grid)


def clip_bounds(lo: Any, hi: Any) -> tuple[Any, Any]:
    """clip/clamp's bounds, a missing one as ∓∞ (at least one must be given, as in PyTorch)."""
    if lo is None and hi is None:
        raise ValueError("clip/clamp: give at least one of min and max")
    return (-np.inf if lo is None else lo), (np.inf if hi is None else hi)
