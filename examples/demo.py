"""The tour ``make demo`` runs: every tutorial network in turn, its numbers beside the engine's.

Long runs are shortened so that the whole tour takes about 20 s; run an example on its own
(``.venv/bin/python examples/<name>.py``) for its full length. The tour carries on past a failing
example and returns 1 at the end if any check failed (or an example crashed), 0 otherwise.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import breast_cancer  # noqa: E402
import digits  # noqa: E402
import digits_regularised  # noqa: E402
import hessian_newton_222  # noqa: E402
import linear_221_symmetry  # noqa: E402
import planar_tanh_sigmoid  # noqa: E402
import three_two_one_sigmoid  # noqa: E402
import worked_example_222  # noqa: E402
from _shared import out_dir_for  # noqa: E402


def optional_manual_backprop_check() -> Callable[[], int] | None:
    """``verify_manual_backprop.main`` if that example is present (it is added separately)."""
    try:
        module = importlib.import_module("verify_manual_backprop")
    except ModuleNotFoundError as error:
        if error.name != "verify_manual_backprop":
            raise  # the example is there but something it needs is not: say so
        return None
    return module.main


def tour(
    out_dir: str | Path | None = None, quick: bool = False
) -> list[tuple[str, Callable[[], int]]]:
    """(header, run) for each stop, shortened where the full run is long.

    ``quick`` cuts the long runs much further (and lowers the accuracy floors to match), for
    the tests: it checks that every stop runs and passes, in a few seconds.
    """
    out = out_dir_for(out_dir)
    steps_222 = 200 if quick else 10_000
    planar = (
        1001 if quick else 3001,
        501 if quick else 2001,
        planar_tanh_sigmoid.FLOWER_ACCURACY_FLOOR,
    )
    cancer = (30, 0.9) if quick else (breast_cancer.EPOCHS, breast_cancer.ACCURACY_FLOOR)
    digit = (4, 0.9) if quick else (digits.EPOCHS, digits.ACCURACY_FLOOR)
    stops: list[tuple[str, Callable[[], int]]] = [
        ("3-2-1 sigmoid: one step, error-term formulas vs autodiff", three_two_one_sigmoid.main),
        (
            "2-2-2 sigmoid: the worked example, and its computation graph",
            lambda: worked_example_222.main(steps_222, out_dir=out),
        ),
        ("2-2-2 sigmoid: Hessian, Hessian-vector product, Newton step", hessian_newton_222.main),
        ("linear 2-2-1 from a symmetric start", lambda: linear_221_symmetry.main(out_dir=out)),
        (
            f"tanh + sigmoid + cross-entropy (tutorial run cut to {planar[0] - 1:,} steps, "
            f"flower set to {planar[1] - 1:,})",
            lambda: planar_tanh_sigmoid.main(*planar, out_dir=out),
        ),
        ("breast cancer: sigmoid hidden layer", lambda: breast_cancer.main(*cancer)),
        ("digits: MLP, Adam, minibatches", lambda: digits.main(*digit, out_dir=out)),
        (
            "digits: Dropout, AdamW, cosine schedule, label smoothing",
            lambda: digits_regularised.main(*digit, compare=not quick),
        ),
    ]
    manual_backprop = optional_manual_backprop_check()
    if manual_backprop is not None:
        stops.append(("a hand-written backprop checked against the engine", manual_backprop))
    return stops


def main(out_dir: str | Path | None = None, quick: bool = False) -> int:
    """Run every stop with a header; 0 if every check of every stop held."""
    failed = []
    started = time.perf_counter()
    stops = tour(out_dir, quick)
    for number, (header, run) in enumerate(stops, start=1):
        print(f"\n=== {number}/{len(stops)} {header} ===")
        try:
            code = run()
        except Exception:  # one broken example must not hide the others' results
            traceback.print_exc()
            code = 1
        if code != 0:
            failed.append(header)
    elapsed = time.perf_counter() - started
    print(f"\nTour finished in {elapsed:.1f} s; pictures in {out_dir_for(out_dir)}")
    if failed:
        print(f"{len(failed)} stop(s) FAILED:", file=sys.stderr)
        for header in failed:
            print(f"  {header}", file=sys.stderr)
        return 1
    print("Every stop's checks hold.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
