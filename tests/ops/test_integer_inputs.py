"""Integer and bool inputs to float-valued functions are computed in float64.

The rule (autograd_lite/ops/elementwise.py, ``as_floating``): an operation whose value is not an
integer (exp, log, sigmoid, softmax, mean, erf, ...) converts an integer or bool input to float64,
the library's default floating dtype, as PyTorch computes such functions in its default dtype.
Before, NumPy's own promotion chose float16 for (u)int8 and bool (three digits: e^5 came out as
148.375) and float32 for (u)int16, −|x| wrapped around for unsigned integers (sigmoid of uint8 1
was NaN), x + 3 wrapped in int8 (hardsigmoid), erf returned integers and logsumexp raised.

Pinned here: every float-valued operation on every integer and bool dtype gives float64, bit for
bit what it gives for the same values as float64 (and, for the plain formulas, what NumPy gives
in float64); float inputs keep their dtype; integer-valued operations keep NumPy's integer
dtypes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Tensor

INTEGER_DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]


def values(dtype: str) -> np.ndarray:
    """Small, large and extreme values of ``dtype`` (negative ones where it has them)."""
    if dtype == "bool":
        return np.array([True, False, True, True])
    info = np.iinfo(dtype)
    wanted = {0, 1, 2, 5, 100, 200, info.max, -1, -3, -100, info.min}
    return np.array(sorted(v for v in wanted if info.min <= v <= info.max), dtype=dtype)


def threes(t: Tensor) -> Tensor:
    """An integer divisor of t's shape, the same whatever t's dtype."""
    return Tensor(np.full(t.shape, 3, dtype=np.int8))


# Every operation whose value is a float for integer arguments, by the spelling users reach it by.
FLOAT_VALUED: dict[str, Callable[[Tensor], Tensor]] = {
    "exp": lambda t: t.exp(),
    "log": lambda t: t.log(),
    "sqrt": lambda t: t.sqrt(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "log1p": lambda t: t.log1p(),
    "expm1": lambda t: t.expm1(),
    "log2": lambda t: t.log2(),
    "log10": lambda t: t.log10(),
    "exp2": lambda t: t.exp2(),
    "rsqrt": lambda t: t.rsqrt(),
    "reciprocal": lambda t: t.reciprocal(),
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "erf": lambda t: t.erf(),
    "gelu": lambda t: t.gelu(),
    "gelu tanh": lambda t: t.gelu("tanh"),
    "silu": lambda t: t.silu(),
    "mish": lambda t: t.mish(),
    "softplus": lambda t: t.softplus(),
    "softplus beta=2 threshold=5": lambda t: t.softplus(beta=2, threshold=5),
    "softsign": lambda t: t.softsign(),
    "logsigmoid": lambda t: t.logsigmoid(),
    "leaky_relu": lambda t: t.leaky_relu(),
    "elu": lambda t: t.elu(),
    "selu": lambda t: t.selu(),
    "celu": lambda t: t.celu(0.5),
    "hardsigmoid": lambda t: t.hardsigmoid(),
    "hardswish": lambda t: t.hardswish(),
    "logaddexp": lambda t: t.logaddexp(t.flip(0)),
    "logaddexp(t, 1.5)": lambda t: ag.logaddexp(t, 1.5),
    "softmax": lambda t: t.softmax(),
    "log_softmax": lambda t: t.log_softmax(),
    "logsumexp": lambda t: t.logsumexp(),
    "mean": lambda t: t.mean(),
    "mean over an axis": lambda t: t.reshape(1, -1).mean(axis=1),
    "var": lambda t: t.var(),
    "std": lambda t: t.std(correction=0),
    "true division": lambda t: t / threes(t),
    "division by a number": lambda t: t / 3,
    "number divided": lambda t: 3 / t,
    "power 0.5": lambda t: t**0.5,
    "power 2.5": lambda t: t**2.5,
    "number to the power": lambda t: 2.0**t,
}


def bits(array: np.ndarray) -> np.ndarray:
    """The float64 values as raw bits, so that -0.0, NaN and every last place count."""
    assert array.dtype == np.float64
    return np.ascontiguousarray(array).view(np.uint64)


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("name", FLOAT_VALUED)
def test_a_float_valued_operation_of_integers_is_its_float64_value_to_the_bit(name, dtype):
    fn, x = FLOAT_VALUED[name], values(dtype)
    with np.errstate(all="ignore"):  # log 0, 1/0 and log of negatives: the same inf and NaN
        got = fn(Tensor(x)).data
        expected = fn(Tensor(x.astype(np.float64))).data
    assert got.dtype == np.float64
    np.testing.assert_array_equal(bits(got), bits(expected))


# ----- the same values from NumPy's float64 functions, not from the library ----------------------
NUMPY_FORMULAS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[np.ndarray], np.ndarray]]] = {
    "exp": (lambda t: t.exp(), np.exp),
    "log": (lambda t: t.log(), np.log),
    "sqrt": (lambda t: t.sqrt(), np.sqrt),
    "tanh": (lambda t: t.tanh(), np.tanh),
    "log1p": (lambda t: t.log1p(), np.log1p),
    "expm1": (lambda t: t.expm1(), np.expm1),
    "log2": (lambda t: t.log2(), np.log2),
    "log10": (lambda t: t.log10(), np.log10),
    "exp2": (lambda t: t.exp2(), np.exp2),
    "rsqrt": (lambda t: t.rsqrt(), lambda x: 1 / np.sqrt(x)),
    "reciprocal": (lambda t: t.reciprocal(), lambda x: 1 / x),
    "sin": (lambda t: t.sin(), np.sin),
    "cos": (lambda t: t.cos(), np.cos),
    "erf": (lambda t: t.erf(), np.vectorize(math.erf, otypes=[np.float64])),
    "softsign": (lambda t: t.softsign(), lambda x: x / (1 + np.abs(x))),
    "mean": (lambda t: t.mean(), lambda x: np.add.reduce(x) / x.size),
}


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("name", NUMPY_FORMULAS)
def test_a_plain_formula_of_integers_is_numpys_float64_value_to_the_bit(name, dtype):
    ours, numpys = NUMPY_FORMULAS[name]
    x = values(dtype)
    with np.errstate(all="ignore"):
        got, expected = ours(Tensor(x)).data, numpys(x.astype(np.float64))
    np.testing.assert_array_equal(bits(got), bits(np.asarray(expected)))


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_sigmoid_softmax_and_gelu_of_integers_match_their_textbook_formulas(dtype):
    """Composed of several NumPy calls, so checked to a few ulps against the plain formula."""
    x = values(dtype)
    f = x.astype(np.float64)
    with np.errstate(over="ignore"):  # e^(-min) overflows in the textbook formula: σ is then 0
        sigmoid = 1 / (1 + np.exp(-f))
    np.testing.assert_allclose(Tensor(x).sigmoid().data, sigmoid, rtol=4e-16, atol=0)
    e = np.exp(f - f.max())
    np.testing.assert_allclose(Tensor(x).softmax().data, e / e.sum(), rtol=1e-15, atol=1e-300)
    gelu = f * 0.5 * (1 + np.vectorize(math.erf)(f / math.sqrt(2)))
    np.testing.assert_allclose(Tensor(x).gelu().data, gelu, rtol=4e-16, atol=0)


# ----- the numbers the old promotion got wrong, by name ------------------------------------------
def test_sigmoid_of_unsigned_integers_is_not_nan():
    """−|x| wrapped around for unsigned integers: σ(1) and σ(200) of uint8 came out NaN."""
    for dtype in ("uint8", "uint16", "uint32", "uint64"):
        z = Tensor(np.array([0, 1, 5, 200], dtype=dtype)).sigmoid().data
        assert z.dtype == np.float64
        assert not np.isnan(z).any(), dtype
        np.testing.assert_allclose(z, [0.5, 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(-5)), 1.0])


def test_exp_of_uint8_has_float64_digits_not_float16():
    """NumPy computes exp of uint8 in float16: e^5 was 148.375."""
    z = Tensor(np.array([0, 1, 5], dtype=np.uint8)).exp().data
    assert z.dtype == np.float64
    assert z.tolist() == [1.0, math.e, math.exp(5)]


def test_bool_inputs_are_zeros_and_ones():
    """NumPy has no negative of bools: sigmoid, silu, softmax of bools raised its TypeError."""
    t = Tensor(np.array([True, False]))
    assert t.sigmoid().data.tolist() == [1 / (1 + math.exp(-1)), 0.5]
    assert t.silu().data.tolist() == [1 / (1 + math.exp(-1)), 0.0]
    assert t.softmax().data.tolist() == pytest.approx([math.e / (1 + math.e), 1 / (1 + math.e)])


def test_erf_of_integers_is_not_rounded_to_integers():
    z = Tensor(np.array([0, 1, -2])).erf().data
    assert z.dtype == np.float64
    assert z.tolist() == [0.0, math.erf(1), math.erf(-2)]


def test_int8_extremes_do_not_wrap_inside_a_formula():
    """hardsigmoid's x + 3, softsign's 1 + |x| and softmax's x − max(x) wrapped in int8."""
    t = Tensor(np.array([-128, 0, 127], dtype=np.int8))
    assert t.hardsigmoid().data.tolist() == [0.0, 0.5, 1.0]
    assert t.softsign().data.tolist() == [-128 / 129, 0.0, 127 / 128]
    assert not np.isnan(t.softmax().data).any()
    assert t.logsumexp().item() == pytest.approx(127.0)


