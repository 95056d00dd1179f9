"""Check analytic gradients against central finite differences in float64.

``gradcheck`` returns True only about gradients it compared element by element and found within
tolerance: a non-finite gradient on either side fails, and so does a check with nothing to check.
``gradgradcheck`` does the same for second derivatives (``grad(..., create_graph=True)``), with
finite differences of the first derivative as the reference.
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
    checked, targets = _checked_inputs("gradcheck", fn, inputs, eps, atol, rtol)
    with enable_grad():  # the check is of the gradient, whatever mode the caller is in
        out = fn(*checked)
    _check_output(out, "gradcheck")
    weights = _output_weights(out)
    if out.requires_grad:
        out.backward(weights)

    @no_grad()
    def weighted_output() -> float:
        with np.errstate(all="ignore"):
            return float(np.sum(fn(*checked).data * weights))

    for position, t in targets:
        analytic = t.grad if t.grad is not None else np.zeros_like(t.data)
        _compare(position, t, analytic, _central_differences(t, eps, weighted_output), atol, rtol)
    return True


def gradgradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare second derivatives from ``grad(..., create_graph=True)`` with finite differences
    of the first derivative, as PyTorch's ``gradgradcheck`` does.

    A gradient that is right can still be wrong to differentiate: a backward that uses a value it
    did not ``save`` treats it as a constant. With the fixed random output weights ``w`` (those of
    ``gradcheck``) and a fixed random ``vᵢ`` per input, the scalar
    ``s = Σᵢ Σ vᵢ · ∂(Σ fn·w)/∂xᵢ`` is built with ``grad(..., create_graph=True)``, and its
    gradient with respect to every input, and to ``w`` (the grad_outputs, on which ``s`` depends
    linearly through each backward), is compared element by element with central differences
    of ``s``, each of which re-runs ``grad`` without ``create_graph`` at ``x ± eps``.

    Everything else is ``gradcheck``'s: float64 private copies, constants not checked, an unused
    input's derivative counts as zeros, PyTorch's rule ``|analytic − numeric| ≤ atol +
    rtol·|numeric|``, ``GradcheckError`` naming the input (or "grad_outputs"), the worst element's
    index and both values, and the same ``ValueError``/``TypeError`` for a bad call.
    """
    checked, targets = _checked_inputs("gradgradcheck", fn, inputs, eps, atol, rtol)
    xs = [t for _, t in targets]
    with enable_grad():
        out = fn(*checked)
    _check_output(out, "gradgradcheck")
    w = Tensor(_output_weights(out), requires_grad=True)
    rng = np.random.default_rng(1)  # not 0: v independent of w
    vs = [rng.uniform(0.5, 1.5, size=t.shape) for t in xs]

    def weighted_first_derivatives() -> float:
        with enable_grad(), np.errstate(all="ignore"):
            firsts = _first_derivatives(fn(*checked), xs, w.data, create_graph=False)
            return sum(
                float(np.sum(g.data * v)) for g, v in zip(firsts, vs, strict=True) if g is not None
            )

    with enable_grad():
        firsts = _first_derivatives(out, xs, w, True)
        _check_finite_first_derivatives(firsts, targets)
        analytic = _second_derivatives(firsts, vs, [*xs, w])
    words = ("gradgradcheck", "second derivative", "finite differences of the first derivative")
    checks = [*targets, ("grad_outputs (fn's output weights)", w)]
    for (position, t), a in zip(checks, analytic, strict=True):
        numeric = _central_differences(t, eps, weighted_first_derivatives)
        _compare(position, t, a, numeric, atol, rtol, *words)
    return True


def _first_derivatives(
    out: Tensor, xs: list[Tensor], weights: Any, create_graph: bool
) -> tuple[Tensor | None, ...]:
    """∂(Σ out·weights)/∂x for each x (None where out does not depend on x)."""
    if not out.requires_grad:  # fn ignores every checked input: no derivative of any order
        return (None,) * len(xs)
    return _grad()(out, xs, grad_outputs=[weights], create_graph=create_graph, allow_unused=True)


def _second_derivatives(
    firsts: tuple[Tensor | None, ...], vs: list[np.ndarray], wrt: list[Tensor]
) -> list[np.ndarray]:
    """∂(Σᵢ Σ vᵢ·firstsᵢ)/∂t for each t in ``wrt``, as arrays (zeros where there is no path)."""
    terms = [
        (g * v).sum() for g, v in zip(firsts, vs, strict=True) if g is not None and g.requires_grad
    ]
    if not terms:  # no first derivative depends on anything checked: all second ones are 0
        return [np.zeros_like(t.data) for t in wrt]
    s = terms[0]
    for term in terms[1:]:
        s = s + term
    seconds = _grad()(s, wrt, allow_unused=True)
    pairs = zip(seconds, wrt, strict=True)
    return [np.zeros_like(t.data) if g is None else np.asarray(g.data) for g, t in pairs]


def _check_finite_first_derivatives(
    firsts: tuple[Tensor | None, ...], targets: list[tuple[int, Tensor]]
) -> None:
    """The first derivative must be finite at the point, as fn must be for gradcheck: an infinite
    one (√x at 0) has no derivative, and it would make every finite difference of s infinite."""
    for g, (position, t) in zip(firsts, targets, strict=True):
        if g is not None and not np.isfinite(g.data).all():
            at = tuple(
                int(i) for i in np.unravel_index(int(np.argmax(~np.isfinite(g.data))), t.shape)
            )
            raise ValueError(
                f"gradgradcheck: the first derivative is not finite at the given inputs: with "
                f"respect to input {position} of shape {t.shape} it is {float(g.data[at])!r} at "
                f"index {at}, where no second derivative is defined. Check at a point where fn is "
                "differentiable (e.g. positive inputs for sqrt)."
            )


