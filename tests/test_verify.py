"""verify_gradients, assert_gradients_close, and the example checking two published backprops."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import Tensor, assert_gradients_close, verify_gradients

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "verify_manual_backprop.py"
ALL_FOUR = {"weights_1", "bias_1", "weights_2", "bias_2"}


def load_example():
    spec = importlib.util.spec_from_file_location("verify_manual_backprop", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


# A small problem with a gradient known in closed form: L = Σ (A·w − t)² / 2 + Σ b²,
# dL/dw = Aᵀ(A·w − t), dL/db = 2b.
A = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.25]])
T = np.array([0.3, -0.2, 1.0])
PARAMS = {"w": np.array([0.7, -0.4]), "b": np.array([[1.5, -2.0, 0.25]])}


def loss_fn(p):
    residual = A @ p["w"] - T
    return 0.5 * (residual**2).sum() + (p["b"] ** 2).sum()


def right_grads(params=PARAMS):
    return {"w": A.T @ (A @ params["w"] - T), "b": 2 * params["b"]}


def central_differences(f, params, eps=1e-6):
    """d f / d params[name] for each name, by central differences in float64."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][i] += eps
            down[name][i] -= eps
            grad[i] = (f(up) - f(down)) / (2 * eps)
        grads[name] = grad
    return grads


def test_right_gradients_pass():
    report = verify_gradients(loss_fn, PARAMS, right_grads())
    assert report.ok
    assert [row.name for row in report.rows] == ["w", "b"]
    assert all(row.ok and row.max_abs_err < 1e-12 for row in report.rows)
    assert report["w"].shape == (2,) and report["b"].shape == (1, 3)
    assert str(report).splitlines()[-1] == "PASS: all 2 gradients match autodiff"


def test_a_wrong_element_is_flagged_at_its_index_with_both_values():
    manual = right_grads()
    true_value = manual["b"][0, 2]
    manual["b"] = manual["b"].copy()
    manual["b"][0, 2] += 0.5
    report = verify_gradients(loss_fn, PARAMS, manual)
    assert not report.ok and report.failed == ["b"]
    row = report["b"]
    assert row.worst_index == (0, 2)
    assert row.autodiff_value == pytest.approx(true_value, abs=1e-12)
    assert row.manual_value == pytest.approx(true_value + 0.5, abs=1e-12)
    assert row.max_abs_err == pytest.approx(0.5, abs=1e-12)
    assert row.max_rel_err == pytest.approx(0.5 / abs(true_value), rel=1e-9)
    assert report["w"].ok and report["w"].worst_index is None
    text = str(report)
    b_line = next(line for line in text.splitlines() if line.startswith("b "))
    assert "FAIL" in b_line and "at [0, 2]" in b_line
    assert text.splitlines()[-1] == "FAIL: 1 of 2 gradients disagree with autodiff: b"


@pytest.mark.parametrize("atol, rtol", [(1e-6, 1e-4), (1e-3, 0.0), (0.0, 1e-2)])
def test_tolerance_is_atol_plus_rtol_times_autodiff(atol, rtol):
    exact = right_grads()
    allowed = atol + rtol * np.abs(exact["w"])
    inside = {"w": exact["w"] + 0.9 * allowed, "b": exact["b"]}
    outside = {"w": exact["w"] - 1.1 * allowed, "b": exact["b"]}
    assert verify_gradients(loss_fn, PARAMS, inside, atol=atol, rtol=rtol).ok
    report = verify_gradients(loss_fn, PARAMS, outside, atol=atol, rtol=rtol)
    assert report.failed == ["w"]


def test_missing_extra_and_misshaped_gradients_are_failing_rows_not_exceptions():
    manual = right_grads()
    report = verify_gradients(loss_fn, PARAMS, {"w": manual["w"], "bias": manual["b"]})
    assert [(r.name, r.ok) for r in report.rows] == [("w", True), ("b", False), ("bias", False)]
    assert "no manual gradient" in report["b"].note and math.isnan(report["b"].max_abs_err)
    assert "not a parameter" in report["bias"].note and report["bias"].shape == (1, 3)

    transposed = verify_gradients(loss_fn, PARAMS, {"w": manual["w"], "b": manual["b"].T})
    assert transposed.failed == ["b"]
    assert "shape mismatch" in transposed["b"].note and "(3, 1)" in transposed["b"].note
    assert "transposed?" in transposed["b"].note
    flat = verify_gradients(loss_fn, PARAMS, {"w": manual["w"], "b": manual["b"].ravel()})
    assert "keepdims" in flat["b"].note

    garbage = verify_gradients(loss_fn, PARAMS, {"w": "not numbers", "b": manual["b"]})
    assert garbage.failed == ["w"] and "not a numeric array" in garbage["w"].note
    text = str(report)
    assert "no manual gradient" in text and "not a parameter" in text


def test_nan_in_a_manual_gradient_fails_and_points_at_it():
    manual = right_grads()
    manual["w"] = np.array([manual["w"][0], np.nan])
    report = verify_gradients(loss_fn, PARAMS, manual)
    assert report.failed == ["w"] and report["w"].worst_index == (1,)


def test_a_parameter_the_loss_ignores_has_zero_autodiff_gradient():
    params = dict(PARAMS, unused=np.ones(2))
    manual = dict(right_grads(), unused=np.zeros(2))
    assert verify_gradients(loss_fn, params, manual).ok
    manual["unused"] = np.array([0.0, 1.0])
    assert verify_gradients(loss_fn, params, manual).failed == ["unused"]


