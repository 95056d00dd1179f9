"""Check analytic gradients against central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .engine import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference estimate."""


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare backward's d(fn)/d(input) with (f(x + eps) − f(x − eps)) / (2 eps), elementwise.

    ``fn`` may return a tensor of any shape: both sides are taken of ``Σ fn(...) · w`` for a fixed
    random weight array ``w``, which checks every output element at once. Inputs that do not require
    grad are constants and are not checked. Inputs are promoted to float64 for the check.
    Returns True, or raises ``GradcheckError`` naming the input, the worst element and both values.
    """
    # Floating inputs are checked in float64; integer ones (indices, labels) stay as they are.
    checked = [
        Tensor(t.data, requires_grad=t.requires_grad, name=t.name, dtype=np.float64)
        if isinstance(t, Tensor) and t.dtype.kind == "f"
        else t
        for t in inputs
    ]
    out = fn(*checked)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    weights = np.random.default_rng(0).uniform(0.5, 1.5, size=out.shape)

    def weighted_output() -> float:
        with no_grad():
            return float(np.sum(fn(*checked).data * weights))

    for t in checked:
        if isinstance(t, Tensor):
            t.grad = None
    if out.requires_grad:
        out.backward(weights)

    for position, t in enumerate(checked):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        analytic = t.grad if t.grad is not None else np.zeros_like(t.data)
        numeric = np.zeros_like(t.data)
        flat = t.data.reshape(-1)  # a view: nudging it nudges t.data
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            up = weighted_output()
            flat[i] = original - eps
            down = weighted_output()
            flat[i] = original
            numeric.reshape(-1)[i] = (up - down) / (2 * eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and error.max() > 0:
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), t.shape))
            label = f"input {position}" + (f" ({t.name!r})" if t.name else "")
            raise GradcheckError(
                f"gradcheck: {label} of shape {t.shape}: at index {worst} the analytic gradient "
                f"is {float(analytic[worst])!r} but finite differences give "
                f"{float(numeric[worst])!r} "
                f"(atol={atol}, rtol={rtol})"
            )
    return True