def test_mean_of_large_integers_is_the_float64_mean_to_the_bit():
    """np.mean converts integers chunk by chunk, which sums in another order than the float64
    mean for more than 8192 elements (here it differed in the last place)."""
    x = np.random.default_rng(0).integers(-(2**53), 2**53, 10_000)
    assert Tensor(x).mean().item() == Tensor(x.astype(np.float64)).mean().item()


def test_integer_and_float_operands_keep_numpys_promotion():
    """With a float operand the float decides, as before: int8 with float16 stays float16."""
    ints = Tensor(np.array([0, 1, 3], dtype=np.int8))
    halves = Tensor(np.array([0.5, -1.0, 2.0], dtype=np.float16))
    assert ag.logaddexp(ints, halves).dtype == np.float16
    assert ag.logaddexp(halves, ints).dtype == np.float16
    assert (ints / halves).dtype == np.float16
    assert (halves**ints).dtype == np.float16


# ----- float inputs are untouched ---------------------------------------------------------------
FLOAT_PINS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[np.ndarray], np.ndarray]]] = {
    "exp": (lambda t: t.exp(), np.exp),
    "log1p": (lambda t: t.log1p(), np.log1p),
    "tanh": (lambda t: t.tanh(), np.tanh),
    "sin": (lambda t: t.sin(), np.sin),
    "mean": (lambda t: t.mean(), np.mean),
}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", FLOAT_PINS)
def test_float_inputs_keep_their_dtype_and_numpys_value(name, dtype):
    ours, numpys = FLOAT_PINS[name]
    x = np.array([-0.5, 0.0, 0.25, 3.0], dtype=dtype)
    z = ours(Tensor(x)).data
    expected = np.asarray(numpys(x))
    assert z.dtype == dtype
    assert z.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "erf", "softmax", "gelu", "logaddexp", "var"])
