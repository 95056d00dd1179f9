"""The operations of issue 13 where they are easy to get wrong, pinned without torch: PyTorch's
derivative at every kink, zeros in prod, ties in min/maximum/minimum, |x| = 1000, the argument
spellings (dim/axis, keepdim/keepdims, correction/ddof), the shape rules where NumPy and PyTorch
differ, integer results of argmax, and clear errors for bad arguments.

Expected values come from closed forms or from the rule being pinned (the PyTorch choice is
stated beside each; test_new_ops_torch.py checks the same points against torch itself).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from new_ops_cases import UNARY, leaf

import autograd_lite as ag
from autograd_lite import Tensor

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

SELU_SCALE, SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717


def derivative(fn, points) -> np.ndarray:
    """d fn/dx at each point (fn element-wise, so the gradient of the sum)."""
    x = leaf(np.asarray(points, dtype=np.float64))
    fn(x).sum().backward()
    return x.grad


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ----- PyTorch's derivative at each kink ---------------------------------------------------------
KINK_RULES = {
    # name: (fn, points, expected derivative at the points)
    "leaky_relu: slope at 0": (lambda x: x.leaky_relu(0.1), [-1.0, 0.0, 1.0], [0.1, 0.1, 1.0]),
    "elu: alpha at 0": (lambda x: x.elu(2.0), [0.0, 1.0], [2.0, 1.0]),
    "selu: scale*alpha at 0": (
        lambda x: x.selu(),
        [0.0, 1.0],
        [SELU_SCALE * SELU_ALPHA, SELU_SCALE],
    ),
    "celu: 1 at 0": (lambda x: x.celu(2.0), [0.0, 1.0], [1.0, 1.0]),
    "hardtanh: 0 at both bounds": (lambda x: x.hardtanh(), [-1.0, 0.0, 1.0], [0.0, 1.0, 0.0]),
    "relu6: 0 at 0 and 6": (lambda x: x.relu6(), [0.0, 3.0, 6.0], [0.0, 1.0, 0.0]),
    "hardsigmoid: 0 at ±3": (lambda x: x.hardsigmoid(), [-3.0, 0.0, 3.0], [0.0, 1 / 6, 0.0]),
    "hardswish: 0 at -3, 1 at 3": (
        lambda x: x.hardswish(),
        [-3.0, 0.0, 1.5, 3.0],
        [0.0, 0.5, 1.0, 1.0],
    ),
    "softsign: 1 at 0": (lambda x: x.softsign(), [0.0], [1.0]),
    "clamp: 1 at both bounds": (
        lambda x: x.clamp(-1, 1),
        [-1.0, 0.0, 1.0, 2.0],
        [1.0, 1.0, 1.0, 0.0],
    ),
    "softplus: sigmoid at the threshold, 1 above": (
        lambda x: x.softplus(1.0, 1.0),
        [1.0, 1.5],
        [sigmoid(1.0), 1.0],
    ),
    "sign: 0 everywhere": (lambda x: x.sign(), [-2.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("name", KINK_RULES)
def test_derivative_at_the_kinks(name):
    fn, points, expected = KINK_RULES[name]
    np.testing.assert_allclose(derivative(fn, points), expected, rtol=1e-15, atol=0)


def test_float32_precise_derivatives_against_closed_forms():
    """celu and hardsigmoid, where PyTorch's float64 gradients are float32-accurate."""
    x = np.array([-6.0, -2.0, -0.3, 0.5, 2.9])
    np.testing.assert_allclose(
        derivative(lambda t: t.celu(0.7), x), np.where(x > 0, 1.0, np.exp(x / 0.7)), rtol=1e-14
    )
    np.testing.assert_allclose(
        derivative(lambda t: t.hardsigmoid(), x), [0, 1 / 6, 1 / 6, 1 / 6, 1 / 6]
    )


def test_gelu_derivative_closed_forms():
    x = np.array([-3.0, -0.7, 0.0, 0.4, 2.5])
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    pdf = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(derivative(lambda t: t.gelu(), x), cdf + x * pdf, rtol=1e-14)
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    slope = 0.5 * (1 + np.tanh(u)) + 0.5 * x * (1 - np.tanh(u) ** 2) * math.sqrt(2 / math.pi) * (
        1 + 3 * 0.044715 * x**2
    )
    np.testing.assert_allclose(derivative(lambda t: t.gelu("tanh"), x), slope, rtol=1e-14)


