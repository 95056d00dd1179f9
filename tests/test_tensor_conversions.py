"""Tensors convert to Python numbers, truth values and NumPy arrays as PyTorch's do."""

import numpy as np
import pytest

from autograd_lite import Tensor


def test_truth_of_a_single_element_tensor():
    assert not Tensor(0.0)
    assert Tensor([2.0])
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_float_and_int_of_a_single_element_tensor():
    assert float(Tensor([[2.5]], requires_grad=True)) == 2.5
    assert int(Tensor(3.7)) == 3
    with pytest.raises(ValueError, match="size 1"):
        float(Tensor([1.0, 2.0]))


def test_numpy_sees_the_numbers():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    array = np.asarray(t)
    assert array.dtype == np.float64 and array.shape == (2, 2)
    np.testing.assert_array_equal(array, t.data)
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    copied = np.array(t, copy=True)
    copied[0, 0] = 99.0
    assert t.data[0, 0] == 1.0


def test_operators_with_arrays_still_give_tensors():
    # __array__ must not let NumPy take over the operators: __array_ufunc__ = None hands them back.
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(np.ones(2) * t, Tensor)
    assert isinstance(np.ones(2) - t, Tensor)
    assert isinstance(np.eye(2) @ t, Tensor)
