"""Tensor: construction rules, attributes, operators, dtypes and the errors users meet."""

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Tensor

# ----- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", [3, 2.5, True, [1, 2, 3], [[1.0, 2.0], [3.0, 4.0]], (1, 2)])
def test_numbers_and_lists_become_float64(data):
    t = Tensor(data)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_arrays_keep_their_dtype(dtype):
    assert Tensor(np.zeros((2, 2), dtype=dtype)).dtype == dtype


def test_dtype_argument_converts():
    t = Tensor([1, 2], dtype=np.float32)
    assert t.dtype == np.float32
    assert Tensor(np.arange(3), dtype=np.float64, requires_grad=True).requires_grad


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.bool_])
def test_requires_grad_on_integer_or_boolean_data_is_a_type_error(dtype):
    with pytest.raises(TypeError, match=np.dtype(dtype).name):
        Tensor(np.ones(3, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize(
    "data, named",
    [
        ("abc", "str"),
        (["a", "b"], "list"),
        ([[1.0, 2.0], [3.0]], "list"),
        (object(), "object"),
        (None, "None"),
        ({"a": 1.0}, "dict"),
        (np.array(["x", "y"]), "<U1"),
        (np.array([1.0, None], dtype=object), "object"),
    ],
)
def test_bad_data_is_a_type_error_naming_what_was_given(data, named):
    with pytest.raises(TypeError, match=named):
        Tensor(data)


def test_tensor_of_an_array_copies_it():
    array = np.array([1.0, 2.0])
    t = Tensor(array, requires_grad=True)
    array[0] = 100.0
    assert t.data[0] == 1.0
    t.data[1] = -5.0
    assert array[1] == 2.0


def test_attributes():
    t = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True, name="w")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float32
    assert t.name == "w" and t.requires_grad and t.is_leaf and t.grad is None
    np.testing.assert_array_equal(t.T.data, t.data.T)
    assert t.T.shape == (3, 2)
    assert Tensor([1.0, 2.0]).T.shape == (2,)
    assert Tensor(np.zeros((2, 3, 4))).T.shape == (4, 3, 2)
    assert len(t) == 2


def test_item_and_numpy():
    assert Tensor([[2.5]]).item() == 2.5 and isinstance(Tensor(2.5).item(), float)
    t = Tensor([1.0, 2.0])
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    assert np.shares_memory(t.numpy(), t.data)  # as torch's .numpy(): no copy


def test_repr_names_the_operation():
    x = Tensor([1.0], requires_grad=True, name="x")
    assert "requires_grad=True" in repr(x) and "'x'" in repr(x)
    assert "Mul" in repr(x * 2.0)


# ----- operators -------------------------------------------------------------------------------


def test_reflected_operators_give_tensors_with_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    array = np.array([3.0, 5.0])
    matrix = np.array([[1.0, 2.0], [3.0, 4.0]])
    results = {
        "arr * t": (array * x, array * x.data),
        "arr + t": (array + x, array + x.data),
        "arr - t": (array - x, array - x.data),
        "arr / t": (array / x, array / x.data),
        "arr ** t": (array**x, array**x.data),
        "2 - t": (2 - x, 2 - x.data),
        "2 / t": (2 / x, 2 / x.data),
        "arr @ t": (matrix @ x, matrix @ x.data),
    }
    for name, (result, expected) in results.items():
        assert isinstance(result, Tensor), name
        assert result.requires_grad, name
        np.testing.assert_allclose(result.data, expected, err_msg=name)
    x.zero_grad()
    (2 - x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, -1.0])
    x.zero_grad()
    (matrix @ x).sum().backward()
    np.testing.assert_array_equal(x.grad, matrix.sum(axis=0))


def test_comparisons_return_plain_boolean_arrays():
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    other = Tensor([3.0, 2.0, 1.0])
    cases = {
        "<": (t < 2.0, [True, False, False]),
        "<=": (t <= other, [True, True, False]),
        ">": (t > np.array([0.0, 5.0, 0.0]), [True, False, True]),
        ">=": (t >= 2, [False, True, True]),
        "==": (t == other, [False, True, False]),
        "!=": (t != 2.0, [True, False, True]),
        "reflected": (2.0 < t, [False, False, True]),
    }
    for name, (result, expected) in cases.items():
        assert type(result) is np.ndarray and result.dtype == bool, name
        np.testing.assert_array_equal(result, expected, err_msg=name)


def test_tensors_hash_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2


def test_matmul_with_mismatched_inner_dimensions_names_both_shapes():
    with pytest.raises(ValueError) as caught:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    assert "(2, 3)" in str(caught.value) and "(4, 5)" in str(caught.value)
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        Tensor(np.ones(3)) @ Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        Tensor(np.ones((2, 3))).matmul(np.ones(2))