# ----- ties, zeros, jumps ------------------------------------------------------------------------
def test_maximum_and_minimum_ties_share_the_gradient():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 1.0, 4.0])
    (a.maximum(b).sum() + 10 * ag.minimum(a, b).sum()).backward()
    np.testing.assert_array_equal(a.grad, [0.5 + 5, 1, 10])
    np.testing.assert_array_equal(b.grad, [0.5 + 5, 10, 1])


def test_min_ties_share_the_gradient_equally():
    x = leaf([[1.0, 1.0, 2.0], [3.0, 3.0, 3.0]])
    x.min(1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = leaf([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]])
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 6, 0], [0, 0, 0], [6, 3, 2]])


def test_prod_of_an_empty_axis_is_one_with_an_empty_gradient():
    x = leaf(np.zeros((2, 0)))
    out = x.prod(1)
    np.testing.assert_array_equal(out.data, [1.0, 1.0])
    out.sum().backward()
    assert x.grad.shape == (2, 0)


def test_std_of_equal_values_has_gradient_zero_not_nan():
    x = leaf([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
    x.std(1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0, 0], [-0.5, 0, 0.5]], rtol=1e-15)


def test_std_of_equal_values_has_second_derivative_zero_too():
    """PyTorch masks the whole derivative where std = 0, so its derivative is 0 there as well."""
    x = leaf([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    (g,) = ag.grad(x.std(1).sum(), x, create_graph=True)
    (h,) = ag.grad((g * np.arange(1.0, 7.0).reshape(2, 3)).sum(), x)
    np.testing.assert_array_equal(h.data[0], [0, 0, 0])
    assert np.abs(h.data[1]).min() > 0.01


def test_var_and_std_of_one_element_are_nan_as_in_pytorch():
    assert np.isnan(Tensor([3.0]).var().item()) and np.isnan(Tensor([3.0]).std().item())
    assert Tensor([3.0]).var(correction=0).item() == 0.0


def test_mod_follows_the_divisors_sign_and_its_quotient_is_the_y_derivative():
    x, y = leaf([5.0, -3.0, 7.5, -7.5]), leaf([3.0, 2.0, -2.0, -2.0])
    z = x % y
    np.testing.assert_array_equal(z.data, [2.0, 1.0, -0.5, -1.5])  # Python's 5 % 3, -3 % 2, ...
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 1, 1])
    np.testing.assert_array_equal(y.grad, [-1, 2, 4, -3])  # −⌊x/y⌋
    np.testing.assert_array_equal((7.0 % Tensor([2.0, -3.0])).data, [1.0, -2.0])


# ----- |x| = 1000 --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", UNARY)
def test_finite_at_a_thousand(name, dtype):
    fn, _, domain = UNARY[name]
    if domain.lo > -1.0:  # log, rsqrt, log1p: only their own domain
        points = np.array([domain.lo + 0.01, 1000.0])
    elif name in ("exp2", "expm1"):  # e¹⁰⁰⁰ and 2¹⁰⁰⁰ are inf in float64 too, as they should be
        points = np.array([-1000.0, -30.0, 30.0])
    else:
        points = np.array([-1000.0, -30.0, 30.0, 1000.0])
    x = Tensor(points.astype(dtype), requires_grad=True)
    out = fn(x)
    out.sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all(), (out.data, x.grad)


def test_limits_at_a_thousand():
    x = np.array([-1000.0, 1000.0])
    for fn, value, slope in [
        (lambda t: t.softplus(), [0, 1000], [0, 1]),
        (lambda t: t.softplus(threshold=np.inf), [0, 1000], [0, 1]),
        (lambda t: t.logsigmoid(), [-1000, 0], [1, 0]),
        (lambda t: t.silu(), [0, 1000], [0, 1]),
        (lambda t: t.mish(), [0, 1000], [0, 1]),
        (lambda t: t.gelu(), [0, 1000], [0, 1]),
        (lambda t: t.gelu("tanh"), [0, 1000], [0, 1]),
        (lambda t: t.elu(), [-1, 1000], [0, 1]),
        (lambda t: t.celu(0.5), [-0.5, 1000], [0, 1]),
    ]:
        t = leaf(x)
        out = fn(t)
        out.sum().backward()
        np.testing.assert_allclose(out.data, value, atol=1e-300)
        np.testing.assert_allclose(t.grad, slope, atol=1e-300)


