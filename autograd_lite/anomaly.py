"""``detect_anomaly()``: stop at the operation that creates a NaN or an infinity, and say where.

Inside it, NumPy raises at the very computation that turns finite numbers into NaN or ±inf
(``np.errstate``: overflow, division by zero, invalid operations; underflow to 0 is fine), so the
operation blamed is the one that created the value, in forward or in backward, never a later one
that merely passed a NaN along. Every operation also remembers the line of the user's code that
made it, so that an error found during backward points at the forward line responsible.
Outside the block nothing is checked and nothing costs anything.
"""

from __future__ import annotations

import contextlib
import inspect
import linecache
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .grad_mode import _mode, around_each_resume

_PACKAGE_DIRS = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nn") + os.sep,
)


class detect_anomaly(contextlib.ContextDecorator):
    """Raise ``FloatingPointError`` at the first operation that creates a NaN or inf.

    ``with detect_anomaly(): loss = model(x); loss.backward()`` or ``@detect_anomaly()``. The
    message names the operation, the phase (forward or backward), its operands' shapes and dtypes,
    how many elements went bad, and the file and line that created the operation.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[bool, Any]] = []

    def __enter__(self) -> detect_anomaly:
        errstate = np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")
        errstate.__enter__()
        self._stack.append((_mode.anomaly, errstate))
        _mode.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        previous, errstate = self._stack.pop()
        _mode.anomaly = previous
        errstate.__exit__(*exc)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(func):  # checked while it runs, not while it is paused
            return around_each_resume(self, func)
        return super().__call__(func)


def is_anomaly_enabled() -> bool:
    """Whether this thread is inside ``detect_anomaly()``."""
    return _mode.anomaly


def user_site() -> str | None:
    """``file:line: code`` of the innermost caller outside autograd_lite and nn, or None."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRS):
        frame = frame.f_back
    if frame is None:
        return None
    filename, line = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(filename, line).strip()
    return f"{filename}:{line}" + (f": {code}" if code else "")


def anomaly_error(
    fn: Any, phase: str, operands: list, err: Exception, site: str | None, params: dict
) -> FloatingPointError:
    """The ``FloatingPointError`` that names what went wrong, where, and how much of it."""
    described = ", ".join(f"{tuple(np.shape(a))} {np.asarray(a).dtype}" for a in operands)
    bad = _count_bad(fn, phase, operands, params)
    where = (
        f"It was created at {site}"
        if site
        else ("Run the forward pass inside detect_anomaly() too, to see the line that created it")
    )
    return FloatingPointError(
        f"detect_anomaly: '{fn.name}' created {bad} in {phase} from finite values "
        f"(operands: {described}; NumPy: {err}). {where}."
    )


def _count_bad(fn: Any, phase: str, operands: list, params: dict) -> str:
    """How many elements of the result are NaN or infinite, recomputed without raising."""
    try:
        with np.errstate(all="ignore"):
            if phase == "forward":
                results = [fn.forward(*operands, **params)]
            else:
                results = [r for r in fn.backward(operands[0]) if r is not None]
    except Exception:  # noqa: BLE001 - the count is a courtesy; the error is what matters
        return "NaN or inf"
    arrays = [np.asarray(r) for r in results]
    total = sum(a.size for a in arrays)
    nan = sum(int(np.isnan(a).sum()) for a in arrays)
    inf = sum(int(np.isinf(a).sum()) for a in arrays)
    return f"{nan} NaN and {inf} infinite of {total} elements"
