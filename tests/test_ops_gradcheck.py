"""Every operation's gradient against central finite differences in float64 (``gradcheck``).

Shapes and values come from hypothesis where the space is large (element-wise operations,
broadcasting, reductions), from explicit lists where a few cases say it all (matmul, indexing).
Values stay inside each operation's domain and away from its kinks.
"""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
from autograd_lite import Tensor, gradcheck

FAST = settings(max_examples=25, deadline=None)
ANY = (-2.0, 2.0)
POSITIVE = (0.2, 3.0)
AWAY_FROM_ZERO = "away"  # |x| in [0.1, 2], either sign: clear of the kinks of abs, relu, 1/x


def leaf(array) -> Tensor:
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def values(domain, shape):
    """A hypothesis strategy for float64 arrays of ``shape`` inside ``domain``."""
    if domain == AWAY_FROM_ZERO:
        elements = st.one_of(st.floats(-2.0, -0.1), st.floats(0.1, 2.0))
    else:
        elements = st.floats(*domain)
    return hnp.arrays(np.float64, shape, elements=elements)


def sample(rng, domain, shape):
    """The same domains for explicit cases, from a NumPy generator."""
    if domain == AWAY_FROM_ZERO:
        return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(*domain, shape)


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)

# ----- element-wise, one input ------------------------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, ANY),
    "exp": (lambda x: x.exp(), ANY),
    "log": (lambda x: x.log(), POSITIVE),
    "sqrt": (lambda x: x.sqrt(), POSITIVE),
    "abs": (lambda x: x.abs(), AWAY_FROM_ZERO),
    "tanh": (lambda x: x.tanh(), (-3.0, 3.0)),
    "sigmoid": (lambda x: x.sigmoid(), (-5.0, 5.0)),
    "relu": (lambda x: x.relu(), AWAY_FROM_ZERO),
    "pow 2": (lambda x: x**2, ANY),
    "pow 3": (lambda x: x**3, ANY),
    "pow -2": (lambda x: x**-2, AWAY_FROM_ZERO),
    "pow 0.5": (lambda x: x**0.5, POSITIVE),
    "pow -1.5": (lambda x: x**-1.5, POSITIVE),
    "rpow number": (lambda x: 2.5**x, ANY),
    "rpow array": (lambda x: np.linspace(0.5, 3.0, x.size).reshape(x.shape) ** x, ANY),
}


@pytest.mark.parametrize("name", UNARY)
@FAST
@given(data=st.data())
def test_unary(name, data):
    fn, domain = UNARY[name]
    x = data.draw(values(domain, data.draw(SHAPES)))
    assert gradcheck(fn, leaf(x))


# ----- element-wise, two inputs, with broadcasting ---------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, ANY, ANY),
    "sub": (lambda a, b: a - b, ANY, ANY),
    "mul": (lambda a, b: a * b, ANY, ANY),
    "div": (lambda a, b: a / b, ANY, AWAY_FROM_ZERO),
    "pow": (lambda a, b: a**b, POSITIVE, ANY),
}