def test_logsumexp_and_logaddexp_at_a_thousand_and_of_minus_infinity():
    assert Tensor([1000.0, 1000.0]).logsumexp().item() == pytest.approx(1000 + math.log(2))
    assert Tensor([-np.inf, -np.inf]).logsumexp().item() == -np.inf
    assert Tensor(np.zeros((2, 0))).logsumexp(1).data.tolist() == [-np.inf, -np.inf]
    assert ag.logaddexp(Tensor(1000.0), 1000.0).item() == pytest.approx(1000 + math.log(2))


# ----- argument spellings ------------------------------------------------------------------------
X = np.arange(24.0).reshape(2, 3, 4) ** 1.5


def test_var_and_std_spellings():
    t = Tensor(X)
    np.testing.assert_allclose(t.var(1).data, np.var(X, axis=1, ddof=1), rtol=1e-14)
    for spelled in [t.var(dim=1, correction=0), t.var(axis=1, ddof=0), t.var(1, unbiased=False)]:
        np.testing.assert_allclose(spelled.data, np.var(X, axis=1), rtol=1e-14)
    np.testing.assert_allclose(
        t.std((0, 2), keepdim=True).data, np.std(X, axis=(0, 2), ddof=1, keepdims=True), rtol=1e-14
    )
    with pytest.raises(TypeError, match="correction once"):
        t.var(correction=1, ddof=1)


def test_reductions_take_dim_and_keepdim_as_well_as_axis_and_keepdims():
    t = Tensor(X)
    for name in ["sum", "mean", "max", "min", "prod", "logsumexp"]:
        numpy_style = getattr(t, name)(axis=-1, keepdims=True).data
        assert numpy_style.shape == (2, 3, 1)
        np.testing.assert_array_equal(getattr(t, name)(dim=-1, keepdim=True).data, numpy_style)
        np.testing.assert_array_equal(getattr(t, name)(-1, True).data, numpy_style)
    np.testing.assert_array_equal(t.softmax(dim=0).data, t.softmax(axis=0).data)
    np.testing.assert_array_equal(t.log_softmax(dim=1).data, t.log_softmax(1).data)


def test_axis_errors_name_the_problem():
    t = Tensor(X)
    with pytest.raises(TypeError, match="dim= or axis="):
        t.sum(axis=0, dim=1)
    with pytest.raises(IndexError, match="axis 3 is out of range .* -3 to 2"):
        t.var(3)
    with pytest.raises(ValueError, match="axis 5 is out of range"):
        t.sum(axis=5)
    with pytest.raises(ValueError, match="names an axis twice"):
        t.prod((0, -3))


def test_argmax_and_argmin_are_integer_tensors_outside_the_graph():
    t = leaf([[1.0, 5.0, 5.0], [7.0, -2.0, -2.0]])
    for found, expected in [
        (t.argmax(1), [1, 0]),  # the first of tied maxima, as PyTorch and NumPy
        (t.argmin(dim=1), [0, 1]),
        (t.argmax(), 3),  # flat index for dim=None
        (t.argmin(keepdim=True, dim=0), [[0, 1, 1]]),
    ]:
        assert isinstance(found, Tensor) and found.dtype == np.int64
        assert not found.requires_grad and found.is_leaf
        np.testing.assert_array_equal(found.data, expected)
    assert t.argmax(None, True).shape == (1, 1)  # keepdim with dim=None, as PyTorch


def test_pytorch_aliases_are_the_same_operations():
    a, b = Tensor(X), Tensor(X[0] + 1)
    np.testing.assert_array_equal(a.add(b).data, (a + b).data)
    np.testing.assert_array_equal(a.sub(b).data, (a - b).data)
    np.testing.assert_array_equal(a.mul(b).data, (a * b).data)
    np.testing.assert_array_equal(a.div(b).data, (a / b).data)
    np.testing.assert_array_equal(a.pow(2).data, (a**2).data)
    np.testing.assert_array_equal(a.remainder(b).data, (a % b).data)
    np.testing.assert_array_equal(a.permute(2, 0, 1).data, np.transpose(X, (2, 0, 1)))
    np.testing.assert_array_equal(a.view(4, -1).data, X.reshape(4, -1))
    np.testing.assert_array_equal(ag.cat([a, a], dim=2).data, np.concatenate([X, X], 2))
    np.testing.assert_array_equal(ag.clamp(a, 3, 9).data, np.clip(X, 3, 9))
    np.testing.assert_array_equal(a.clamp(max=9).data, np.minimum(X, 9))