def test_float_inputs_keep_their_dtype(name, dtype):
    x = np.array([-1.5, 0.0, 0.25, 3.0], dtype=dtype)
    assert FLOAT_VALUED[name](Tensor(x)).dtype == dtype


# ----- integer-valued operations keep NumPy's integer dtypes -------------------------------------
INTEGER_VALUED: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (lambda t: t.relu(), lambda x: np.maximum(x, 0)),
    "abs": (lambda t: t.abs(), np.abs),
    "add": (lambda t: t + t, lambda x: x + x),
    "mul": (lambda t: t * t, lambda x: x * x),
    "neg": (lambda t: -t, lambda x: -x),
    "sum": (lambda t: t.sum(), np.sum),
    "max": (lambda t: t.max(), np.max),
    "square": (lambda t: t.square(), np.square),
    "indexing": (lambda t: t[1:], lambda x: x[1:]),
}


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
@pytest.mark.parametrize("name", INTEGER_VALUED)
def test_integer_valued_operations_keep_numpys_integer_dtype(name, dtype):
    ours, numpys = INTEGER_VALUED[name]
    x = np.array([0, 1, 5, 200], dtype=dtype)
    z, expected = ours(Tensor(x)).data, np.asarray(numpys(x))
    assert z.dtype == expected.dtype
    assert z.dtype.kind in "iu"
    np.testing.assert_array_equal(z, expected)
