"""The documented choices at kinks and extremes, pinned without PyTorch (the torch comparisons in
test_ops_torch.py check the same numbers where torch is installed)."""

import warnings

import numpy as np
import pytest

from autograd_lite import Tensor


def grad_of(fn, *values):
    xs = [Tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad for x in xs]


def test_x_to_the_zero_has_gradient_zero_at_zero_not_nan():
    (g,) = grad_of(lambda x: x**0, [0.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_tensor_power_at_zero_base_and_zero_exponent_is_zero_both_ways():
    gx, gy = grad_of(lambda x, y: x**y, [0.0, 0.0, 2.0], [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])  # 0 at x = y = 0; 2·0¹ = 0; 0·2⁻¹ = 0
    np.testing.assert_array_equal(gy, [0.0, 0.0, np.log(2.0)])  # xʸ·ln x is taken as 0 at x = 0


def test_abs_and_relu_have_gradient_zero_at_zero():
    (g,) = grad_of(lambda x: x.abs(), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])
    (g,) = grad_of(lambda x: x.relu(), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_tied_maxima_share_the_gradient_equally():
    (g,) = grad_of(lambda x: x.max(), [1.0, 3.0, 3.0, 3.0])
    np.testing.assert_array_equal(g, [0.0, 1 / 3, 1 / 3, 1 / 3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_the_softmax_family_stay_finite_and_quiet_at_a_thousand(dtype):
    x = Tensor(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an overflow in exp would warn
        for out in (x.sigmoid(), x.softmax(), x.log_softmax(), x.tanh()):
            assert out.dtype == dtype and np.isfinite(out.data).all()
            x.grad = None
            out.sum().backward()
            assert np.isfinite(x.grad).all()
    s = x.sigmoid().data
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    np.testing.assert_allclose(s[1], 1 / (1 + np.exp(30.0)), rtol=1e-6)