BROADCAST_PAIRS = [
    ((3, 1), (4,)),
    ((4,), (3, 1)),
    ((2, 3, 4), (3, 1)),
    ((3, 1), (2, 3, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((), ()),
    ((2, 1, 4), (1, 3, 1)),
]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_broadcasting(name, shapes, rng):
    fn, domain_a, domain_b = BINARY[name]
    a = sample(rng, domain_a, shapes[0])
    b = sample(rng, domain_b, shapes[1])
    assert gradcheck(fn, leaf(a), leaf(b))


@pytest.mark.parametrize("name", BINARY)
@FAST
@given(data=st.data())
def test_binary_hypothesis(name, data):
    fn, domain_a, domain_b = BINARY[name]
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = data.draw(values(domain_a, shapes.input_shapes[0]))
    b = data.draw(values(domain_b, shapes.input_shapes[1]))
    assert gradcheck(fn, leaf(a), leaf(b))


@pytest.mark.parametrize("name", BINARY)
def test_binary_with_constant_on_either_side(name, rng):
    """A number or an array on one side is a constant; the tensor side still gets its gradient."""
    fn, domain_a, domain_b = BINARY[name]
    a = sample(rng, domain_a, (3, 2))
    b = sample(rng, domain_b, (2,))
    number_b = float(sample(rng, domain_b, ()))
    assert gradcheck(lambda t: fn(t, b), leaf(a))
    assert gradcheck(lambda t: fn(a, t), leaf(b))
    assert gradcheck(lambda t: fn(t, number_b), leaf(a))
    assert gradcheck(lambda t: fn(1.5, t), leaf(b))


def test_pow_tensor_exponent_at_zero_base_gives_finite_gradients():
    """∂(xʸ)/∂y = xʸ ln x is taken as 0 at x = 0 (its limit for y > 0), not NaN."""
    base = Tensor([0.0, 2.0], requires_grad=True)
    exponent = Tensor([2.0, 3.0], requires_grad=True)
    (base**exponent).sum().backward()
    np.testing.assert_allclose(exponent.grad, [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(base.grad, [0.0, 12.0])


# ----- reductions -------------------------------------------------------------------------------


@st.composite
def axis_and_shape(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, max_side=4))
    ndim = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            hnp.valid_tuple_axes(ndim, min_size=1),  # negative axes included
        )
    )
    return shape, axis


def distinct_values(data, shape):
    """Values 0.25 apart in a random order: no ties, even after a finite-difference nudge."""
    n = int(np.prod(shape))
    order = data.draw(st.permutations(range(n)))
    return (np.array(order, dtype=np.float64) * 0.25 - n / 8).reshape(shape)


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@FAST
@given(data=st.data(), keepdims=st.booleans())
def test_reductions(reduction, data, keepdims):
    shape, axis = data.draw(axis_and_shape())
    x = distinct_values(data, shape)
    out_shape = getattr(np, reduction)(x, axis=axis, keepdims=keepdims).shape

    def fn(t):
        out = getattr(t, reduction)(axis=axis, keepdims=keepdims)
        assert out.shape == out_shape
        return out

    assert gradcheck(fn, leaf(x))


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
def test_reductions_of_a_0d_tensor(reduction):
    assert gradcheck(lambda t: getattr(t, reduction)() * 3.0, leaf(1.25))


def test_max_ties_share_the_gradient_equally():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.zero_grad()
    x.max().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@FAST
@given(data=st.data())
def test_softmax_family(op, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(values((-3.0, 3.0), shape))
    assert gradcheck(lambda t: getattr(t, op)(axis=axis), leaf(x))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_family_default_axis_is_last(op, rng):
    x = rng.normal(size=(2, 3, 4))
    out = getattr(Tensor(x), op)()
    shifted = x - x.max(axis=-1, keepdims=True)
    log_s = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(out.data, log_s if op == "log_softmax" else np.exp(log_s))
    assert gradcheck(lambda t: getattr(t, op)(), leaf(x))


# ----- shape operations ---------------------------------------------------------------------


@pytest.mark.parametrize("new_shape", [(4, 6), (24,), (-1,), (2, -1, 3), (1, 24, 1)], ids=str)
def test_reshape(new_shape, rng):
    assert gradcheck(lambda t: t.reshape(*new_shape), leaf(rng.normal(size=(2, 3, 4))))
    assert gradcheck(lambda t: t.reshape(new_shape), leaf(rng.normal(size=(2, 3, 4))))


@pytest.mark.parametrize(
    "axes", [(), (1, 0, 2), (2, 0, 1), (0, 2, 1), (-1, 0, 1), (0, -1, -2), (-3, -1, -2)], ids=str
)
def test_transpose(axes, rng):
    x = rng.normal(size=(2, 3, 4))
    assert Tensor(x).transpose(*axes).shape == np.transpose(x, axes or None).shape
    assert gradcheck(lambda t: t.transpose(*axes), leaf(x))
    if axes:
        assert gradcheck(lambda t: t.transpose(axes), leaf(x))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)], ids=str)
def test_dot_T(shape, rng):
    assert gradcheck(lambda t: t.T, leaf(rng.normal(size=shape)))


