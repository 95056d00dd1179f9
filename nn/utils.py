"""Gradient clipping, as ``torch.nn.utils``: call between ``loss.backward()`` and
``optimizer.step()``. Both change the ``.grad`` arrays in place and skip parameters without one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_lite import Tensor


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> np.float64:
    """Scale all gradients together so that their total norm is at most ``max_norm``; returns
    the total norm before clipping (to log it, or to watch for exploding gradients).

    The total norm is the ``norm_type``-norm of the vector of every gradient element (``inf``:
    the largest |element|). PyTorch's rule, to the bit: every gradient is multiplied by
    min(1, max_norm / (total + 1e-6)), so gradients within the limit are left as they are (up to
    that factor's rounding). With ``error_if_nonfinite`` a NaN or infinite total norm is a
    ``RuntimeError`` instead of gradients made NaN.
    """
    grads = _grads(parameters, "clip_grad_norm_")
    max_norm = _number("clip_grad_norm_", "max_norm", max_norm)
    norm_type = _number("clip_grad_norm_", "norm_type", norm_type)
    if norm_type <= 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (or inf); got {norm_type}")
    if not grads:
        return np.float64(0.0)
    if norm_type == math.inf:
        norms = [np.abs(g).max(initial=0.0) for g in grads]
        total = np.max(norms)
    else:
        # PyTorch's: the norm of the per-tensor norms, which equals the norm of all elements.
        norms = [np.linalg.norm(g.ravel(), norm_type) for g in grads]
        total = np.linalg.norm(np.asarray(norms), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of the gradients is {total}; the gradients hold "
            f"NaN or inf, so clipping cannot fix them. Look for the cause upstream (learning "
            f"rate, a log of 0), or pass error_if_nonfinite=False to scale them anyway"
        )
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= np.asarray(coefficient, dtype=g.dtype)
    return np.float64(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value]."""
    grads = _grads(parameters, "clip_grad_value_")
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)


def _grads(parameters: Tensor | Iterable[Tensor], name: str) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"{name}: expected Tensors (e.g. model.parameters()); item {i} is "
                f"{type(p).__name__}"
            )
        if p.grad is not None:
            grads.append(p.grad)
    return grads


def _number(name: str, label: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: {label} must be a number; got {value!r}")
    if not value >= 0:
        raise ValueError(f"{name}: {label} must be >= 0; got {value}")
    return float(value)
