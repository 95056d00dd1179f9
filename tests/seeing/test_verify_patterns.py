"""verify_gradients reads the pattern of a wrong gradient, and which failing one to fix first."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import verify_gradients

A = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 3.0], [3.0, 0.25, 1.0], [-2.0, 1.0, 0.5]])
T = np.array([0.3, -0.2, 1.0, 0.4])
PARAMS = {"w": np.array([0.7, -0.4, 0.2]), "M": np.array([[1.0, 2.0], [-0.5, 0.3]])}
V = np.array([1.0, -2.0])


def loss_fn(p):
    # L = Σ (A·w − t)² / 2 + Σ (M·v)³ / 3: dL/dw = Aᵀ(A·w − t), dL/dM = (M·v)² vᵀ (not symmetric)
    return 0.5 * ((A @ p["w"] - T) ** 2).sum() + ((p["M"] @ V) ** 3).sum() / 3


def right():
    mv = PARAMS["M"] @ V
    return {"w": A.T @ (A @ PARAMS["w"] - T), "M": np.outer(mv**2, V)}


@pytest.mark.parametrize(
    "wrong, pattern",
    [
        (lambda g: 16 * g, "manual = 16.0 × autodiff everywhere: a missing 1/N?"),
        (lambda g: 2.5 * g, "manual = 2.5 × autodiff everywhere: a missing 1/N?"),
        (lambda g: -g, "manual = -autodiff everywhere: a flipped sign"),
        (
            lambda g: g / 4,
            "manual = 0.25 × autodiff everywhere: an extra factor (1/N taken twice?)",
        ),
        (lambda g: -3 * g, "manual = -3.0 × autodiff everywhere: a flipped sign and a factor?"),
        (lambda g: 0 * g, "manual is all zeros"),
    ],
)
def test_a_gradient_wrong_everywhere_in_one_way_says_how(wrong, pattern):
    manual = dict(right(), w=wrong(right()["w"]))
    report = verify_gradients(loss_fn, PARAMS, manual)
    assert report.failed == ["w"]
    assert report["w"].pattern.startswith(pattern)
    w_line = next(line for line in str(report).splitlines() if line.startswith("w "))
    assert w_line.endswith(report["w"].pattern) and "; manual" in w_line
    assert report["M"].pattern == ""


def test_a_transposed_square_gradient_is_recognised():
    manual = dict(right(), M=right()["M"].T)
    report = verify_gradients(loss_fn, PARAMS, manual)
    assert report.failed == ["M"]
    assert report["M"].pattern.startswith("manual = autodiffᵀ everywhere: transposed")


def test_no_pattern_is_claimed_for_an_ordinary_mistake_or_a_single_number():
    manual = right()
    manual["w"] = manual["w"] + np.array([0.0, 0.5, 0.0])  # one element off
    report = verify_gradients(loss_fn, PARAMS, manual)
    assert report.failed == ["w"] and report["w"].pattern == ""
    one = verify_gradients(
        lambda p: (p["b"] * 3.0).sum(), {"b": np.array([1.0])}, {"b": np.array([12.0])}
    )
    assert one.failed == ["b"] and one["b"].pattern == ""  # any one number is "c × autodiff"
    # the factor must hold within the report's own tolerance, element by element
    nearly = dict(right(), w=16 * right()["w"] * np.array([1.0, 1.0, 1.001]))
    assert verify_gradients(loss_fn, PARAMS, nearly)["w"].pattern == ""


def test_distance_counts_the_operations_between_parameter_and_loss():
    report = verify_gradients(loss_fn, PARAMS, right())
    # w: MatMul, Sub, PowScalar, Mul (by 0.5), Sum, Add -> 6;
    # M: MatMul, PowScalar, Sum, Div (by 3), Add -> 5
    assert (report["w"].distance, report["M"].distance) == (6, 5)
    assert report.closest_to_loss is None  # nothing failed


def load_example():
    path = Path(__file__).resolve().parents[2] / "examples" / "verify_manual_backprop.py"
    spec = importlib.util.spec_from_file_location("verify_manual_backprop_seeing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_published_backprop_names_the_failing_parameter_closest_to_the_loss():
    example = load_example()
    report = example.relu_report()  # tutorial 004: all four gradients wrong
    # loss = mean((y − relu(relu(x @ W1 + b1) @ W2 + b2))²), counted from the loss:
    # bias_2: Add, ReLU, Sub, PowScalar, Mean = 5; weights_2: one MatMul more = 6;
    # bias_1: Add, ReLU, MatMul + the 5 above = 8; weights_1: one MatMul more = 9
    distances = {row.name: row.distance for row in report.rows}
    assert distances == {"weights_1": 9, "bias_1": 8, "weights_2": 6, "bias_2": 5}
    assert report.closest_to_loss == "bias_2"
    lines = str(report).splitlines()
    assert lines[-2].startswith("closest to the loss among the failing: bias_2 (5 operations away)")
    assert lines[-1].startswith("FAIL: 4 of 4")  # the verdict stays the last line
    # with only the hidden mask wrong, the hidden bias is the one to fix first
    assert example.relu_report(frozenset({"mask_of_input"})).closest_to_loss == "bias_1"


def test_the_missing_mean_factor_is_read_as_a_factor_on_every_matrix():
    example = load_example()
    report = example.relu_report(frozenset({"mean_factor_missing"}))
    n = 8  # samples; the mean's 2/N is missing, so manual = N/2 × autodiff
    for name in ("weights_1", "bias_1", "weights_2"):
        assert report[name].pattern == f"manual = {n / 2:.1f} × autodiff everywhere: a missing 1/N?"
    assert report["bias_2"].pattern == ""  # a (1, 1) gradient shows no pattern
