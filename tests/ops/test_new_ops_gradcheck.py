"""The operations of issue 13 against central differences in float64: first derivatives
(``gradcheck``) over shapes from hypothesis and broadcasting pairs, second derivatives
(``gradgradcheck``, as is and squared, so that the gradient reaching a linear operation's
backward depends on x too). Values are drawn away from each operation's kinks (new_ops_cases).
"""

from __future__ import annotations

import numpy as np
import pytest
from graph_walk import recorded_operations
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from new_ops_cases import (
    BINARY,
    BROADCAST_PAIRS,
    EXPLICIT,
    REDUCTION_AXES,
    REDUCTIONS,
    UNARY,
    distinct,
    leaf,
    sample,
)

import autograd_lite as ag
import autograd_lite.ops
from autograd_lite import Function, Tensor, gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
FEW = settings(max_examples=5, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
SEEDS = st.integers(0, 2**32 - 1)  # hypothesis picks shapes; values come from a seeded generator


def squared(fn):
    return lambda *xs: fn(*xs) ** 2


@pytest.mark.parametrize("name", UNARY)
@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_unary_first_derivative(name, shape, seed):
    fn, _, domain = UNARY[name]
    assert gradcheck(fn, leaf(sample(domain, shape, np.random.default_rng(seed))))


@pytest.mark.parametrize("shape", [(), (2, 3)], ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_second_derivative(name, shape):
    fn, _, domain = UNARY[name]
    x = leaf(sample(domain, shape, np.random.default_rng(7)))
    assert gradgradcheck(fn, x)
    assert gradgradcheck(squared(fn), x)


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_with_broadcasting(name, shapes):
    fn, _, domain_a, domain_b = BINARY[name]
    rng = np.random.default_rng(3)
    a, b = leaf(sample(domain_a, shapes[0], rng)), leaf(sample(domain_b, shapes[1], rng))
    assert gradcheck(fn, a, b)
    assert gradgradcheck(fn, a, b)
    assert gradgradcheck(squared(fn), a, b)


@pytest.mark.parametrize("name", BINARY)
def test_binary_with_a_constant_on_either_side(name):
    fn, _, domain_a, domain_b = BINARY[name]
    rng = np.random.default_rng(4)
    a, b = sample(domain_a, (2, 3), rng), sample(domain_b, (3,), rng)
    assert gradgradcheck(lambda x: fn(x, b), leaf(a))
    assert gradgradcheck(lambda x: fn(x, 0.25), leaf(a))
    assert gradgradcheck(lambda y: fn(Tensor(a), y), leaf(b))  # a constant Tensor on the left


@st.composite
def shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    ndim = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            hnp.valid_tuple_axes(ndim, min_size=1),
        )
    )
    return shape, axis


@pytest.mark.parametrize("name", REDUCTIONS)
@FEW
@given(shape_axis=shape_and_axis(), keepdims=st.booleans(), seed=SEEDS)
def test_reduction_first_derivative(name, shape_axis, keepdims, seed):
    fn, _, needs_distinct = REDUCTIONS[name]
    shape, axis = shape_axis
    rng = np.random.default_rng(seed)
    x = distinct(shape, rng) if needs_distinct else rng.uniform(-2, 2, shape)
    assert gradcheck(lambda t: fn(t, axis, keepdims), leaf(x))


@pytest.mark.parametrize("axis", REDUCTION_AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_second_derivative(name, axis):
    fn, _, needs_distinct = REDUCTIONS[name]
    rng = np.random.default_rng(5)
    x = leaf(distinct((2, 3, 2), rng) if needs_distinct else rng.uniform(-2, 2, (2, 3, 2)))
    assert gradgradcheck(lambda t: fn(t, axis, False), x)
    assert gradgradcheck(squared(lambda t: fn(t, axis, True)), x)


@pytest.mark.parametrize("name", EXPLICIT)
def test_explicit_case(name):
    case = EXPLICIT[name]
    rng = np.random.default_rng(6)
    xs = [leaf(sample(domain, shape, rng)) for domain, shape in case.inputs]
    assert gradcheck(case.ours, *xs)
    assert gradgradcheck(case.ours, *xs)
    assert gradgradcheck(squared(case.ours), *xs)


def test_prod_third_derivative_through_the_recorded_products():
    """∂³(x₀x₁x₂x₃)/∂x₀∂x₁∂x₂ = x₃, also where other elements are 0: no division anywhere."""
    x = leaf([0.0, 0.0, 2.0, 3.0])
    (g,) = ag.grad(x.prod(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0, 0.0])  # two zeros: Π of others is 0
    (h0,) = ag.grad(g[1], x, create_graph=True)  # ∂²/∂x₁∂xⱼ = Π over the other two
    np.testing.assert_array_equal(h0.data, [6.0, 0.0, 0.0, 0.0])
    (t,) = ag.grad(h0[0], x)  # ∂³/∂x₁∂x₀∂xⱼ
    np.testing.assert_array_equal(t.data, [0.0, 0.0, 3.0, 2.0])


NEW_MODULES = {
    "activations_piecewise",
    "activations_smooth",
    "exp_log",
    "piecewise",
    "reductions_more",
    "shape_more",
    "special",
}


def test_the_cases_reach_every_new_operation_to_second_order():
    """A new operation without a case here fails: the classes are found from the modules, and
    an operation counts only if it is in a case's graph or in its first derivative's graph."""
    defined = {
        cls.__name__
        for name in NEW_MODULES
        for cls in vars(getattr(autograd_lite.ops, name)).values()
        if isinstance(cls, type) and issubclass(cls, Function) and cls.__module__.endswith(name)
    }
    rng = np.random.default_rng(8)
    graphs = [(fn, [sample(d, (2, 3), rng)]) for fn, _, d in UNARY.values()]
    graphs += [
        (fn, [sample(a, (3,), rng), sample(b, (3,), rng)]) for fn, _, a, b in BINARY.values()
    ]
    graphs += [
        (lambda t, f=f: f(t, 1, False), [rng.uniform(-2, 2, (2, 3))])
        for f, _, _ in REDUCTIONS.values()
    ]
    graphs += [(c.ours, [sample(d, s, rng) for d, s in c.inputs]) for c in EXPLICIT.values()]
    reached = set()
    for fn, inputs in graphs:
        xs = [leaf(x) for x in inputs]
        out = fn(*xs)
        firsts = ag.grad(
            out, xs, grad_outputs=np.ones(out.shape), create_graph=True, allow_unused=True
        )
        reached |= recorded_operations(out, *firsts)
    assert len(defined) >= 35
    assert defined <= reached, f"no case reaches {sorted(defined - reached)}"
