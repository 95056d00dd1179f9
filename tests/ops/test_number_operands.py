"""A Python number beside tensors takes the dtype NumPy and PyTorch give it.

With a floating tensor the number takes that tensor's dtype (``float32_tensor * 2.0`` stays
float32). With integer or bool tensors only, NumPy's rule for a Python number (NEP 50), which is
PyTorch's too: an int keeps the tensor's integer dtype, a bool tensor with an int gives int64, a
float gives float64 (the library's default floating dtype; PyTorch's default is float32). Before,
the number became a float64 constant whenever no operand was floating, so ``labels + 1`` turned
integer labels into floats that could no longer index.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograd_lite import Tensor

INTEGER_DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]
OPERATIONS = {
    "t + n": lambda t, n: t + n,
    "n + t": lambda t, n: n + t,
    "t - n": lambda t, n: t - n,
    "n - t": lambda t, n: n - t,
    "t * n": lambda t, n: t * n,
    "n * t": lambda t, n: n * t,
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_an_int_keeps_the_integer_tensors_dtype_and_numpys_values(dtype, operation):
    x = np.array([0, 1, 5, 100], dtype=dtype)
    ours = OPERATIONS[operation](Tensor(x), 3).data
    numpys = np.asarray(OPERATIONS[operation](x, 3))  # NumPy's own integer arithmetic
    assert ours.dtype == np.dtype(dtype) == numpys.dtype
    np.testing.assert_array_equal(ours, numpys)


@pytest.mark.parametrize("dtype", INTEGER_DTYPES + ["bool"])
def test_a_float_with_an_integer_tensor_is_float64(dtype):
    x = np.array([0, 1, 1, 0], dtype=dtype)
    for z in (Tensor(x) * 0.5, 0.5 + Tensor(x), Tensor(x) - 2.5):
        assert z.dtype == np.float64
    np.testing.assert_array_equal((Tensor(x) * 0.5).data, x.astype(np.float64) * 0.5)


def test_a_bool_tensor_with_an_int_is_int64():
    z = Tensor(np.array([True, False])) + 1
    assert z.dtype == np.int64 and z.data.tolist() == [2, 1]


def test_integer_labels_shifted_by_a_number_still_index():
    labels = Tensor(np.array([0, 2, 1]))
    table = np.arange(12).reshape(3, 4)
    assert table[np.arange(3), (labels + 1).data].tolist() == [1, 7, 10]


def test_a_number_that_does_not_fit_the_integer_dtype_is_refused_by_name():
    with pytest.raises(
        OverflowError, match=r"300 does not fit in the tensor's dtype uint8.*astype"
    ):
        Tensor(np.array([1, 2], dtype=np.uint8)) + 300


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_a_floating_tensor_still_gives_the_number_its_dtype(dtype):
    x = Tensor(np.array([1, 2], dtype=dtype))
    assert (x * 2).dtype == (x + 0.5).dtype == (3 - x).dtype == dtype
    mixed = Tensor(np.array([1, 2], dtype=np.int32)) + x  # two tensors: NumPy's promotion
    assert mixed.dtype == np.result_type(np.int32, dtype)


def test_the_integer_dtypes_match_pytorchs():
    torch = pytest.importorskip("torch")
    for dtype, torch_dtype in [
        (np.int32, torch.int32),
        (np.int64, torch.int64),
        (np.uint8, torch.uint8),
    ]:
        x = np.array([1, 2, 3], dtype=dtype)
        ours, theirs = Tensor(x) * 3 - 1, torch.tensor(x) * 3 - 1
        assert theirs.dtype == torch_dtype
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        assert ours.dtype == np.dtype(dtype)
    assert (torch.tensor([True, False]) + 1).dtype == torch.int64
    assert (Tensor(np.array([True, False])) + 1).dtype == np.int64