MATMUL_SHAPES = [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((3,), (3,)),
    ((2, 2, 3), (2, 3, 4)),
    ((2, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((1, 2, 3), (4, 3, 2)),
    ((3,), (2, 3, 4)),
    ((2, 4, 3), (3,)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, rng):
    a, b = (rng.normal(size=s) for s in shapes)
    assert Tensor(a).matmul(Tensor(b)).shape == (a @ b).shape
    assert gradcheck(lambda x, y: x @ y, leaf(a), leaf(b))
    assert gradcheck(lambda x, y: x.matmul(y), leaf(a), leaf(b))
    assert gradcheck(lambda x: a @ x, leaf(b))  # ndarray on the left: a constant


GETITEM_INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, 3),
    "step slice": (slice(None), slice(None, None, 2)),
    "int and slice": (0, slice(1, None)),
    "ellipsis and newaxis": (Ellipsis, None, 1),
    "int array with repeats": np.array([0, 2, 0, 0]),
    "list with repeats": [3, 3, 1],
    "2-d int arrays with repeats": (np.array([[0, 1], [0, 0]]), np.array([[2, 2], [2, 1]])),
    "int array and slice": (np.array([1, 1, 3]), slice(0, 2)),
    "boolean mask": np.array([True, False, True, True]),
    "boolean mask of all axes": "mask",
}


@pytest.mark.parametrize("name", GETITEM_INDICES)
def test_getitem(name, rng):
    x = rng.normal(size=(4, 3))
    index = GETITEM_INDICES[name]
    if name == "boolean mask of all axes":
        index = x > 0
    assert np.array_equal(
        Tensor(x)[index].data, x[index if not isinstance(index, list) else np.array(index)]
    )
    assert gradcheck(lambda t: t[index], leaf(x))


def test_getitem_repeated_indices_add_their_gradients():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    (x[[0, 0, 2, 0]] * Tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 0.0, 3.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis, rng):
    shapes = [(2, 3), (2, 3), (2, 3)]
    shapes = [
        tuple(n + k if i == axis % 2 else n for i, n in enumerate(s)) for k, s in enumerate(shapes)
    ]
    arrays = [rng.normal(size=s) for s in shapes]
    out = ag.concatenate([Tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(arrays, axis=axis))
    assert gradcheck(lambda *ts: ag.concatenate(ts, axis=axis), *map(leaf, arrays))


def test_concatenate_with_a_constant(rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(1, 3))
    assert gradcheck(lambda t: ag.concatenate([t, Tensor(b)]), leaf(a))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis, rng):
    arrays = [rng.normal(size=(2, 3)) for _ in range(3)]
    out = ag.stack([Tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(arrays, axis=axis))
    assert gradcheck(lambda *ts: ag.stack(ts, axis=axis), *map(leaf, arrays))


@pytest.mark.parametrize(
    "shapes", [((3, 4), (3, 4), (3, 4)), ((3, 4), (3, 1), (4,)), ((3, 1), (4,), ())], ids=str
)
def test_where(shapes, rng):
    cond_shape, a_shape, b_shape = shapes
    cond = rng.uniform(size=cond_shape) > 0.5
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    out = ag.where(cond, Tensor(a), Tensor(b))
    np.testing.assert_array_equal(out.data, np.where(cond, a, b))
    assert gradcheck(lambda x, y: ag.where(cond, x, y), leaf(a), leaf(b))
    assert gradcheck(lambda x: ag.where(cond, x, 0.5), leaf(a))
    assert gradcheck(lambda y: ag.where(Tensor(cond), a, y), leaf(b))


def test_a_composite_expression(rng):
    """Several operations in one graph, with a tensor used in more than one place."""
    x, w = rng.normal(size=(5, 3)), rng.normal(size=(3, 2))

    def fn(x, w):
        h = (x @ w).tanh()
        return (h.log_softmax(axis=1) * h).mean(axis=0) + (x**2).sum() / x.abs().max()

    assert gradcheck(fn, leaf(x), leaf(w))


# ----- gradcheck itself ----------------------------------------------------------------------


class WrongMul(ag.Function):
    """z = x · y, with the gradient of y deliberately off by a factor of 2."""

    def forward(self, x, y):
        self.save(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved
        return g * y, 2 * g * x


def test_gradcheck_raises_naming_input_index_and_both_values():
    x = Tensor([[1.0, 2.0], [3.0, 40.0]], requires_grad=True, name="x")
    y = Tensor([[0.5, -1.0], [2.0, 7.0]], requires_grad=True, name="weights")
    with pytest.raises(ag.GradcheckError) as caught:
        gradcheck(lambda a, b: WrongMul.apply(a, b), x, y)
    message = str(caught.value)
    assert "input 1" in message and "weights" in message
    # gradcheck weighs the outputs by some positive w of similar sizes; the error
    # |analytic − numeric| = w·x is then largest where x = 40, at index (1, 1).
    assert "(1, 1)" in message
    # Both values are there, and the wrong one is twice the right one.
    numbers = re.findall(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?", message.split("index")[1])
    analytic, numeric = (float(n) for n in numbers[:2])
    assert analytic == pytest.approx(2 * numeric, rel=1e-6)
    assert numeric > 0


def test_gradcheck_message_shows_plain_numbers():
    """Not NumPy 2's reprs: '(np.int64(1), np.int64(1))', 'np.float64(4.13...)'."""
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = Tensor([[0.5, -1.0], [2.0, 7.0]], requires_grad=True)
    with pytest.raises(ag.GradcheckError) as caught:
        gradcheck(lambda a, b: WrongMul.apply(a, b), x, y)
    assert "np." not in str(caught.value)
    assert "at index (1, 1)" in str(caught.value)


def test_gradcheck_skips_constants():
    """Only inputs with requires_grad are checked: the wrong gradient of a constant goes unseen."""
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    constant = Tensor([0.5, -1.0, 2.0])
    assert gradcheck(lambda a, b: WrongMul.apply(a, b), x, constant)
    with pytest.raises(ag.GradcheckError, match="input 1"):
        gradcheck(lambda a, b: WrongMul.apply(a, b), x, Tensor(constant.data, requires_grad=True))


def test_gradcheck_checks_float32_inputs_in_float64():
    x = Tensor(np.array([0.3, 1.7], dtype=np.float32), requires_grad=True)
    assert gradcheck(lambda t: (t * t).exp(), x)


def test_gradcheck_catches_a_wrong_gradient_of_the_first_input():
    class WrongSquare(ag.Function):
        def forward(self, x):
            self.save(x)
            return x * x

        def backward(self, g):
            (x,) = self.saved
            return (g * x,)  # should be 2·g·x

    with pytest.raises(ag.GradcheckError, match="input 0"):
        gradcheck(lambda t: WrongSquare.apply(t), Tensor([1.0, -2.0], requires_grad=True))
