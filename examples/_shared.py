"""Helpers every example uses: side-by-side checks, the exit code, and saving pictures.

Pictures are written with matplotlib's Agg backend (no display needed) into ``examples/out/``
unless the caller passes another directory.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

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
