"""The backward pass: accumulation, freeing the graph, its errors, no_grad and long chains."""

import sys
import time

import numpy as np
import pytest

import nn
from autograd_lite import Function, Tensor, enable_grad, engine, no_grad
from autograd_lite.engine import grad_enabled


def test_a_node_used_twice_accumulates():
    x = Tensor([-1.5, 0.0, 2.0, 3.25], requires_grad=True)
    y = x * x + x
    y.backward(np.ones(4))
    np.testing.assert_array_equal(x.grad, 2 * x.data + 1)


def test_diamond_graph_sums_both_paths():
    x = Tensor(0.7, requires_grad=True)
    h = x.exp()
    (h * h.tanh() + h.sigmoid()).backward()
    e = np.exp(0.7)
    sig = 1 / (1 + np.exp(-e))
    expected = e * (np.tanh(e) + e * (1 - np.tanh(e) ** 2) + sig * (1 - sig))
    assert x.grad == pytest.approx(expected, rel=1e-12)


def test_two_backwards_accumulate_into_leaf_grad_until_zero_grad():
    w = Tensor([1.0, -2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0 + 2.0, 3.0 - 4.0])
    w.zero_grad()
    assert w.grad is None
    (w * 3.0).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def test_leaf_grad_has_the_leaf_shape_and_dtype():
    w = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    (w * 2.0 + Tensor(np.ones((4, 1, 3)))).sum().backward()
    assert w.grad.shape == (2, 3) and w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 8.0))


def test_leaves_do_not_share_gradient_memory():
    """x + y hands the same gradient to both; changing one .grad must not change the other."""
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad *= 10  # what gradient clipping does in place
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])


def test_non_leaf_tensors_keep_no_grad_and_is_leaf():
    x = Tensor([1.0, 2.0], requires_grad=True)
    constant = Tensor([3.0, 4.0])
    h = x * constant
    loss = h.sum()
    loss.backward()
    assert x.is_leaf and constant.is_leaf
    assert not h.is_leaf and not loss.is_leaf
    with pytest.warns(UserWarning, match=r"retain_grad\(\)"):  # as PyTorch warns
        assert h.grad is None and loss.grad is None
    assert constant.grad is None  # a constant takes no gradient
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_result_of_constants_only_is_a_leaf_without_grad():
    out = Tensor([1.0]) * 2.0
    assert out.is_leaf and not out.requires_grad


def test_second_backward_needs_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).exp().sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad, 2 * first)
    loss.backward()  # the last one may free
    np.testing.assert_allclose(x.grad, 3 * first)
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_backward_on_non_scalar_without_grad_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        (x * 2.0).backward()


@pytest.mark.parametrize("grad_shape", [(3,), (2, 1), (1, 2), ()])
def test_backward_with_grad_of_wrong_shape_raises(grad_shape):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="shape"):
        (x * 2.0).backward(np.ones(grad_shape))
    assert x.grad is None


def test_backward_accepts_tensor_ndarray_and_number():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).backward(Tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])
    x.zero_grad()
    (x * 3.0).backward(np.array([2.0, 0.5]))
    np.testing.assert_array_equal(x.grad, [6.0, 1.5])
    x.zero_grad()
    (x * 3.0).sum().backward(2.0)
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    x.zero_grad()
    (x * 3.0).sum().backward(2)  # an int too
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_backward_from_a_tensor_without_requires_grad_raises():
    with pytest.raises(RuntimeError, match="requires_grad"):
        (Tensor([1.0, 2.0]) * 2.0).sum().backward()
    with pytest.raises(RuntimeError):
        Tensor(3.0).backward()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_backward_from_a_non_finite_loss_raises(bad):
    x = Tensor([1.0, bad], requires_grad=True)
    with pytest.raises(FloatingPointError):
        (x * 2.0).sum().backward()
    assert x.grad is None


def test_backward_from_a_leaf():
    x = Tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


