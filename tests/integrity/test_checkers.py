"""gradcheck and verify_gradients never say yes to a gradient they did not verify (issue 9, pt 6).

Each tolerance is pinned at its edge: a gradient off by just under what the rule allows passes, just
over fails. The offsets are computed inside backward from the gradient it was handed, so the tests
need not know gradcheck's internal output weights. No NumPy warning may leak from the checkers.
"""

import math

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import GradcheckError, Tensor, gradcheck, verify_gradients

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

X = np.array([[0.7, -1.3], [1.9, 0.4], [-0.6, 2.2]])
EDGE = [(1e-5, 1e-3), (1e-3, 0.0), (0.0, 0.5)]  # the defaults, atol alone, rtol alone


def leaf(array) -> Tensor:
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True, name="x")


def offset_square(k, atol, rtol, sign=1.0):
    """z = x², whose backward is off by k·(atol + rtol·|true gradient|) at each element."""

    class OffsetSquare(ag.Function):
        def forward(self, x):
            self.save(x)
            return x * x

        def backward(self, g):
            (x,) = self.saved
            exact = g * 2 * x
            return (exact + sign * np.asarray(k) * (atol + rtol * np.abs(exact)),)

    return OffsetSquare


def fixed_gradient(grad):
    """z = Σx, whose backward claims the gradient ``grad`` (infinities and NaN included)."""

    class FixedGradient(ag.Function):
        def forward(self, x):
            return np.asarray(x.sum())

        def backward(self, g):
            return (g * np.asarray(grad, dtype=np.float64),)

    return FixedGradient


# ----- gradcheck: the tolerance at its edge -----------------------------------------------------
@pytest.mark.parametrize("atol, rtol", EDGE)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_gradcheck_passes_just_inside_the_tolerance(atol, rtol, sign):
    op = offset_square(0.99, atol, rtol, sign)
    assert gradcheck(lambda t: op.apply(t), leaf(X), atol=atol, rtol=rtol)


@pytest.mark.parametrize("atol, rtol", EDGE)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_gradcheck_fails_just_outside_the_tolerance_at_that_element(atol, rtol, sign):
    k = np.full(X.shape, 0.99)
    k[2, 0] = 1.01  # the only element outside
    op = offset_square(k, atol, rtol, sign)
    with pytest.raises(GradcheckError, match=r"input 0 \('x'\).* at index \(2, 0\)"):
        gradcheck(lambda t: op.apply(t), leaf(X), atol=atol, rtol=rtol)


@pytest.mark.parametrize("k", [0.99, 1.01])
@pytest.mark.parametrize("atol, rtol", EDGE)
def test_gradcheck_tolerance_rule_is_pytorchs(k, atol, rtol):
    torch = pytest.importorskip("torch")

    class TorchOffsetSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x * x).sum()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            exact = g * 2 * x
            # (g != 0): torch also checks that a zero output gradient gives zero input gradients
            return exact + k * (atol + rtol * exact.abs()) * (g != 0)

    x = torch.tensor(X, requires_grad=True)
    theirs = torch.autograd.gradcheck(
        TorchOffsetSquare.apply, (x,), atol=atol, rtol=rtol, raise_exception=False,
        check_undefined_grad=False,
    )  # fmt: skip
    op = offset_square(k, atol, rtol)
    try:
        ours = gradcheck(lambda t: op.apply(t).sum(), leaf(X), atol=atol, rtol=rtol)
    except GradcheckError:
        ours = False
    assert ours == theirs == (k < 1)


# ----- gradcheck: non-finite gradients and points -----------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_analytic_gradient_fails_naming_input_and_index(bad):
    x = leaf([0.5, -1.0, 2.0])
    op = fixed_gradient([1.0, bad, 1.0])  # right everywhere else: the true gradient is 1
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda c, t: op.apply(t), Tensor(1.0), x)
    message = str(caught.value)
    assert "input 1 ('x')" in message and "at index (1,)" in message
    assert "the analytic gradient is not finite" in message and "backward produced it" in message


def test_a_non_finite_finite_difference_fails_naming_input_and_index():
    """log at 5e-7 is finite and so is its gradient, but log(5e-7 − 1e-6) is not."""
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda t: t.log(), leaf([1.0, 5e-7, 2.0]))
    message = str(caught.value)
    assert "input 0 ('x')" in message and "at index (1,)" in message
    assert "the finite difference is not finite" in message and "fn(x ± eps)" in message


