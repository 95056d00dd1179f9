"""Issue 9, point 10: no silent nonsense at the edges.

Each case here used to give a plausible-looking wrong answer (an empty iteration of a 0-d tensor,
a NumPy scalar as a gradient, a plain ndarray with the graph dropped); now it works as in PyTorch
or fails with an error that says what to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Tensor


# ----- attributes that refuse nonsense ----------------------------------------------------------
@pytest.mark.parametrize("data", [np.arange(3), np.array([True, False])], ids=["int", "bool"])
def test_requires_grad_cannot_be_switched_on_for_non_float_data(data):
    t = Tensor(data)
    with pytest.raises(TypeError):
        t.requires_grad = True
    assert t.requires_grad is False
    t.requires_grad = False  # saying no is always fine


@pytest.mark.parametrize("use", [len, iter, list], ids=["len", "iter", "list"])
def test_a_0d_tensor_has_no_length_and_cannot_be_iterated(use):
    with pytest.raises(TypeError):
        use(Tensor(3.0))


def test_a_1d_tensor_iterates_over_its_elements():
    items = list(Tensor([1.0, 2.0]))
    assert [t.item() for t in items] == [1.0, 2.0]


@pytest.mark.parametrize(
    "grad",
    [np.ones(3), np.ones((2, 3), dtype=np.float32), np.ones((2, 3), dtype=np.int64)],
    ids=["wrong shape", "float32 for float64", "integer"],
)
def test_assigning_a_grad_of_the_wrong_shape_or_dtype_is_a_value_error(grad):
    t = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError):
        t.grad = grad
    assert t.grad is None
    t.grad = np.ones((2, 3))  # the right shape and dtype is accepted
    np.testing.assert_array_equal(t.grad, np.ones((2, 3)))
    t.grad = None


@pytest.mark.parametrize(
    "grad",
    [np.array([1 + 1j, 2.0]), np.array([1.0, 2.0], dtype=object)],
    ids=["complex", "object"],
)
def test_backward_with_a_complex_or_object_gradient_is_a_type_error(grad):
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        (w * 2).backward(grad)
    assert w.grad is None


def test_backward_of_a_scalar_with_a_complex_number_is_a_type_error():
    w = Tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError):
        (w * 2).backward(1j)


# ----- 0-d tensors --------------------------------------------------------------------------
ZERO_D = {  # f(x) at x = 2, and df/dx there in closed form
    "x * x": (lambda x: x * x, 4.0),
    "x.exp()": (lambda x: x.exp(), float(np.exp(2.0))),
    "x.sum()": (lambda x: x.sum(), 1.0),
    "x.mean()": (lambda x: x.mean(), 1.0),
    "x + x": (lambda x: x + x, 2.0),
    "(x * vector).sum()": (lambda x: (x * np.array([1.0, 2.0, 4.0])).sum(), 7.0),
    "x.reshape(1).sum()": (lambda x: x.reshape(1).sum(), 1.0),
    "x.reshape(1, 1)[0, 0]": (lambda x: x.reshape(1, 1)[0, 0], 1.0),
}


@pytest.mark.parametrize("case", ZERO_D.values(), ids=ZERO_D)
def test_the_grad_of_a_0d_leaf_is_an_ndarray(case):
    f, derivative = case
    x = Tensor(2.0, requires_grad=True)
    f(x).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == np.float64
    assert x.grad == pytest.approx(derivative, rel=1e-15)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("axis", [0, -1])
def test_sum_and_mean_over_axis_0_or_minus_1_of_a_0d_tensor(reduction, axis):
    x = Tensor(2.5, requires_grad=True)
    y = getattr(x, reduction)(axis=axis)
    assert y.shape == () and y.item() == 2.5
    y.backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad == 1.0


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_0d_reductions_match_pytorch(reduction, keepdims):
    torch = pytest.importorskip("torch")
    x = Tensor(2.5, requires_grad=True)
    xt = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    y = getattr(x, reduction)(axis=-1, keepdims=keepdims)
    yt = getattr(xt, reduction)(dim=-1, keepdim=keepdims)
    assert y.shape == tuple(yt.shape) and y.item() == yt.item()
    y.backward()
    yt.backward()
    assert x.grad == xt.grad.item()


# ----- empty selections and axes ----------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3,), (3, 2)], ids=["1-d", "2-d"])
def test_indexing_with_an_empty_list_gives_an_empty_result_and_a_zero_gradient(shape):
    t = Tensor(np.arange(float(np.prod(shape))).reshape(shape), requires_grad=True)
    r = t[[]]
    assert r.shape == (0, *shape[1:]) and r.dtype == np.float64
    r.sum().backward()
    np.testing.assert_array_equal(t.grad, np.zeros(shape))


@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
@pytest.mark.parametrize(
    "shape, axis", [((2, 0), -1), ((0, 3), 0), ((0,), 0)], ids=["(2, 0)", "(0, 3)", "(0,)"]
)
def test_softmax_over_an_empty_axis_gives_an_empty_result(method, shape, axis):
    r = getattr(Tensor(np.zeros(shape)), method)(axis=axis)
    assert r.shape == shape and r.dtype == np.float64


def test_empty_results_match_pytorch():
    torch = pytest.importorskip("torch")
    t = np.arange(6.0).reshape(3, 2)
    assert Tensor(t)[[]].shape == tuple(torch.tensor(t)[[]].shape)
    for method in ("softmax", "log_softmax"):
        ours = getattr(Tensor(np.zeros((2, 0))), method)(axis=-1)
        theirs = getattr(torch.zeros((2, 0), dtype=torch.float64), method)(dim=-1)
        assert ours.shape == tuple(theirs.shape)


JOINS = {  # name: (join two (2, 3) tensors along axis, ndim of the result)
    "concatenate": (lambda ts, axis: ag.concatenate(ts, axis=axis), 2),
    "stack": (lambda ts, axis: ag.stack(ts, axis=axis), 3),
}


@pytest.mark.parametrize("join", JOINS.values(), ids=JOINS)
@pytest.mark.parametrize("too_far", [+1, -1], ids=["above", "below"])
def test_join_with_an_axis_out_of_range_names_the_axis_and_the_valid_range(join, too_far):
    fn, ndim = join
    axis = ndim if too_far > 0 else -ndim - 1
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises((IndexError, ValueError)) as info:
        fn([a, a], axis)
    numbers = re.findall(r"-?\d+", str(info.value))
    assert str(axis) in numbers, f"the message should name axis {axis}: {info.value}"
    assert str(-ndim) in numbers and (str(ndim - 1) in numbers or str(ndim) in numbers), (
        f"the message should give the valid range -{ndim}..{ndim - 1}: {info.value}"
    )


# ----- NumPy functions on Tensors -------------------------------------------------------------
X = np.array([[0.5, 1.25, 1.5], [0.75, 2.0, 0.25]])  # no element at 1.0, maximum's kink
M = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
NUMPY_CALLS: dict[str, tuple[Callable[[Any], Any], list[str]]] = {
    # name: (the call, works on arrays and Tensors alike; names a TypeError may suggest instead)
    "np.reshape": (lambda t: np.reshape(t, (3, 2)), ["reshape"]),
    "np.exp": (lambda t: np.exp(t), ["exp"]),
    "np.sum": (lambda t: np.sum(t), ["sum"]),
    "np.mean": (lambda t: np.mean(t), ["mean"]),
    "np.transpose": (lambda t: np.transpose(t), ["transpose", ".T"]),
    "np.concatenate": (lambda t: np.concatenate([t, t]), ["concatenate"]),
    "np.dot": (lambda t: np.dot(t, M), ["matmul", "@"]),
    "np.maximum": (lambda t: np.maximum(t, 1.0), ["clamp", "clip", "relu", "where"]),
}


def numerical_gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Central differences in float64 of the scalar f(x)."""
    grad, eps = np.zeros_like(x), 1e-6
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("case", NUMPY_CALLS.values(), ids=NUMPY_CALLS)
def test_numpy_functions_on_a_tensor_keep_the_graph_or_name_the_method(case):
    call, methods = case
    t = Tensor(X, requires_grad=True)
    try:
        out = call(t)
    except TypeError as err:
        assert any(m in str(err) for m in methods), f"should name one of {methods}: {err}"
        return
    assert isinstance(out, Tensor), f"a {type(out).__name__} came back: the graph was dropped"
    assert out.requires_grad
    weights = np.random.default_rng(0).standard_normal(out.shape)
    (out * weights).sum().backward()
    expected = numerical_gradient(lambda a: float(np.sum(weights * call(a))), X)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-6, atol=1e-8)


def test_np_asarray_of_a_tensor_still_gives_its_data():
    t = Tensor(X, requires_grad=True)
    np.testing.assert_array_equal(np.asarray(t), X)