# ----- shapes where NumPy and PyTorch differ: PyTorch's rule -------------------------------------
def test_shape_rules():
    t = Tensor(np.zeros((2, 1, 3, 1)))
    assert t.squeeze().shape == (2, 3)
    assert t.squeeze(0).shape == (2, 1, 3, 1)  # not of length 1: left alone (NumPy would raise)
    assert t.squeeze((1, 3)).shape == (2, 3)
    assert t.unsqueeze(-1).shape == (2, 1, 3, 1, 1) and t.unsqueeze(0).shape == (1, 2, 1, 3, 1)
    assert (
        t.flatten().shape == (6,)
        and t.flatten(1).shape == (2, 3)
        and t.flatten(1, 2).shape
        == (
            2,
            3,
            1,
        )
    )
    assert Tensor(5.0).flatten().shape == (1,)
    assert Tensor(np.zeros((3, 1))).expand(2, -1, 4).shape == (2, 3, 4)
    assert Tensor(np.zeros((2, 3))).repeat(2, 1, 2).shape == (2, 2, 6)  # NumPy's tile
    assert Tensor(np.zeros((2, 3))).tile(2).shape == (2, 6)  # fewer reps: the last axes
    np.testing.assert_array_equal(Tensor([[1.0, 2.0]]).repeat(2, 2).data, np.tile([[1, 2]], (2, 2)))
    np.testing.assert_array_equal(Tensor(X).flip(0, 2).data, X[::-1, :, ::-1])
    np.testing.assert_array_equal(Tensor(X).flip().data, X[::-1, ::-1, ::-1])


def test_flip_and_repeat_copy_while_squeeze_and_expand_share_memory():
    t = Tensor(np.arange(3.0))
    assert not np.shares_memory(t.flip(0).data, t.data)
    assert not np.shares_memory(t.repeat(2).data, t.data)
    assert np.shares_memory(t.unsqueeze(0).data, t.data)
    assert np.shares_memory(t.expand(2, 3).data, t.data)


def test_gather_picks_along_dim_and_repeated_indices_add_gradients():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    index = np.array([[2, 2, 0], [1, 0, 1]])
    out = x.gather(1, index)
    np.testing.assert_array_equal(out.data, [[3, 3, 1], [5, 4, 5]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 2], [1, 2, 0]])
    np.testing.assert_array_equal(x.gather(0, Tensor(np.array([[1, 0]]))).data, [[4, 2]])


BAD_CALLS = {
    "gather float index": (lambda t: t.gather(1, np.array([[0.0]])), TypeError, "integers"),
    "gather ndim": (lambda t: t.gather(1, np.array([0])), ValueError, "same number"),
    "gather range": (lambda t: t.gather(1, np.array([[3]])), IndexError, r"\[0, 3\)"),
    "gather negative": (lambda t: t.gather(0, np.array([[-1]])), IndexError, "must lie in"),
    "gather too wide": (lambda t: t.gather(1, np.zeros((3, 1), int)), ValueError, "must fit"),
    "repeat too few": (lambda t: t.repeat(2), ValueError, "one per dimension"),
    "expand shrink": (lambda t: t.expand(2, 5), ValueError, "only length-1 axes expand"),
    "expand too few": (lambda t: t.expand(3), ValueError, "at least one size"),
    "flatten order": (lambda t: t.flatten(1, 0), ValueError, "must not come after"),
    "unsqueeze range": (lambda t: t.unsqueeze(3), IndexError, "out of range"),
    "clamp nothing": (lambda t: t.clamp(), ValueError, "at least one of min and max"),
    "gelu approximate": (lambda t: t.gelu("fast"), ValueError, '"none" or "tanh"'),
    "softplus beta 0": (lambda t: t.softplus(beta=0), ValueError, "beta must not be 0"),
    "celu alpha 0": (lambda t: t.celu(0.0), ValueError, "alpha must not be 0"),
    "hardtanh bounds": (lambda t: t.hardtanh(1.0, -1.0), ValueError, "cannot be greater"),
    "argmax tuple": (lambda t: t.argmax((0, 1)), TypeError, "one axis"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_arguments_say_what_is_wrong(name):
    call, error, message = BAD_CALLS[name]
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("name", UNARY)
def test_float32_stays_float32(name):
    fn, _, domain = UNARY[name]
    x = Tensor(
        np.clip(np.array([0.3, 0.9, 1.7]), domain.lo, domain.hi).astype(np.float32),
        requires_grad=True,
    )
    out = fn(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