def test_both_gradients_infinite_is_still_a_failure():
    """At x = 1, f(x + eps) = inf: finite differences give +inf, and backward claims +inf too."""

    class Cliff(ag.Function):
        def forward(self, x):
            return np.where(x > 1.0, np.inf, x)

        def backward(self, g):
            return (g * np.inf,)

    with pytest.raises(GradcheckError, match="analytic gradient and the finite difference are"):
        gradcheck(lambda t: Cliff.apply(t), leaf([1.0]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fn_not_finite_at_the_point_is_a_value_error_naming_the_output_index(bad):
    scale = np.array([1.0, 1.0, bad])
    with pytest.raises(ValueError, match=r"not finite at the given inputs.* at index \(2,\)"):
        gradcheck(lambda t: t * scale, leaf([1.0, 2.0, 3.0]))


# ----- gradcheck: calls with nothing to check or bad settings -----------------------------------
@pytest.mark.parametrize(
    "inputs",
    [(), (Tensor([1.0, 2.0]),), (np.ones(2), 3.0), (Tensor(np.ones((0, 3)), requires_grad=True),)],
    ids=["no inputs", "constant tensor", "array and number", "empty"],
)
def test_nothing_to_check_is_a_value_error(inputs):
    with pytest.raises(ValueError, match="no gradient to check|no element to check"):
        gradcheck(lambda *ts: Tensor(1.0), *inputs)


@pytest.mark.parametrize("eps", [0.0, -1e-6, math.nan, math.inf, True, "1e-6", None])
def test_eps_must_be_a_finite_positive_number(eps):
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got"):
        gradcheck(lambda t: t * t, leaf([1.0]), eps=eps)


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("value", [-1e-9, math.nan, math.inf, True, False, "0.1", None, [0.1]])
def test_tolerances_must_be_finite_numbers_at_least_zero(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a finite number >= 0, got"):
        gradcheck(lambda t: t * t, leaf([1.0]), **{name: value})


@pytest.mark.parametrize("value", [0, 0.0, np.float32(1e-3), np.int64(1)])
@pytest.mark.parametrize("name", ["atol", "rtol"])
def test_zero_and_numpy_numbers_are_valid_tolerances(name, value):
    assert gradcheck(lambda t: t * t, leaf([1.0, 2.0]), **{name: value})


def test_fn_of_the_wrong_kind_is_a_type_error():
    with pytest.raises(TypeError, match="fn must be a callable"):
        gradcheck(leaf([1.0]), leaf([1.0]))
    with pytest.raises(TypeError, match="fn must return a Tensor, got float"):
        gradcheck(lambda t: 1.0, leaf([1.0]))


def test_an_input_the_output_ignores_has_zero_gradient():
    assert gradcheck(lambda x, y: x * 2.0, leaf([1.0, 2.0]), leaf([3.0]))
    # Through .data the output depends on y, but the graph does not: the zeros are wrong.
    with pytest.raises(GradcheckError, match=r"input 1.* at index \(0,\)"):
        gradcheck(lambda x, y: x * y.data, leaf([1.0, 2.0]), leaf([3.0]))


# ----- gradcheck: the caller's tensors and grad mode --------------------------------------------
def test_the_callers_tensors_are_left_as_they_were():
    x = leaf(X)
    x.grad = np.full(X.shape, 7.0)
    y = Tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    data_x, data_y, version = x.data, y.data, x._version
    assert gradcheck(lambda a, b: (a * a).sum() * b, x, y)
    calls = 0

    def breaks_midway(a, b):
        nonlocal calls
        calls += 1
        if calls == 4:  # during the finite differences, with an element nudged
            raise KeyError("stop")
        return (a * a).sum() * b

    with pytest.raises(KeyError):
        gradcheck(breaks_midway, x, y)
    assert x.data is data_x and y.data is data_y and y.dtype == np.float32
    np.testing.assert_array_equal(x.data, X)
    np.testing.assert_array_equal(y.data, np.array([0.5, 1.5], dtype=np.float32))
    np.testing.assert_array_equal(x.grad, np.full(X.shape, 7.0))
    assert y.grad is None and x._version == version


def test_grad_mode_is_on_for_the_check_and_restored_after():
    wrong = offset_square(2.0, 1e-5, 1e-3)
    with ag.no_grad():
        assert gradcheck(lambda t: t * t, leaf(X))
        with pytest.raises(GradcheckError):  # inside no_grad the gradient is still checked
            gradcheck(lambda t: wrong.apply(t), leaf(X))
        assert not ag.is_grad_enabled()
        with pytest.raises(KeyError):
            gradcheck(lambda t: {}["raises"], leaf(X))
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


# ----- verify_gradients: arguments of the wrong kind ---------------------------------------------
PARAMS = {"w": np.array([0.5, -1.5, 2.0]), "b": np.array([[0.25, -0.75]])}
SCALE = {"w": np.array([1.0, 3.0, 0.5]), "b": np.array([[2.0, 4.0]])}


def loss_fn(p):
    """L = Σ scale·p²/2 over both parameters, so dL/dp = scale·p exactly."""
    return sum((SCALE[name] * p[name] ** 2).sum() * 0.5 for name in ("w", "b"))


def exact_grads():
    return {name: SCALE[name] * PARAMS[name] for name in PARAMS}


@pytest.mark.parametrize("bad", [[("w", PARAMS["w"])], None, PARAMS["w"], "w"])
def test_params_not_a_mapping_is_a_type_error_naming_it(bad):
    with pytest.raises(TypeError, match=r"^verify_gradients: params must be a dict name -> np"):
        verify_gradients(loss_fn, bad, exact_grads())


@pytest.mark.parametrize("bad", [list(exact_grads().values()), None, ()])
def test_manual_grads_not_a_mapping_is_a_type_error_naming_it(bad):
    with pytest.raises(TypeError, match=r"manual_grads must be a dict name -> np\.ndarray"):
        verify_gradients(loss_fn, PARAMS, bad)


def test_loss_fn_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        verify_gradients(PARAMS, loss_fn, exact_grads())  # the arguments swapped


@pytest.mark.parametrize("bad", ["abc", None, [1.0, [2.0, 3.0]], np.array([1 + 2j, 3j, 0j])])
def test_a_parameter_that_is_not_numeric_is_a_type_error_naming_its_key(bad):
    with pytest.raises(TypeError, match=r"params\['w'\] is not a numeric array"):
        verify_gradients(loss_fn, dict(PARAMS, w=bad), exact_grads())


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("value", [-1e-9, math.nan, math.inf, True, "0.1", None])
def test_verify_tolerances_must_be_finite_numbers_at_least_zero(name, value):
    with pytest.raises(ValueError, match=rf"verify_gradients: {name} must be a finite number"):
        verify_gradients(loss_fn, PARAMS, exact_grads(), **{name: value})


# ----- verify_gradients: the tolerance at its edge ----------------------------------------------
@pytest.mark.parametrize("atol, rtol", [(1e-6, 1e-4), (1e-3, 0.0), (0.0, 0.5)])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_verify_tolerance_edge_is_atol_plus_rtol_times_autodiff(atol, rtol, sign):
    exact = exact_grads()

    def shifted(k):
        return {n: g + sign * k * (atol + rtol * np.abs(g)) for n, g in exact.items()}

    assert verify_gradients(loss_fn, PARAMS, shifted(0.999), atol=atol, rtol=rtol).ok
    outside = shifted(0.999)
    outside["b"][0, 1] = shifted(1.001)["b"][0, 1]
    report = verify_gradients(loss_fn, PARAMS, outside, atol=atol, rtol=rtol)
    assert report.failed == ["b"] and report["b"].worst_index == (0, 1)


# ----- verify_gradients: infinities and NaN ------------------------------------------------------
def infinite_report(autodiff, manual):
    op = fixed_gradient(autodiff)
    return verify_gradients(lambda p: op.apply(p["g"]), {"g": np.ones(len(autodiff))}, manual)


def test_the_same_infinity_on_both_sides_agrees():
    grad = [1.0, np.inf, -np.inf]
    report = infinite_report(grad, {"g": np.array(grad)})
    assert report.ok
    assert report["g"].max_abs_err == 0.0 and report["g"].max_rel_err == 0.0


@pytest.mark.parametrize(
    "autodiff, manual",
    [
        ([2.0, np.inf, 3.0], [2.0, -np.inf, 3.0]),  # opposite infinities: passed before the fix
        ([2.0, -np.inf, 3.0], [2.0, np.inf, 3.0]),
        ([2.0, np.inf, 3.0], [2.0, 1e308, 3.0]),
        ([2.0, 1.0, 3.0], [2.0, np.inf, 3.0]),
        ([2.0, np.nan, 3.0], [2.0, np.nan, 3.0]),  # a NaN gradient is never verified
        ([2.0, np.nan, 3.0], [2.0, 1.0, 3.0]),
        ([2.0, 1.0, 3.0], [2.0, np.nan, 3.0]),
        ([2.0, np.inf, 3.0], [2.0, np.nan, 3.0]),
        ([2.0, np.nan, 3.0], [1e9, 1.0, 3.0]),  # the NaN, not the larger finite miss, is worst
    ],
)
def test_any_other_non_finite_element_fails_and_is_the_worst(autodiff, manual):
    report = infinite_report(autodiff, {"g": np.array(manual)})
    row = report["g"]
    assert not row.ok and row.worst_index == (1,)
    np.testing.assert_array_equal([row.autodiff_value, row.manual_value], [autodiff[1], manual[1]])
    line = next(line for line in str(report).splitlines() if line.startswith("g "))
    assert "FAIL" in line and f"at [1]: autodiff {autodiff[1]:.6g}, manual {manual[1]:.6g}" in line


def test_errors_of_non_finite_rows():
    opposite = infinite_report([1.0, np.inf], {"g": np.array([1.0, -np.inf])})["g"]
    assert opposite.max_abs_err == math.inf and opposite.max_rel_err == math.inf
    versus_finite = infinite_report([1.0, np.inf], {"g": np.array([1.0, 5.0])})["g"]
    assert versus_finite.max_abs_err == math.inf and versus_finite.max_rel_err == math.inf
    with_nan = infinite_report([1.0, np.nan], {"g": np.array([1.0, 5.0])})["g"]
    assert math.isnan(with_nan.max_abs_err) and math.isnan(with_nan.max_rel_err)