# ----- no_grad ----------------------------------------------------------------------------------


def test_no_grad_context_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = x * 2.0 + x.exp()
        assert not grad_enabled()
    assert grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert (x * 2.0).requires_grad


def test_no_grad_nested_and_enable_grad_inside():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        with no_grad():
            assert not (x * 2.0).requires_grad
        assert not grad_enabled()  # the inner block restores "disabled", not "enabled"
        with enable_grad():
            assert (x * 2.0).requires_grad
        assert not (x * 2.0).requires_grad
    assert grad_enabled()


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("boom")
    assert grad_enabled()


def test_no_grad_as_a_decorator():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @no_grad()
    def double(t):
        return t * 2.0

    @no_grad()
    def fails():
        raise ValueError("inside")

    assert not double(x).requires_grad
    assert grad_enabled()
    with pytest.raises(ValueError):
        fails()
    assert grad_enabled()
    assert (x * 2.0).requires_grad


def test_no_grad_decorator_on_a_recursive_function_restores_state():
    """The decorator's one instance is re-entered by the recursion; each exit restores its own."""

    @no_grad()
    def depth(n):
        return 0 if n == 0 else 1 + depth(n - 1)

    try:
        assert depth(2) == 2
        assert grad_enabled()
    finally:
        engine._grad_enabled = True  # should this fail, leave recording on for the later tests


# ----- long chains -----------------------------------------------------------------------------


def test_a_chain_of_100000_operations_backpropagates_without_recursion():
    limit = sys.getrecursionlimit()
    x = Tensor(1.0, requires_grad=True)
    factor = Tensor(1.00001)  # a Tensor, not a number: building the chain stays cheap
    y = x
    for _ in range(100_000):
        y = y * factor
    start = time.perf_counter()
    y.backward()
    elapsed = time.perf_counter() - start
    assert x.grad == pytest.approx(1.00001**100_000, rel=1e-9)
    assert elapsed < 20.0
    assert sys.getrecursionlimit() == limit  # no raising of the limit behind our back
    del y  # freeing the chain must not overflow the C stack either


def test_a_wide_graph_with_many_uses_of_one_leaf():
    x = Tensor([0.5, -0.5], requires_grad=True)
    total = x * 0.0
    for k in range(1, 2001):
        total = total + x * float(k)
    total.sum().backward()
    np.testing.assert_array_equal(x.grad, [2001 * 1000.0] * 2)


# ----- detach ----------------------------------------------------------------------------------


def test_detach_shares_data_and_has_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    d = h.detach()
    assert np.shares_memory(d.data, h.data)
    assert not d.requires_grad and d.is_leaf and d.grad is None
    (d * x).sum().backward()  # d is a constant here: gradient 3x only through x
    np.testing.assert_array_equal(x.grad, h.data)
    d.data[0] = 100.0
    assert h.data[0] == 100.0


class RefusesNegatives(Function):
    """z = x, for x ≥ 0 only: forward's own check raises a ValueError."""

    def forward(self, x):
        if (x < 0).any():
            raise ValueError("x must be >= 0")
        return x.copy()

    def backward(self, g):
        return (g,)


class RefusesNegativesInItsOwnWords(RefusesNegatives):
    own_messages = True


def test_a_forward_error_names_the_operation_and_its_operands_shapes_unless_it_speaks_for_itself():
    x = Tensor([-1.0, 2.0])
    with pytest.raises(ValueError) as caught:
        RefusesNegatives.apply(x)
    assert str(caught.value) == "refusesnegatives of shapes (2,): x must be >= 0"
    with pytest.raises(ValueError) as caught:
        RefusesNegativesInItsOwnWords.apply(x)
    assert str(caught.value) == "x must be >= 0"
    with pytest.raises(ValueError) as caught:  # nn's losses check their targets in their own words
        nn.functional.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 5]))
    assert str(caught.value).startswith("cross_entropy: labels must be in [0, 3)")