def _grad() -> Callable[..., tuple[Tensor | None, ...]]:
    """``autograd_lite.grad``, looked up when first needed: gradcheck works without it."""
    from .gradients import grad

    return grad


def _checked_inputs(
    caller: str, fn: Any, inputs: tuple, eps: Any, atol: Any, rtol: Any
) -> tuple[list[Any], list[tuple[int, Tensor]]]:
    """The inputs as private float64 copies, and (position, copy) of those to check; a call
    with nothing to check, or with a bad step or tolerance, is refused before fn runs."""
    if not callable(fn):
        raise TypeError(f"{caller}: fn must be a callable returning a Tensor, got {_kind(fn)}")
    _check_number(caller, "eps", eps, positive=True)
    _check_number(caller, "atol", atol)
    _check_number(caller, "rtol", rtol)
    checked = [_float64_copy(t) for t in inputs]
    targets = [(i, t) for i, t in enumerate(checked) if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        given = ", ".join(_kind(t) for t in inputs) or "no inputs"
        raise ValueError(
            f"{caller}: no input requires grad, so there is no gradient to check (got {given}). "
            "Pass the inputs to check as Tensors with requires_grad=True."
        )
    if all(t.size == 0 for _, t in targets):
        raise ValueError(
            f"{caller}: every input that requires grad is empty, so there is no element to check. "
            "Pass inputs with at least one element."
        )
    return checked, targets


def _check_output(out: Any, caller: str) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"{caller}: fn must return a Tensor, got {type(out).__name__}")
    _check_finite_output(out, caller)


def _output_weights(out: Tensor) -> np.ndarray:
    """Fixed random weights for fn's output elements, so that one scalar checks all of them."""
    return np.random.default_rng(0).uniform(0.5, 1.5, size=out.shape)


def _central_differences(t: Tensor, eps: float, f: Callable[[], float]) -> np.ndarray:
    """(f(x + eps) − f(x − eps)) / (2 eps) for each element of ``t``, a private copy that ``f``
    reads: the nudge goes straight into ``t.data`` (untracked, and restored after each)."""
    numeric = np.zeros_like(t.data)
    flat = t.data.reshape(-1)  # a view of our private copy: nudging it nudges t.data
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        up = f()
        flat[i] = original - eps
        down = f()
        flat[i] = original
        with np.errstate(all="ignore"):
            numeric.reshape(-1)[i] = (up - down) / (2 * eps)
    return numeric


def _compare(
    position: int | str,
    t: Tensor,
    analytic: np.ndarray,
    numeric: np.ndarray,
    atol: float,
    rtol: float,
    caller: str = "gradcheck",
    what: str = "gradient",
    reference: str = "finite differences",
) -> None:
    """Raise GradcheckError at the worst element outside ``atol + rtol·|numeric|``, if any.

    ``position`` is an input's number or a label of its own (gradgradcheck's output weights);
    ``what`` and ``reference`` name the two sides, so that each check words its message for what it
    compared.
    """
    label = f"input {position}" if isinstance(position, int) else position
    label += f" ({t.name!r})" if t.name else ""
    bad_a, bad_n = ~np.isfinite(analytic), ~np.isfinite(numeric)
    if bad_a.any() or bad_n.any():
        flat_index = int(np.argmax((bad_a | bad_n).reshape(-1)))  # the first non-finite element
        at = tuple(int(i) for i in np.unravel_index(flat_index, t.shape))
        sides = [
            side
            for side, bad in ((f"the analytic {what}", bad_a), ("the finite difference", bad_n))
            if bad[at]
        ]
        hint = (
            "fn(x ± eps) is not finite there: the point is within eps of the edge of fn's domain"
            if bad_n[at]
            else "backward produced it"
        )
        raise GradcheckError(
            f"{caller}: {label} of shape {t.shape}: at index {at} the analytic {what} is "
            f"{float(analytic[at])!r} and {reference} give {float(numeric[at])!r}; "
            f"{' and '.join(sides)} {'is' if len(sides) == 1 else 'are'} not finite ({hint}), "
            f"so this {what} cannot be verified"
        )
    with np.errstate(all="ignore"):  # finite but huge values may overflow to inf, which fails
        excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size and excess.max() > 0:
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), t.shape))
        a, n = float(analytic[at]), float(numeric[at])
        raise GradcheckError(
            f"{caller}: {label} of shape {t.shape}: at index {at} the analytic {what} "
            f"is {a!r} but {reference} give {n!r}; they differ by {abs(a - n):.6g}, more "
            f"than atol + rtol·|numeric| = {atol + rtol * abs(n):.6g} (atol={atol}, rtol={rtol})"
        )


def _check_finite_output(out: Tensor, caller: str = "gradcheck") -> None:
    """fn must be finite at the point: a NaN or inf output has no derivative to compare."""
    if out.dtype.kind not in "fc" or np.isfinite(out.data).all():
        return
    at = tuple(int(i) for i in np.unravel_index(int(np.argmax(~np.isfinite(out.data))), out.shape))
    raise ValueError(
        f"{caller}: fn is not finite at the given inputs: its output of shape {out.shape} is "
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
