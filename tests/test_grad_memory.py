"""Leaves' gradients never share memory, and take their parameter's layout without copies."""

import numpy as np
import pytest

from autograd_lite import Tensor


def test_two_leaves_fed_one_gradient_array_do_not_share_it():
    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    (x + y).sum().backward()  # Add hands the same array to both inputs
    assert not np.shares_memory(x.grad, y.grad)
    x.grad *= 10  # in-place change, as gradient clipping does
    np.testing.assert_array_equal(y.grad, np.ones(3))


def test_views_of_one_gradient_are_copied_for_each_leaf():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = Tensor(np.ones((3, 2)), requires_grad=True)
    z = Tensor(np.ones(6), requires_grad=True)
    (x.reshape(6) + y.T.reshape(6) + z).sum().backward()
    grads = [x.grad, y.grad, z.grad]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.shares_memory(grads[i], grads[j])
    for g in grads:
        assert g.flags.writeable


def test_gradient_of_broadcast_is_writeable():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # Sum's backward is a read-only broadcast view
    x.grad[0, 0] = 5.0
    assert x.grad[0, 0] == 5.0


def test_weight_used_transposed_gets_contiguous_gradient():
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    w = Tensor(np.random.default_rng(1).standard_normal((5, 3)), requires_grad=True)
    (x @ w.T).sum().backward()
    assert w.grad.flags.c_contiguous
    np.testing.assert_allclose(w.grad, np.ones((4, 5)).T @ x.data)


def test_accumulation_across_backward_calls_keeps_memory_separate():
    x = Tensor(np.ones(2), requires_grad=True)
    y = Tensor(np.ones(2), requires_grad=True)
    for _ in range(2):
        (x + y).sum().backward()
    assert not np.shares_memory(x.grad, y.grad)
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_a_backward_returning_a_gradient_of_the_wrong_shape_is_an_error_not_a_reshape():
    from autograd_lite import Function

    class SwappedGradient(Function):
        """A deliberately wrong backward: the right number of elements, the wrong shape."""

        def forward(self, x):
            return x * 1.0

        def backward(self, g):
            return (g.T,)

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = SwappedGradient.apply(x)
    with pytest.raises(RuntimeError, match=r"SwappedGradient\.backward is wrong.*\(3, 2\)"):
        y.backward(np.ones((2, 3)))


def test_a_read_only_gradient_a_hook_returns_is_copied_into_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    frozen = np.array([3.0, 4.0])
    frozen.flags.writeable = False
    w.register_hook(lambda g: frozen)
    (w * 2.0).sum().backward()
    assert w.grad.tolist() == [3.0, 4.0] and w.grad.flags.writeable
    w.grad *= 0.5  # clipping in place works, and leaves the hook's array alone
    assert frozen.tolist() == [3.0, 4.0]