def test_the_loss_must_be_a_scalar_tensor_built_from_the_parameters():
    with pytest.raises(ValueError, match=r"scalar Tensor .* shape \(3,\).*\.sum\(\)"):
        verify_gradients(lambda p: A @ p["w"], PARAMS, right_grads())
    with pytest.raises(TypeError, match="must return a scalar Tensor, got float"):
        verify_gradients(lambda p: float(np.sum(p["w"].data)), PARAMS, right_grads())
    with pytest.raises(ValueError, match="does not depend on any parameter"):
        verify_gradients(lambda p: Tensor(p["w"].data).sum(), PARAMS, right_grads())
    with pytest.raises(ValueError, match="params is empty"):
        verify_gradients(loss_fn, {}, {})


def test_parameters_are_float64_tensors_with_their_names():
    seen = {}

    def spy(p):
        seen.update({name: (t.dtype, t.requires_grad, t.name) for name, t in p.items()})
        return loss_fn(p)

    params32 = {k: v.astype(np.float32) for k, v in PARAMS.items()}
    verify_gradients(spy, params32, right_grads())
    assert seen == {"w": (np.float64, True, "w"), "b": (np.float64, True, "b")}


def test_assert_gradients_close_raises_with_the_table():
    report = assert_gradients_close(loss_fn, PARAMS, right_grads())
    assert report.ok
    wrong = dict(right_grads(), w=np.zeros(2))
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(loss_fn, PARAMS, wrong, atol=1e-8, rtol=1e-6)
    message = str(info.value)
    assert "max abs err" in message and "FAIL: 1 of 2" in message and "1e-08" in message


# ----- the example: tutorial 004's published backprop and tutorial 003's closed forms ----------
def test_published_relu_backprop_fails_on_every_parameter(example):
    report = example.relu_report()
    assert not report.ok
    assert set(report.failed) == ALL_FOUR


@pytest.mark.parametrize(
    "mistake, flagged",
    [
        ("input_instead_of_hidden", {"weights_2"}),
        ("mask_of_input", {"weights_1", "bias_1"}),
        ("output_relu_ignored", ALL_FOUR),
        ("mean_factor_missing", ALL_FOUR),
    ],
)
def test_each_mistake_alone_is_flagged_in_the_parameters_it_touches(example, mistake, flagged):
    report = example.relu_report(frozenset({mistake}))
    assert set(report.failed) == flagged


def test_mean_factor_mistake_is_exactly_a_factor_n_over_2(example):
    params, x, y = example.relu_data()
    right = example.relu_backprop(params, x, y, frozenset())
    wrong = example.relu_backprop(params, x, y, frozenset({"mean_factor_missing"}))
    for name in ALL_FOUR:
        np.testing.assert_allclose(wrong[name], right[name] * len(x) / 2, rtol=1e-12)


def test_corrected_relu_backprop_passes_and_matches_finite_differences(example):
    params, x, y = example.relu_data()
    assert example.relu_report(frozenset()).ok
    corrected = example.relu_backprop(params, x, y, frozenset())

    def numpy_loss(p):  # independent of the engine
        return float(np.mean((y - example.relu_forward(p, x)["output"]) ** 2))

    numeric = central_differences(numpy_loss, params)
    for name in ALL_FOUR:
        np.testing.assert_allclose(corrected[name], numeric[name], rtol=1e-5, atol=1e-8)


def test_the_toggled_backprop_with_all_mistakes_is_the_published_one(example):
    params, x, y = example.relu_data()
    published = example.published_backprop(params, x, y)
    toggled = example.relu_backprop(params, x, y, frozenset(example.MISTAKES))
    for name in ALL_FOUR:
        np.testing.assert_array_equal(published[name], toggled[name])
    with pytest.raises(ValueError, match="unknown mistakes"):
        example.relu_backprop(params, x, y, frozenset({"typo"}))


def test_published_code_needs_as_many_inputs_as_hidden_units(example):
    params, x, y = example.relu_data()
    params = dict(params, weights_1=np.ones((2, 3)))  # in = 2, hidden = 3
    with pytest.raises(ValueError):
        example.published_backprop(params, x[:, :2], y)


def test_tanh_sigmoid_closed_forms_pass_and_match_finite_differences(example):
    assert example.tanh_report().ok
    params, x, y = example.tanh_data()

    def numpy_loss(p):
        a1 = np.tanh(p["W1"] @ x + p["b1"])
        a2 = 1 / (1 + np.exp(-(p["W2"] @ a1 + p["b2"])))
        return float(-np.mean(y * np.log(a2) + (1 - y) * np.log(1 - a2)))

    numeric = central_differences(numpy_loss, params)
    closed = example.tanh_backprop(params, x, y)
    for name in params:
        np.testing.assert_allclose(closed[name], numeric[name], rtol=1e-5, atol=1e-9)


def test_corrected_relu_gradients_match_pytorch(example):
    torch = pytest.importorskip("torch")
    params, x, y = example.relu_data()
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    hidden = torch.relu(torch.tensor(x) @ p["weights_1"] + p["bias_1"])
    output = torch.relu(hidden @ p["weights_2"] + p["bias_2"])
    torch.mean((torch.tensor(y) - output) ** 2).backward()
    corrected = example.relu_backprop(params, x, y, frozenset())
    for name in ALL_FOUR:
        np.testing.assert_allclose(corrected[name], p[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_example_main_exits_zero_and_prints_the_reports(example, capsys):
    assert example.main() == 0
    out = capsys.readouterr().out
    assert out.count("FAIL: 4 of 4 gradients disagree") == 3  # published, and mistakes c and d
    assert out.count("PASS: all 4 gradients match autodiff") == 2
    assert "all verdicts as expected" in out
