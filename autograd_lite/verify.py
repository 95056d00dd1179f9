"""Check gradients derived by hand (e.g. a NumPy backprop) against the engine's, one by one.

``verify_gradients`` runs the loss through the engine in float64, takes its gradients as the
reference ``a`` and compares each hand-derived gradient ``m`` with it elementwise::

    ok  ⇔  |a − m| ≤ atol + rtol·|a|  for every element   (numpy.allclose, autodiff as reference)

Non-finite elements follow ``numpy.allclose`` too: the same infinity on both sides agrees;
opposite infinities, an infinity against a finite number and a NaN against anything (a NaN too)
disagree, because a NaN gradient is never verified.

The report has one row per parameter; names missing on either side, shapes that do not match and
manual gradients that are not numeric are failing rows with a note, never exceptions, so one run
shows everything that is wrong. A failing row also says when the whole gradient is wrong in one
recognisable way (a constant factor such as a missing 1/N, a flipped sign, a transpose, all
zeros), and when several fail the report names the one closest to the loss: a backward pass
written by hand computes it first, and its mistake spoils every gradient computed from it.
Calls that cannot be run at all raise: arguments of the wrong kind are a ``TypeError`` naming the
argument, a parameter value that is not numeric a ``TypeError`` naming its key, tolerances that
are not finite numbers ≥ 0 a ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .gradcheck import _check_number
from .tensor import Tensor

__all__ = ["GradientReport", "GradientRow", "assert_gradients_close", "verify_gradients"]


@dataclass
class GradientRow:
    """One parameter's comparison. Errors are NaN when there was nothing to compare.

    ``max_rel_err`` is the largest |a − m| / |a| (0 where both are 0, inf where only a is 0).
    Both errors are 0 where a and m are the same infinity, inf where only one side is infinite or
    the infinities differ in sign, and NaN when a NaN is on either side.
    For a failing comparison, ``worst_index`` is the element that misses the tolerance by the most,
    and ``autodiff_value``/``manual_value`` are the two gradients there; ``pattern`` says how the
    manual gradient relates to autodiff's when it does so everywhere ("manual = 16.0 × autodiff
    everywhere: a missing 1/N?"). ``distance`` is the number of operations between the parameter
    and the loss (None when the loss does not use it).
    """

    name: str
    shape: tuple[int, ...] | None
    max_abs_err: float
    max_rel_err: float
    ok: bool
    worst_index: tuple[int, ...] | None = None
    autodiff_value: float | None = None
    manual_value: float | None = None
    note: str = ""
    pattern: str = ""
    distance: int | None = None


@dataclass
class GradientReport:
    """What ``verify_gradients`` found: ``.ok``, ``.rows``; ``str()`` is a table and a verdict."""

    rows: list[GradientRow]
    atol: float
    rtol: float
    loss: float

    @property
    def ok(self) -> bool:
        """True when every row passed."""
        return all(row.ok for row in self.rows)

    @property
    def failed(self) -> list[str]:
        """The names of the failing rows, in table order."""
        return [row.name for row in self.rows if not row.ok]

    @property
    def closest_to_loss(self) -> str | None:
        """The failing parameter with the fewest operations between it and the loss (the first in
        table order on a tie), or None when fewer than two parameters of the loss fail."""
        failing = [row for row in self.rows if not row.ok and row.distance is not None]
        if len(failing) < 2:
            return None
        return min(failing, key=lambda row: row.distance).name

    def __getitem__(self, name: str) -> GradientRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row named {name!r}; the rows are {[r.name for r in self.rows]}")

    def __str__(self) -> str:
        header = ["parameter", "shape", "max abs err", "max rel err", "ok", "worst element / note"]
        body = [
            [
                row.name,
                "-" if row.shape is None else str(row.shape),
                f"{row.max_abs_err:.3e}",
                f"{row.max_rel_err:.3e}",
                "ok" if row.ok else "FAIL",
                _detail(row),
            ]
            for row in self.rows
        ]
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header) - 1)]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
            for r in [header, *body]
        ]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(
            f"ok: |autodiff - manual| <= {self.atol:g} + {self.rtol:g}*|autodiff| elementwise"
        )
        closest = self.closest_to_loss
        if closest is not None:
            steps = self[closest].distance
            lines.append(
                f"closest to the loss among the failing: {closest} ({steps} operation"
                f"{'s' if steps != 1 else ''} away); a hand-written backward pass reaches it "
                "first and passes its mistakes on: fix it first"
            )
        lines.append(self.verdict)
        return "\n".join(line.rstrip() for line in lines)

    @property
    def verdict(self) -> str:
        """One line: PASS or FAIL, how many rows, and which failed."""
        if self.ok:
            return f"PASS: all {len(self.rows)} gradients match autodiff"
        return (
            f"FAIL: {len(self.failed)} of {len(self.rows)} gradients disagree with autodiff: "
            + ", ".join(self.failed)
        )

    def __repr__(self) -> str:
        return f"<GradientReport {self.verdict}>"


def verify_gradients(
    loss_fn: Callable[[dict[str, Tensor]], Tensor],
    params: Mapping[str, Any],
    manual_grads: Mapping[str, Any],
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> GradientReport:
    """Compare ``manual_grads`` with the engine's gradient of ``loss_fn`` for each parameter.

    ``params`` maps names to arrays; each becomes a float64 ``Tensor`` with ``requires_grad=True``
    and that name, and ``loss_fn`` gets the dict of them and must return a one-element Tensor.
    ``manual_grads`` maps the same names to the hand-derived d(loss)/d(parameter). A row is ok when
    ``|a − m| ≤ atol + rtol·|a|`` holds for every element, with ``a`` the engine's gradient;
    the same infinity on both sides agrees, and any other non-finite element fails and is the
    row's worst. Missing or extra names, mismatched shapes and non-numeric manual gradients are
    failing rows with a note. Raises ``TypeError`` when ``loss_fn`` is not callable, when
    ``params`` or ``manual_grads`` is not a mapping (a dict name -> np.ndarray) or a parameter is
    not numeric, and ``ValueError`` when ``atol``/``rtol`` is not a finite number ≥ 0.
    """
    if not callable(loss_fn):
        raise TypeError(
            f"verify_gradients: loss_fn must be a function taking a dict name -> Tensor and "
            f"returning a scalar Tensor, got {type(loss_fn).__name__}"
        )
    for argument, value in (("params", params), ("manual_grads", manual_grads)):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"verify_gradients: {argument} must be a dict name -> np.ndarray, got "
                f"{type(value).__name__}. Pass e.g. {{'w': w_array, 'b': b_array}}."
            )
    _check_number("verify_gradients", "atol", atol)
    _check_number("verify_gradients", "rtol", rtol)
    if not params:
        raise ValueError("verify_gradients: params is empty; pass a dict name -> array to check")
    tensors = {
        name: Tensor(_parameter_array(name, value), requires_grad=True, name=name)
        for name, value in params.items()
    }
    loss = loss_fn(dict(tensors))
    _check_loss(loss)
    distances = _operations_to(loss)
    loss.backward()

    rows = []
    for name, t in tensors.items():
        autodiff = t.grad if t.grad is not None else np.zeros_like(t.data)
        if name not in manual_grads:
            rows.append(_missing_row(name, t.shape, "no manual gradient given for this parameter"))
        else:
            rows.append(_compare(name, autodiff, manual_grads[name], atol, rtol))
    for row in rows:
        if row.name in tensors:
            row.distance = distances.get(id(tensors[row.name]))
    for name, value in manual_grads.items():
        if name not in tensors:
            shape = np.shape(value) if _is_numeric(value) else None
            note = f"not a parameter: params has {sorted(tensors)}"
            rows.append(_missing_row(name, shape, note))
    return GradientReport(rows=rows, atol=atol, rtol=rtol, loss=loss.item())


def assert_gradients_close(
    loss_fn: Callable[[dict[str, Tensor]], Tensor],
    params: Mapping[str, Any],
    manual_grads: Mapping[str, Any],
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> GradientReport:
    """``verify_gradients``, raising ``AssertionError`` with the report's table unless all pass.

    Made for tests: ``assert_gradients_close(loss, params, my_backprop(params))``.
    """
    report = verify_gradients(loss_fn, params, manual_grads, atol=atol, rtol=rtol)
    if not report.ok:
        raise AssertionError("hand-derived gradients disagree with autodiff:\n" + str(report))
    return report


def _check_loss(loss: Any) -> None:
    if not isinstance(loss, Tensor):
        raise TypeError(
            f"verify_gradients: loss_fn must return a scalar Tensor, got {type(loss).__name__}. "
            "Build the loss from the Tensors in the dict it receives (not from NumPy arrays)."
        )
    if loss.size != 1:
        raise ValueError(
            f"verify_gradients: loss_fn must return a scalar Tensor (one element); it returned "
            f"shape {loss.shape}. Reduce it to one number, e.g. with .sum() or .mean()."
        )
    if not loss.requires_grad:
        raise ValueError(
            "verify_gradients: the loss does not depend on any parameter through Tensor "
            "operations. Did loss_fn use .data, .numpy() or NumPy functions on the parameters?"
        )


def _compare(name: str, autodiff: np.ndarray, manual: Any, atol: float, rtol: float) -> GradientRow:
    if not _is_numeric(manual):
        note = f"manual gradient is not a numeric array ({type(manual).__name__})"
        return _missing_row(name, autodiff.shape, note)
    manual = np.asarray(manual.data if isinstance(manual, Tensor) else manual, dtype=np.float64)
    if manual.shape != autodiff.shape:
        return _missing_row(name, autodiff.shape, _shape_note(autodiff, manual))
    both_finite = np.isfinite(autodiff) & np.isfinite(manual)
    # Where either side is not finite only the very same infinity agrees (NaN != NaN).
    agree = np.where(both_finite, False, autodiff == manual)
    with np.errstate(all="ignore"):  # inf − inf and x/0 are dealt with by the masks below
        diff = np.where(agree, 0.0, np.abs(autodiff - manual))
        allowed = atol + rtol * np.abs(autodiff)
        ok_elements = agree | (both_finite & (diff <= allowed))
        relative = np.where(
            diff == 0,
            0.0,
            np.where(np.isfinite(autodiff) & (autodiff != 0), diff / np.abs(autodiff), np.inf),
        )
        relative = np.where(np.isnan(diff), np.nan, relative)
        # A non-finite disagreement is the worst kind; agreeing infinities are never the worst.
        excess = np.where(both_finite, diff - allowed, np.where(agree, -np.inf, np.inf))
    ok = bool(ok_elements.all())
    row = GradientRow(
        name=name,
        shape=autodiff.shape,
        max_abs_err=float(np.max(diff)) if diff.size else 0.0,
        max_rel_err=float(np.max(relative)) if diff.size else 0.0,
        ok=ok,
    )
    if not ok:
        row.worst_index = tuple(int(i) for i in np.unravel_index(np.argmax(excess), diff.shape))
        row.autodiff_value = float(autodiff[row.worst_index])
        row.manual_value = float(manual[row.worst_index])
        row.pattern = _pattern(autodiff, manual, atol, rtol)
    return row


def _pattern(autodiff: np.ndarray, manual: np.ndarray, atol: float, rtol: float) -> str:
    """How ``manual`` relates to ``autodiff`` everywhere, if in one of the ways a derivation by
    hand typically goes wrong; "" if in none of them (or if anything is not finite)."""
    if not (np.isfinite(autodiff).all() and np.isfinite(manual).all()) or not autodiff.size:
        return ""
    if np.count_nonzero(autodiff) < 2:  # one number fits any factor: no pattern to read
        return ""
    if not np.any(manual):
        return "manual is all zeros: was this gradient never computed, or never added to?"

    def matches(expected: np.ndarray) -> bool:  # the report's own tolerance, expected as reference
        return bool(np.all(np.abs(expected - manual) <= atol + rtol * np.abs(expected)))

    factor = float(np.vdot(autodiff, manual) / np.vdot(autodiff, autodiff))  # least squares
    if matches(factor * autodiff) and not math.isclose(factor, 1.0, rel_tol=rtol):
        if math.isclose(factor, -1.0, rel_tol=rtol):
            return "manual = -autodiff everywhere: a flipped sign (output - target the other way?)"
        near = round(factor)
        shown = (
            f"{near:.1f}" if near and math.isclose(factor, near, rel_tol=1e-9) else f"{factor:.6g}"
        )
        if factor > 1:
            guess = "a missing 1/N?"
        elif 0 < factor < 1:
            guess = "an extra factor (1/N taken twice?)"
        else:
            guess = "a flipped sign and a factor?"
        return f"manual = {shown} × autodiff everywhere: {guess}"
    if autodiff.ndim == 2 and autodiff.shape[0] == autodiff.shape[1] and matches(autodiff.T):
        return "manual = autodiffᵀ everywhere: transposed (x.T @ g vs g.T @ x?)"
    return ""


def _operations_to(loss: Tensor) -> dict[int, int]:
    """id(tensor) -> the fewest operations between it and ``loss`` (breadth-first from the loss)."""
    distance = {id(loss): 0}
    frontier = [loss]
    while frontier:
        following = []
        for t in frontier:
            if t._ctx is None:
                continue
            for parent in t._ctx.inputs:
                if id(parent) not in distance:
                    distance[id(parent)] = distance[id(t)] + 1
                    following.append(parent)
        frontier = following
    return distance


def _missing_row(name: str, shape: tuple[int, ...] | None, note: str) -> GradientRow:
    nan = float("nan")
    return GradientRow(
        name=name, shape=shape, max_abs_err=nan, max_rel_err=nan, ok=False, note=note
    )


def _shape_note(autodiff: np.ndarray, manual: np.ndarray) -> str:
    note = f"shape mismatch: manual gradient has shape {manual.shape}, parameter {autodiff.shape}"
    if manual.T.shape == autodiff.shape and manual.ndim == 2:
        note += " (transposed?)"
    elif manual.size == autodiff.size:
        note += " (same size: a reshape or keepdims missing?)"
    return note


def _parameter_array(name: Any, value: Any) -> np.ndarray:
    """A parameter as float64; one that is not numeric cannot be run, so it is raised, not a row."""
    if not _is_numeric(value):
        raise TypeError(
            f"verify_gradients: params[{name!r}] is not a numeric array "
            f"({type(value).__name__}); params must map names to np.ndarray of numbers"
        )
    return np.array(value.data if isinstance(value, Tensor) else value, dtype=np.float64)


def _is_numeric(value: Any) -> bool:
    if isinstance(value, Tensor):
        return True
    try:
        return np.asarray(value).dtype.kind in "fiub"
    except (TypeError, ValueError):
        return False


def _detail(row: GradientRow) -> str:
    if row.note:
        return row.note
    if row.ok or row.worst_index is None:
        return ""
    text = (
        f"at {list(row.worst_index)}: autodiff {row.autodiff_value:.6g}, "
        f"manual {row.manual_value:.6g}"
    )
    return f"{text}; {row.pattern}" if row.pattern else text
