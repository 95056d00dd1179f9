"""Helpers every example uses: side-by-side checks, the exit code, saving pictures, progress.

Pictures are written with matplotlib's Agg backend (no display needed) into ``examples/out/``
unless the caller passes another directory.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "out"


def out_dir_for(out_dir: str | Path | None) -> Path:
    """The directory pictures go to (created if missing): ``out_dir`` or ``examples/out``."""
    path = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def pyplot():
    """matplotlib.pyplot on the Agg backend, so that saving works on a machine without display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, out_dir: Path, filename: str) -> Path:
    """Save ``fig`` as ``out_dir/filename``, close it, and say where it went."""
    path = out_dir / filename
    fig.savefig(path, dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    print(f"  picture saved to {path}")
    return path


T = TypeVar("T")


def progress(iterable: Iterable[T], total: int, desc: str, unit: str = "it") -> Any:
    """A tqdm bar on a terminal; elsewhere (a log file, a pipe, CI) plain periodic lines.

    A bar redraws itself with carriage returns, which a log file keeps as one endless line, so
    away from a terminal this prints a line after every tenth of the work instead. Both support
    iteration, ``set_postfix(**values)`` and ``close()``.
    """
    if getattr(sys.stdout, "isatty", lambda: False)():
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stdout, ncols=90)
    return PlainProgress(iterable, total, desc, unit)


class PlainProgress:
    """Progress as lines such as ``epochs: 3/30 (10%), 0.4 s, loss=0.1234``, about ten in all."""

    def __init__(self, iterable: Iterable[T], total: int, desc: str, unit: str = "it") -> None:
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.every = max(1, total // 10)
        self.postfix: dict[str, Any] = {}
        self.n = 0
        self.last_printed = 0
        self.started = time.perf_counter()

    def __iter__(self) -> Iterator[T]:
        for item in self.iterable:
            yield item
            # The loop body has run (and set its postfix) by the time control comes back here.
            self.n += 1
            if self.n % self.every == 0 or self.n == self.total:
                self._print()

    def set_postfix(self, **values: Any) -> None:
        self.postfix = values

    def close(self) -> None:
        if self.n != self.last_printed:  # stopped early: say how far it got
            self._print()

    def _print(self) -> None:
        self.last_printed = self.n
        share = f" ({100 * self.n // self.total}%)" if self.total else ""
        elapsed = time.perf_counter() - self.started
        text = f"{self.desc}: {self.n}/{self.total}{share}, {elapsed:.1f} s"
        extra = ", ".join(f"{key}={value}" for key, value in self.postfix.items())
        print(text + (f", {extra}" if extra else ""), flush=True)


class Checks:
    """Collects named pass/fail checks, prints each one, and turns them into an exit code."""

    def __init__(self, example: str) -> None:
        self.example = example
        self.failed: list[str] = []

    def close(
        self,
        label: str,
        engine: float | np.ndarray,
        reference: float | Sequence | np.ndarray,
        atol: float,
        rtol: float = 0.0,
        reference_name: str = "tutorial",
        name: str = "engine",
    ) -> bool:
        """Check |engine − reference| <= atol + rtol·|reference| element-wise; print both."""
        engine_arr = np.asarray(engine, dtype=float)
        reference_arr = np.asarray(reference, dtype=float)
        ok = engine_arr.shape == reference_arr.shape and bool(
            np.all(np.abs(engine_arr - reference_arr) <= atol + rtol * np.abs(reference_arr))
        )
        verdict = "ok" if ok else "MISMATCH"
        engine_text, reference_text = _fmt(engine_arr), _fmt(reference_arr)
        if len(engine_text) + len(reference_text) <= 60:
            print(
                f"  {label:<18} {name:<8} {engine_text:<30} {reference_name:<8} "
                f"{reference_text:<30} {verdict}"
            )
        else:  # long arrays: one line each, so the columns stay readable
            print(f"  {label:<18} {name:<8} {engine_text}")
            print(f"  {'':<18} {reference_name:<8} {reference_text}  {verdict}")
        if not ok:
            self.failed.append(f"{label}: {name} {engine_arr} vs {reference_name} {reference_arr}")
        return ok

    def true(self, label: str, condition: bool, detail: str = "") -> bool:
        """Record a yes/no check (e.g. an accuracy floor), printing it with ``detail``."""
        ok = bool(condition)
        print(f"  {label:<18} {detail}  {'ok' if ok else 'FAILED'}")
        if not ok:
            self.failed.append(f"{label}: {detail}")
        return ok

    def exit_code(self) -> int:
        """0 if every check held; otherwise 1, after naming every failed check on stderr."""
        if not self.failed:
            print(f"{self.example}: every check holds")
            return 0
        print(f"{self.example}: {len(self.failed)} CHECK(S) FAILED", file=sys.stderr)
        for failure in self.failed:
            print(f"  FAILED {failure}", file=sys.stderr)
        return 1


def _fmt(values: np.ndarray) -> str:
    if values.ndim == 0:
        return f"{float(values):.10g}"
    return "[" + ", ".join(f"{v:.9g}" for v in values.ravel()) + "]"
