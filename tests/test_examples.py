"""Every example runs and its own checks hold; long runs are shortened.

Each example compares the engine's numbers with the tutorial's (or with formulas written
independently in NumPy) and returns a non-zero exit code on any disagreement, so exit code 0 here
means every one of those comparisons held. The digits classifier runs at full length (about 4 s)
so that its claim, test accuracy >= 0.97, is checked as stated. Full-length figures measured:
planar flower set 0.9425 training accuracy after 10,000 steps, breast cancer 0.965 test accuracy,
digits 0.9778 test accuracy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytest.importorskip("tqdm")

import breast_cancer  # noqa: E402
import demo  # noqa: E402
import digits  # noqa: E402
import digits_regularised  # noqa: E402
import hessian_newton_222  # noqa: E402
import linear_221_symmetry  # noqa: E402
import planar_tanh_sigmoid  # noqa: E402
import three_two_one_sigmoid  # noqa: E402
import worked_example_222  # noqa: E402


def assert_png(path: Path) -> None:
    assert path.is_file(), f"missing picture {path}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"


def test_three_two_one_sigmoid_formulas_match_autodiff():
    assert three_two_one_sigmoid.main() == 0


def test_three_two_one_sigmoid_fails_loudly_on_a_wrong_figure(monkeypatch, capsys):
    monkeypatch.setattr(three_two_one_sigmoid, "PRINTED_DELTA_W_HIDDEN_OUTPUT", [0.00804, 0.00556])
    assert three_two_one_sigmoid.main() == 1
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out
    assert "FAILED" in captured.err and "Δw hidden→output" in captured.err


def test_three_two_one_sigmoid_error_terms_are_the_negative_gradient():
    """Independent of the script's own comparison: a finite difference of E in one weight."""
    by_formula = three_two_one_sigmoid.weight_changes_by_formula()
    w, eps = three_two_one_sigmoid.W_HIDDEN_OUTPUT, 1e-6

    def error(w_out: np.ndarray) -> float:
        hidden = three_two_one_sigmoid.sigmoid(
            three_two_one_sigmoid.X @ three_two_one_sigmoid.W_INPUT_HIDDEN
        )
        output = three_two_one_sigmoid.sigmoid(hidden @ w_out)
        return 0.5 * (three_two_one_sigmoid.TARGET - output) ** 2

    step = np.array([eps, 0.0])
    slope = (error(w + step) - error(w - step)) / (2 * eps)
    assert by_formula["delta_w_hidden_output"][0] == pytest.approx(-0.5 * slope, rel=1e-7)


def test_worked_example_222_shortened():
    # The 10,000-step figure is checked by tests/test_worked_example.py and by `make demo`.
    assert worked_example_222.main(200) == 0


def test_hessian_newton_222_checks_hold():
    assert hessian_newton_222.main() == 0


def test_hessian_newton_222_fails_loudly_on_a_wrong_hessian(monkeypatch, capsys):
    right = hessian_newton_222.hessian
    monkeypatch.setattr(hessian_newton_222, "hessian", lambda w: right(w) * (1 + 1e-3))
    assert hessian_newton_222.main() == 1
    assert "FAILED H vs central" in capsys.readouterr().err


def test_linear_221_trace_and_symmetry(tmp_path):
    assert linear_221_symmetry.main(out_dir=tmp_path) == 0
    assert_png(tmp_path / "linear_221_losses.png")


def test_linear_221_hand_derived_trace_starts_at_the_tutorials_figures():
    losses = linear_221_symmetry.losses_by_hand(3)[:, 0]
    assert losses[0] == pytest.approx(9.0, abs=1e-12)
    assert losses[1] == pytest.approx(2.8224, abs=1e-12)
    assert losses[2] < losses[1]


def test_linear_221_fails_when_a_tutorial_figure_differs(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(linear_221_symmetry, "TUTORIAL_FIRST_LOSSES", [9.0, 2.8])
    assert linear_221_symmetry.main(epochs=2, out_dir=tmp_path) == 1
    assert "first losses" in capsys.readouterr().err


def test_planar_tanh_sigmoid_shortened(tmp_path):
    # Tutorial run cut to 2,000 steps (its first three printed costs), flower set to 1,000.
    assert planar_tanh_sigmoid.main(2001, 1001, out_dir=tmp_path) == 0
    assert_png(tmp_path / "planar_decision_boundary.png")


def test_flower_data_is_reproducible_and_balanced():
    x1, y1 = planar_tanh_sigmoid.flower_data()
    x2, y2 = planar_tanh_sigmoid.flower_data()
    np.testing.assert_array_equal(x1, x2)
    assert x1.shape == (400, 2) and y1.shape == (400, 1)
    assert y1.sum() == 200
    np.testing.assert_array_equal(y1, y2)


def test_breast_cancer_full_length():
    assert breast_cancer.main() == 0


def test_digits_full_length_reaches_97_percent(tmp_path):
    assert digits.main(out_dir=tmp_path) == 0  # 30 epochs, floor 0.97
    assert_png(tmp_path / "digits_curves.png")


def test_digits_fails_loudly_below_the_floor(tmp_path, capsys):
    assert digits.main(epochs=1, accuracy_floor=0.999, out_dir=tmp_path) == 1
    assert "test accuracy" in capsys.readouterr().err


def test_digits_regularised_full_length_reaches_the_plain_recipe():
    # Dropout + AdamW + cosine schedule + label smoothing, 30 epochs: >= 0.97 and >= digits.py's.
    assert digits_regularised.main() == 0


def test_digits_regularised_fails_loudly_below_the_floor(capsys):
    assert digits_regularised.main(epochs=1, accuracy_floor=0.999, compare=False) == 1
    assert "test accuracy" in capsys.readouterr().err


def test_demo_tour_passes(tmp_path):
    assert demo.main(out_dir=tmp_path, quick=True) == 0
    for name in ["linear_221_losses.png", "planar_decision_boundary.png", "digits_curves.png"]:
        assert_png(tmp_path / name)


def test_demo_reports_a_failing_or_crashing_stop(monkeypatch, tmp_path, capsys):
    def crash() -> int:
        raise RuntimeError("boom")

    stops = [("passes", lambda: 0), ("fails", lambda: 1), ("crashes", crash)]
    monkeypatch.setattr(demo, "tour", lambda out_dir, quick: stops)
    assert demo.main(out_dir=tmp_path) == 1
    err = capsys.readouterr().err
    assert "2 stop(s) FAILED" in err and "fails" in err and "crashes" in err
    assert "RuntimeError: boom" in err
