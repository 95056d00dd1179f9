"""Check analytic gradients against central finite differences in float64.

``gradcheck`` returns True only about gradients it compared element by element and found within
tolerance: a non-finite gradient on either side fails, and so does a check with nothing to check.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import enable_grad, no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference estimate, or one is not finite."""


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare backward's d(fn)/d(input) with (f(x + eps) − f(x − eps)) / (2 eps), elementwise.

    ``fn`` may return a tensor of any shape: both sides are taken of ``Σ fn(...) · w`` for a fixed
    random weight array ``w``, which checks every output element at once. Inputs that do not require
    grad are constants and are not checked; a gradient that is None because the output does not
    depend on an input counts as zeros. Floating inputs are copied to float64 for the check, so the
    caller's tensors (data, grad, version) are never touched; integer ones are passed as they are.
    The analytic pass runs with grad mode on even inside ``no_grad``, and the mode is restored.

    An element passes when ``|analytic − numeric| ≤ atol + rtol·|numeric|`` (PyTorch's rule, with
    the finite difference as the reference). Returns True, or raises ``GradcheckError`` naming the
    input, the worst element's index and both values. A NaN or an infinity in either gradient is
    a ``GradcheckError`` at that element, saying which side was not finite: such a gradient is
    never verified. Errors in the call itself are ``ValueError``: ``eps`` not a finite number > 0,
    ``atol``/``rtol`` not finite numbers ≥ 0 (a bool is not a number), no input that requires grad
    (or only empty ones), and ``fn`` not finite at the given point, where no gradient is defined.
    ``fn`` returning something other than a Tensor is a ``TypeError``. Finite-difference probes run
    under ``np.errstate(all="ignore")``: a probe outside fn's domain is reported, not warned about.
    """
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be a callable returning a Tensor, got {_kind(fn)}")
    _check_number("gradcheck", "eps", eps, positive=True)
    _check_number("gradcheck", "atol", atol)
    _check_number("gradcheck", "rtol", rtol)
    checked = [_float64_copy(t) for t in inputs]
    targets = [(i, t) for i, t in enumerate(checked) if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        given = ", ".join(_kind(t) for t in inputs) or "no inputs"
        raise ValueError(
            f"gradcheck: no input requires grad, so there is no gradient to check (got {given}). "
            "Pass the inputs to check as Tensors with requires_grad=True."
        )
    if all(t.size == 0 for _, t in targets):
        raise ValueError(
            "gradcheck: every input that requires grad is empty, so there is no element to check. "
            "Pass inputs with at least one element."
        )

    with enable_grad():  # the check is of the gradient, whatever mode the caller is in
        out = fn(*checked)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    _check_finite_output(out)
    weights = np.random.default_rng(0).uniform(0.5, 1.5, size=out.shape)
    if out.requires_grad:
        out.backward(weights)

    @no_grad()
    def weighted_output() -> float:
        with np.errstate(all="ignore"):
            return float(np.sum(fn(*checked).data * weights))

    for position, t in targets:
        analytic = t.grad if t.grad is not None else np.zeros_like(t.data)
        numeric = np.zeros_like(t.data)
        flat = t.data.reshape(-1)  # a view of our private copy: nudging it nudges t.data
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            up = weighted_output()
            flat[i] = original - eps
            down = weighted_output()
            flat[i] = original
            with np.errstate(all="ignore"):
                numeric.reshape(-1)[i] = (up - down) / (2 * eps)
        _compare(position, t, analytic, numeric, atol, rtol)
    return True


def _compare(
    position: int, t: Tensor, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float
) -> None:
    label = f"input {position}" + (f" ({t.name!r})" if t.name else "")
    bad_a, bad_n = ~np.isfinite(analytic), ~np.isfinite(numeric)
    if bad_a.any() or bad_n.any():
        flat_index = int(np.argmax((bad_a | bad_n).reshape(-1)))  # the first non-finite element
        at = tuple(int(i) for i in np.unravel_index(flat_index, t.shape))
        sides = [
            side
            for side, bad in (("the analytic gradient", bad_a), ("the finite difference", bad_n))
            if bad[at]
        ]
        hint = (
            "fn(x ± eps) is not finite there: the point is within eps of the edge of fn's domain"
            if bad_n[at]
            else "backward produced it"
        )
        raise GradcheckError(
            f"gradcheck: {label} of shape {t.shape}: at index {at} the analytic gradient is "
            f"{float(analytic[at])!r} and finite differences give {float(numeric[at])!r}; "
            f"{' and '.join(sides)} {'is' if len(sides) == 1 else 'are'} not finite ({hint}), "
            "so this gradient cannot be verified"
        )
    with np.errstate(all="ignore"):  # finite but huge values may overflow to inf, which fails
        excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size and excess.max() > 0:
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), t.shape))
        a, n = float(analytic[at]), float(numeric[at])
        raise GradcheckError(
            f"gradcheck: {label} of shape {t.shape}: at index {at} the analytic gradient "
            f"is {a!r} but finite differences give {n!r}; they differ by {abs(a - n):.6g}, more "
            f"than atol + rtol·|numeric| = {atol + rtol * abs(n):.6g} (atol={atol}, rtol={rtol})"
        )


def _check_finite_output(out: Tensor) -> None:
    """fn must be finite at the point: a NaN or inf output has no derivative to compare."""
    if out.dtype.kind not in "fc" or np.isfinite(out.data).all():
        return
    at = tuple(int(i) for i in np.unravel_index(int(np.argmax(~np.isfinite(out.data))), out.shape))
    raise ValueError(
        f"gradcheck: fn is not finite at the given inputs: its output of shape {out.shape} is "
        f"{float(out.data[at])!r} at index {at}, where no gradient is defined. Check at a point "
        "inside fn's domain (e.g. positive inputs for log and sqrt)."
    )


def _float64_copy(t: Any) -> Any:
    """A private float64 copy of a floating Tensor, so that nudging it leaves the caller's alone."""
    if isinstance(t, Tensor) and t.dtype.kind == "f":
        copy = np.array(t.data, dtype=np.float64)  # always a new array, whatever t's dtype
        return Tensor(copy, requires_grad=t.requires_grad, name=t.name)
    return t


def _check_number(caller: str, name: str, value: Any, positive: bool = False) -> None:
    """A tolerance or step must be a finite real number: an infinite one would verify nothing."""
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{caller}: {name} must be a finite number {bound}, got {value!r}")


def _kind(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"Tensor of shape {value.shape} with requires_grad={value.requires_grad}"
    return type(value).__name__