def test_broadcasting_mismatch_names_the_operation_and_shapes():
    with pytest.raises(ValueError) as caught:
        Tensor(np.ones((2, 3)), requires_grad=True) + Tensor(np.ones(4))
    message = str(caught.value)
    assert "add" in message and "(2, 3)" in message and "(4,)" in message
    with pytest.raises(ValueError, match=r"mul.*\(2, 3\).*\(2,\)"):
        Tensor(np.ones((2, 3))) * np.ones(2)


# ----- float32 all the way through --------------------------------------------------------

FLOAT32_OPS = {
    "t + n": lambda t, u: t + 1.5,
    "n + t": lambda t, u: 1.5 + t,
    "t - n": lambda t, u: t - 2,
    "n - t": lambda t, u: 2 - t,
    "t * n": lambda t, u: t * 3,
    "n * t": lambda t, u: 0.5 * t,
    "t / n": lambda t, u: t / 4.0,
    "n / t": lambda t, u: 4.0 / t,
    "t ** n": lambda t, u: t**2.5,
    "t ** int": lambda t, u: t**3,
    "n ** t": lambda t, u: 1.5**t,
    "t ** u": lambda t, u: t**u,
    "-t": lambda t, u: -t,
    "t @ u": lambda t, u: t @ u.T,
    "exp": lambda t, u: t.exp(),
    "log": lambda t, u: t.log(),
    "sqrt": lambda t, u: t.sqrt(),
    "abs": lambda t, u: (t - 1.0).abs(),
    "tanh": lambda t, u: t.tanh(),
    "sigmoid": lambda t, u: t.sigmoid(),
    "relu": lambda t, u: (t - 1.0).relu(),
    "sum": lambda t, u: t.sum(axis=0),
    "mean": lambda t, u: t.mean(axis=-1, keepdims=True),
    "max": lambda t, u: t.max(axis=1),
    "softmax": lambda t, u: t.softmax(),
    "log_softmax": lambda t, u: t.log_softmax(axis=0),
    "reshape": lambda t, u: t.reshape(-1),
    "transpose": lambda t, u: t.transpose(1, 0),
    "getitem": lambda t, u: t[np.array([0, 0, 1])],
    "concatenate": lambda t, u: ag.concatenate([t, u], axis=1),
    "stack": lambda t, u: ag.stack([t, u]),
    "where": lambda t, u: ag.where(t.data > 1.0, t, 0.0),
    "where number first": lambda t, u: ag.where(t.data > 1.0, 2, u),
}


@pytest.mark.parametrize("name", FLOAT32_OPS)
def test_float32_stays_float32_in_values_and_gradients(name):
    t_data = np.array([[0.5, 1.25, 2.0], [1.5, 0.75, 3.0]], dtype=np.float32)
    u_data = np.array([[1.0, 2.0, 0.5], [0.25, 1.5, 2.5]], dtype=np.float32)
    t = Tensor(t_data, requires_grad=True)
    u = Tensor(u_data, requires_grad=True)
    out = FLOAT32_OPS[name](t, u)
    assert out.dtype == np.float32, "value"
    out.backward(np.ones(out.shape, dtype=np.float32))
    for leaf in (t, u):
        assert leaf.grad is None or leaf.grad.dtype == np.float32, "gradient"
    assert t.grad is not None or u.grad is not None
    # The same in float64 gives the same numbers, to float32 precision.
    t64 = Tensor(t_data.astype(np.float64), requires_grad=True)
    u64 = Tensor(u_data.astype(np.float64), requires_grad=True)
    out64 = FLOAT32_OPS[name](t64, u64)
    out64.backward(np.ones(out64.shape))
    np.testing.assert_allclose(out.data, out64.data, rtol=1e-6, atol=1e-6)
    for leaf, leaf64 in ((t, t64), (u, u64)):
        if leaf64.grad is not None:
            np.testing.assert_allclose(leaf.grad, leaf64.grad, rtol=1e-5, atol=1e-6)


def test_float32_mixed_with_float64_array_follows_numpy_promotion():
    t = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    out = t * np.array([2.0, 3.0])  # a float64 array: float64, as NumPy and PyTorch give
    assert out.dtype == np.float64
    out.sum().backward()
    assert t.grad.dtype == np.float32  # the gradient still takes the leaf's dtype


def test_integer_array_as_a_constant_operand():
    t = Tensor([1.0, 2.0], requires_grad=True)
    out = t * np.array([2, 3])
    assert out.dtype == np.float64
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [2.0, 3.0])


# ----- indexing ---------------------------------------------------------------------------


def test_index_by_tensor_and_list():
    t = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    np.testing.assert_array_equal(t[Tensor(np.array([2, 0]))].data, [30.0, 10.0])
    np.testing.assert_array_equal(t[[1, 1]].data, [20.0, 20.0])
    t[[1, 1]].sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 2.0, 0.0])
