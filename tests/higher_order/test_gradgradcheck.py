"""Second derivatives of every operation against finite differences of the first (issue 11).

``gradgradcheck`` builds ``s = Σ v · ∂(Σ fn·w)/∂x`` with ``grad(..., create_graph=True)`` and
compares ∂s/∂x and ∂s/∂w with central differences of ``s``: the first checks each operation's
backward as a function of x, the second as a function of the incoming gradient. Points stay inside
each operation's domain and away from its kinks (abs/relu/max at non-zero, non-tied values;
sqrt/log and pow's bases positive). Each case also runs squared, so that the gradient reaching a
linear operation's backward depends on x too. Then: it fails for Functions whose backward is right
to first order only, and its errors mirror gradcheck's.
"""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from graph_walk import recorded_operations
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops_gradcheck import ANY, BINARY, leaf, values
from test_ops_gradcheck import AWAY_FROM_ZERO as AWAY
from test_ops_gradcheck import UNARY as FIRST_ORDER_UNARY

import autograd_lite as ag
import autograd_lite.ops
from autograd_lite import Function, GradcheckError, Tensor, gradcheck, gradgradcheck, no_grad
from autograd_lite.ops.shape import IndexAdd

FAST = settings(max_examples=6, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def sample(domain, shape, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if domain == AWAY:
        return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(*domain, shape)


def distinct(shape, seed: int = 0) -> np.ndarray:
    """Values 0.3 apart in a random order: no two tie, so max has a derivative everywhere."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(np.arange(n) * 0.3 - 0.15 * n).reshape(shape)


# ----- element-wise, one input, shapes from hypothesis -------------------------------------------

# The first-order cases (tests/test_ops_gradcheck.py), and the constant powers, whose second
# derivative is where a masked formula would go wrong.
UNARY = {**FIRST_ORDER_UNARY, "pow 0": (lambda x: x**0, ANY), "pow 1": (lambda x: x**1, ANY)}


@pytest.mark.parametrize("name", UNARY)
@FAST
@given(data=st.data())
def test_unary(name, data):
    fn, domain = UNARY[name]
    x = data.draw(values(domain, data.draw(SHAPES)))
    assert gradgradcheck(fn, leaf(x))


@pytest.mark.parametrize("name", UNARY)
def test_unary_on_a_zero_dimensional_tensor(name):
    """0-d: NumPy's functions return a NumPy scalar there, not the 0-d array the output holds."""
    fn, domain = UNARY[name]
    assert gradgradcheck(fn, leaf(sample(domain, (), 3)))


# ----- element-wise, two inputs, broadcasting shapes from hypothesis ------------------------------


@pytest.mark.parametrize("name", BINARY)
@FAST
@given(data=st.data())
def test_binary_with_broadcasting(name, data):
    fn, domain_a, domain_b = BINARY[name]
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = data.draw(values(domain_a, shapes.input_shapes[0]))
    b = data.draw(values(domain_b, shapes.input_shapes[1]))
    assert gradgradcheck(fn, leaf(a), leaf(b))


def test_pow_at_exponent_zero_differentiates_the_formula_not_a_constant():
    """∂(xʸ)/∂x = y·xʸ⁻¹ is 0 at y = 0, and stays the formula there (only x = y = 0 is special),
    so ∂²(xʸ)/∂x∂y at y = 0 is x⁻¹, the finite-difference value. (PyTorch masks the whole of
    y = 0 and gives 0 for this mixed derivative: the one place where they differ.)"""
    x, y = leaf(1.5), leaf(0.0)
    (gx,) = ag.grad(x**y, x, create_graph=True)
    (gxy,) = ag.grad(gx, y)
    assert gx.item() == 0.0
    assert gxy.item() == pytest.approx(1 / 1.5, rel=1e-12)
    assert gradgradcheck(lambda a, b: a**b, leaf([0.5, 1.5, 2.0]), leaf([0.0, 0.0, 1.0]))


@pytest.mark.parametrize("name", BINARY)
def test_binary_with_a_constant_on_either_side(name):
    fn, domain_a, domain_b = BINARY[name]
    a, b = sample(domain_a, (2, 3), 1), sample(domain_b, (3,), 2)
    assert gradgradcheck(lambda x: fn(x, b), leaf(a))
    assert gradgradcheck(lambda y: fn(a, y), leaf(b))


# ----- every other operation, explicit cases -----------------------------------------------------


@dataclass
class Case:
    fn: Callable[..., Tensor]
    inputs: list[np.ndarray]


MASK = np.array([[True, False, True], [False, False, True]])
CASES = {
    "matmul vector @ vector": Case(lambda a, b: a @ b, [sample(ANY, (3,)), sample(ANY, (3,), 1)]),
    "matmul matrix @ vector": Case(lambda a, b: a @ b, [sample(ANY, (2, 3)), sample(ANY, (3,), 1)]),
    "matmul vector @ matrix": Case(lambda a, b: a @ b, [sample(ANY, (3,)), sample(ANY, (3, 2), 1)]),
    "matmul matrix @ matrix": Case(
        lambda a, b: a @ b, [sample(ANY, (2, 3)), sample(ANY, (3, 4), 1)]
    ),
    "matmul broadcast stacks": Case(
        lambda a, b: a @ b, [sample(ANY, (2, 1, 2, 3)), sample(ANY, (3, 3, 2), 1)]
    ),
    "matmul x @ w.T": Case(lambda x, w: x @ w.T, [sample(ANY, (4, 3)), sample(ANY, (2, 3), 1)]),
    "sum all": Case(lambda x: x.sum(), [sample(ANY, (2, 3, 2))]),
    "sum axis 1": Case(lambda x: x.sum(axis=1), [sample(ANY, (2, 3, 2))]),
    "sum axes (0, 2) keepdims": Case(
        lambda x: x.sum(axis=(0, 2), keepdims=True), [sample(ANY, (2, 3, 2))]
    ),
    "mean all": Case(lambda x: x.mean(), [sample(ANY, (2, 3, 2))]),
    "mean axis -1": Case(lambda x: x.mean(axis=-1), [sample(ANY, (2, 3, 2))]),
    "mean axes (0, 1) keepdims": Case(
        lambda x: x.mean(axis=(0, 1), keepdims=True), [sample(ANY, (2, 3, 2))]
    ),
    "max all": Case(lambda x: x.max(), [distinct((2, 3, 2))]),
    "max axis 1": Case(lambda x: x.max(axis=1), [distinct((2, 3, 2))]),
    "max axes (0, 2) keepdims": Case(
        lambda x: x.max(axis=(0, 2), keepdims=True), [distinct((2, 3, 2))]
    ),
    "softmax axis -1": Case(lambda x: x.softmax(axis=-1), [sample(ANY, (2, 3, 2))]),
    "softmax axis 0": Case(lambda x: x.softmax(axis=0), [sample(ANY, (3, 2))]),
    "log_softmax axis -1": Case(lambda x: x.log_softmax(axis=-1), [sample(ANY, (2, 4))]),
    "log_softmax axis 1": Case(lambda x: x.log_softmax(axis=1), [sample(ANY, (2, 3, 2))]),
    "reshape": Case(lambda x: x.reshape(3, 4), [sample(ANY, (2, 3, 2))]),
    "reshape -1": Case(lambda x: x.reshape(-1), [sample(ANY, (2, 3))]),
    "transpose": Case(lambda x: x.T, [sample(ANY, (2, 3))]),
    "transpose axes": Case(lambda x: x.transpose(-1, 0, 1), [sample(ANY, (2, 3, 2))]),
    "swapaxes": Case(lambda x: x.swapaxes(0, 2), [sample(ANY, (2, 3, 2))]),
    "index int": Case(lambda x: x[1], [sample(ANY, (3, 2))]),
    "index slices": Case(lambda x: x[:, 1:, ::2], [sample(ANY, (2, 3, 3))]),
    "index repeated ints": Case(lambda x: x[[0, 2, 2, 0]], [sample(ANY, (3, 2))]),
    "index int arrays": Case(lambda x: x[[0, 1, 1], [2, 2, 0]], [sample(ANY, (2, 3))]),
    "index boolean mask": Case(lambda x: x[MASK], [sample(ANY, (2, 3))]),
    "index_add (indexing's adjoint)": Case(
        lambda g: IndexAdd.apply(g, shape=(4, 2), index=(np.array([0, 3, 3]),)),
        [sample(ANY, (3, 2))],
    ),
    "broadcast_to": Case(lambda x: x.broadcast_to(2, 3, 4), [sample(ANY, (3, 1))]),
    "astype float64": Case(lambda x: x.astype(np.float64), [sample(ANY, (2, 3))]),
    "concatenate axis 0": Case(
        lambda a, b, c: ag.concatenate([a, b, c]),
        [sample(ANY, (1, 3)), sample(ANY, (2, 3), 1), sample(ANY, (3, 3), 2)],
    ),
    "concatenate axis -1": Case(
        lambda a, b: ag.concatenate([a, b], axis=-1), [sample(ANY, (2, 1)), sample(ANY, (2, 3), 1)]
    ),
    "stack axis 0": Case(lambda a, b: ag.stack([a, b]), [sample(ANY, (2, 3)), sample(ANY, (2, 3))]),
    "stack axis -1": Case(
        lambda a, b: ag.stack([a, b], axis=-1), [sample(ANY, (3,)), sample(ANY, (3,), 1)]
    ),
    "where": Case(lambda a, b: ag.where(MASK, a, b), [sample(ANY, (2, 3)), sample(ANY, (3,), 1)]),
}


@pytest.mark.parametrize("squared", [False, True], ids=["as is", "squared"])
@pytest.mark.parametrize("name", CASES)
def test_operation(name, squared):
    case = CASES[name]
    fn = (lambda *xs: case.fn(*xs) ** 2) if squared else case.fn
    assert gradgradcheck(fn, *[leaf(x) for x in case.inputs])


def test_astype_through_float32_with_a_step_and_tolerance_for_float32():
    """A float32 value in the middle rounds at ~6e-8 relative: eps = 1e-6 would difference the
    rounding, not the function, so the step is 1e-3 and the tolerance float32's."""
    x = leaf([-1.5, -0.3, 0.4, 1.2])
    fn = lambda x: (x.astype(np.float32) ** 3).astype(np.float64)  # noqa: E731
    assert gradgradcheck(fn, x, eps=1e-3, atol=1e-3, rtol=1e-3)


# The original operation modules; tests/ops/test_new_ops_gradcheck.py covers the later ones
# (its NEW_MODULES) in the same way, and the test below checks that no module is left out.
MODULES_COVERED_HERE = {"elementwise", "linalg", "reduce", "shape"}


def test_every_operation_module_is_covered_by_one_of_the_two_reach_tests():
    path = Path(__file__).resolve().parents[1] / "ops" / "test_new_ops_gradcheck.py"
    new_modules = set(re.findall(r'^    "(\w+)",$', path.read_text(), re.MULTILINE))
    modules = {m.name for m in pkgutil.iter_modules(autograd_lite.ops.__path__)}
    assert modules == MODULES_COVERED_HERE | new_modules, "add the new module to one of the lists"


def test_the_cases_reach_every_operation_the_library_has():
    """A new operation without a second-derivative check fails here; the operations are found
    from the Function subclasses in autograd_lite.ops, and a case counts only for operations
    that really are in its graph or in the graph of its first derivative."""
    pending, defined = list(Function.__subclasses__()), set()
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.rpartition(".")[2] in MODULES_COVERED_HERE:
            defined.add(cls.__name__)
    reached = set()
    all_cases = [*CASES.values()]
    all_cases += [Case(fn, [sample(d, (2, 3))]) for fn, d in UNARY.values()]
    all_cases += [Case(fn, [sample(a, (2, 3)), sample(b, (3,))]) for fn, a, b in BINARY.values()]
    for case in all_cases:
        xs = [leaf(x) for x in case.inputs]
        out = case.fn(*xs)
        w = Tensor(np.ones(out.shape), requires_grad=True)
        firsts = ag.grad(out, xs, grad_outputs=w, create_graph=True, allow_unused=True)
        reached |= recorded_operations(out, *firsts)
    assert len(defined) >= 25
    assert defined <= reached, f"no second-derivative case reaches {sorted(defined - reached)}"


# ----- Functions whose backward is right to first order only ------------------------------------


class Cube(Function):
    """z = x³, ∂z/∂x = 3x², written as a user would: x saved, so it is a Tensor in a graph."""

    def forward(self, x):
        self.save(x)
        return x**3

    def backward(self, g):
        (x,) = self.saved
        return (g * 3 * x * x,)


class CubeWithAConstant(Function):
    """3x² written as 3·x·x₀ with x₀ a private copy: right in value, but x₀ is a constant to the
    graph, so the second derivative comes out as 3x instead of 6x: half the true value."""

    def forward(self, x):
        self.save(x)
        self.x0 = x.copy()
        return x**3

    def backward(self, g):
        (x,) = self.saved
        return (g * 3 * x * self.x0,)


class SquareDetachingTheGradient(Function):
    """2x·g, with g detached: right as a function of x, wrong as a function of g."""

    def forward(self, x):
        self.save(x)
        return x * x

    def backward(self, g):
        (x,) = self.saved
        return ((g.detach() if isinstance(g, Tensor) else g) * 2 * x,)


X_ONE_LARGE = [0.1, 2.0, -0.2]  # the largest error is at index 1 whatever the random weights


def message_numbers(text: str) -> tuple[float, float]:
    found = re.search(r"is (\S+) but finite differences of the first derivative give (\S+);", text)
    assert found, text
    return float(found.group(1)), float(found.group(2))


def test_a_correct_custom_function_passes_both_checks():
    assert gradcheck(Cube.apply, leaf(X_ONE_LARGE))
    assert gradgradcheck(Cube.apply, leaf(X_ONE_LARGE))


def test_a_backward_with_a_constant_where_x_belongs_passes_gradcheck_but_not_gradgradcheck():
    assert gradcheck(CubeWithAConstant.apply, leaf(X_ONE_LARGE))
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(CubeWithAConstant.apply, leaf(X_ONE_LARGE))
    text = str(caught.value)
    assert text.startswith("gradgradcheck: input 0 of shape (3,): at index (1,) the analytic ")
    analytic, numeric = message_numbers(text)
    assert analytic == pytest.approx(numeric / 2, rel=1e-6)  # 3x instead of 6x
    assert "atol=1e-05, rtol=0.001" in text


def test_the_tolerance_rule_is_pytorchs_with_the_finite_difference_as_reference():
    """The analytic value is half the numeric one: |a − n| = |n|/2 passes when rtol·|n| covers
    it (rtol ≥ 0.5 with n as reference; with a as reference it would take rtol ≥ 1)."""
    assert gradgradcheck(CubeWithAConstant.apply, leaf(X_ONE_LARGE), atol=0.0, rtol=0.501)
    with pytest.raises(GradcheckError, match=r"at index \(1,\)"):
        gradgradcheck(CubeWithAConstant.apply, leaf(X_ONE_LARGE), atol=0.0, rtol=0.499)


def test_a_backward_that_detaches_the_gradient_fails_on_grad_outputs():
    assert gradcheck(SquareDetachingTheGradient.apply, leaf(X_ONE_LARGE))
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(SquareDetachingTheGradient.apply, leaf(X_ONE_LARGE))
    text = str(caught.value)
    assert text.startswith("gradgradcheck: grad_outputs (fn's output weights) of shape (3,)")
    assert "at index (1,)" in text
    analytic, numeric = message_numbers(text)
    assert analytic == 0.0 and numeric > 2 * 2.0 * 0.5 * 0.5 - 1e-6  # 2·x·v ≥ 2·2·0.5 there


# ----- everything else behaves as gradcheck does ------------------------------------------------


def test_a_name_is_part_of_the_message():
    x = Tensor(X_ONE_LARGE, requires_grad=True, name="x")
    with pytest.raises(GradcheckError, match=r"input 0 \('x'\) of shape \(3,\)"):
        gradgradcheck(CubeWithAConstant.apply, x)


def test_the_input_position_counts_constants_too():
    with pytest.raises(GradcheckError, match=r"^gradgradcheck: input 1 of shape"):
        gradgradcheck(lambda c, x: CubeWithAConstant.apply(x) * c, 2.0, leaf(X_ONE_LARGE))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # the analytic pass at x = 0
def test_a_first_derivative_not_finite_at_the_point_is_a_value_error_naming_where():
    """√x at 0 is finite (0) but its derivative is not: there is no second derivative there, as
    gradcheck has no first derivative where fn itself is not finite."""
    with pytest.raises(ValueError) as caught:
        gradgradcheck(lambda c, x: x.sqrt(), 1.0, leaf([1.0, 0.0, 4.0]))
    text = str(caught.value)
    assert text.startswith("gradgradcheck: the first derivative is not finite")
    assert "input 1 of shape (3,) it is inf at index (1,)" in text


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_a_non_finite_second_derivative_is_an_error_at_that_element():
    """x^1.5 at 0: the value and the first derivative (1.5·√x) are 0, the second is infinite."""
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(lambda x: x**1.5, leaf([1.0, 0.0, 4.0]))
    text = str(caught.value)
    assert text.startswith("gradgradcheck: input 0 of shape (3,): at index (1,) the analytic ")
    assert "second derivative and the finite difference are not finite" in text


@pytest.mark.parametrize("eps", [0, -1e-6, float("nan"), float("inf"), True, "1e-6"])
def test_eps_must_be_a_finite_positive_number(eps):
    with pytest.raises(ValueError, match=r"^gradgradcheck: eps must be a finite number > 0"):
        gradgradcheck(Cube.apply, leaf([1.0]), eps=eps)


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("value", [-1e-9, float("nan"), float("inf"), None])
def test_tolerances_must_be_finite_numbers_at_least_zero(name, value):
    with pytest.raises(ValueError, match=rf"^gradgradcheck: {name} must be a finite number >= 0"):
        gradgradcheck(Cube.apply, leaf([1.0]), **{name: value})


@pytest.mark.parametrize(
    "inputs", [(), (np.ones(2),), (Tensor([1.0]),)], ids=["none", "array", "no grad"]
)
def test_nothing_to_check_is_a_value_error(inputs):
    with pytest.raises(ValueError, match="^gradgradcheck: no input requires grad"):
        gradgradcheck(lambda *xs: Tensor(1.0), *inputs)


def test_only_empty_inputs_is_a_value_error():
    with pytest.raises(ValueError, match="^gradgradcheck: every input that requires grad is empty"):
        gradgradcheck(lambda x: x * 2, leaf(np.zeros((0, 3))))


def test_fn_of_the_wrong_kind_or_returning_the_wrong_kind_is_a_type_error():
    with pytest.raises(TypeError, match="^gradgradcheck: fn must be a callable"):
        gradgradcheck("x ** 2", leaf([1.0]))
    with pytest.raises(TypeError, match="^gradgradcheck: fn must return a Tensor, got ndarray"):
        gradgradcheck(lambda x: x.data * 2, leaf([1.0]))


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_fn_not_finite_at_the_point_is_a_value_error():
    with pytest.raises(ValueError, match=r"^gradgradcheck: fn is not finite .* at index \(1,\)"):
        gradgradcheck(lambda x: x.log(), leaf([1.0, -1.0]))


def test_inputs_the_output_ignores_or_uses_linearly_have_zero_second_derivative():
    assert gradgradcheck(lambda x, y: x * 3.0, leaf([1.0, 2.0]), leaf([5.0]))
    assert gradgradcheck(lambda x: Tensor([1.0, 2.0]), leaf([1.0]))  # no graph at all


def test_the_callers_tensors_are_left_as_they_were():
    x = Tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    before = x.data.copy()
    assert gradgradcheck(lambda t: t.tanh() * t, x)
    assert x.grad is None and x._version == 0 and x.data.dtype == np.float32
    np.testing.assert_array_equal(x.data, before)


def test_grad_mode_is_on_for_the_check_and_restored_after():
    with no_grad():
        assert gradgradcheck(lambda t: t.sigmoid(), leaf([0.3, -0.7]))
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
