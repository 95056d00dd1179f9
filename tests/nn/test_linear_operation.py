"""x @ weight.T + bias as one operation (nn/_linear.py): its derivatives (finite differences, by
hand, PyTorch, second order), the same bits as the transpose, product and sum it replaces, one node
per nn.Linear, and a compiled step that replays it."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor, gradcheck, gradgradcheck
from nn._linear import Linear as LinearOperation

rng = np.random.default_rng(7)


def leaf(*shape: int, dtype=np.float64) -> Tensor:
    return Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


# ----- the derivative ---------------------------------------------------------------------------
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_first_and_second_derivatives_against_finite_differences(with_bias):
    inputs = [leaf(5, 3), leaf(4, 3)] + ([leaf(4)] if with_bias else [])
    assert gradcheck(LinearOperation.apply, *inputs)
    assert gradgradcheck(LinearOperation.apply, *inputs)  # X and W meet in Gᵀ X and G W
    x_constant = Tensor(inputs[0].data)  # the data batch: only W (and b) take a gradient
    assert gradgradcheck(lambda w, *b: LinearOperation.apply(x_constant, w, *b), *inputs[1:])


def test_gradients_are_the_hand_derived_ones():
    x, w, b = leaf(6, 3), leaf(2, 3), leaf(2)
    z = LinearOperation.apply(x, w, b)
    g = rng.standard_normal((6, 2))
    z.backward(g)
    tight = {"rtol": 1e-14, "atol": 1e-14}
    np.testing.assert_allclose(z.data, x.data @ w.data.T + b.data, **tight)
    np.testing.assert_allclose(x.grad, g @ w.data, **tight)  # G W
    np.testing.assert_allclose(w.grad, g.T @ x.data, **tight)  # Gᵀ X
    np.testing.assert_allclose(b.grad, g.sum(axis=0), **tight)  # Σ_rows G


@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_value_and_gradients_match_pytorch(with_bias):
    torch = pytest.importorskip("torch")
    x, w, b = leaf(6, 3), leaf(4, 3), leaf(4)
    g = rng.standard_normal((6, 4))
    out = nn.functional.linear(x, w, b if with_bias else None)
    out.backward(g)
    tx, tw, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
    tout = torch.nn.functional.linear(tx, tw, tb if with_bias else None)
    tout.backward(torch.tensor(g))
    close = {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **close)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **close)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), **close)
    assert (b.grad is None) is (not with_bias)
    if with_bias:
        np.testing.assert_allclose(b.grad, tb.grad.numpy(), **close)


def test_only_the_inputs_that_take_a_gradient_get_one_computed():
    x, w, b = Tensor(rng.standard_normal((5, 3))), leaf(2, 3), leaf(2)  # x: a data batch
    fn = nn.functional.linear(x, w, b)._ctx
    gx, gw, gb = fn.backward(np.ones((5, 2)))
    assert gx is None and gw is not None and gb is not None
    frozen = Tensor(w.data)  # a frozen weight, a bias that learns
    gx, gw, gb = nn.functional.linear(leaf(5, 3), frozen, b)._ctx.backward(np.ones((5, 2)))
    assert gx is not None and gw is None and gb is not None


# ----- the same bits as x @ w.T + b -------------------------------------------------------------
def operand(shape: tuple[int, int], layout: str, dtype) -> tuple[Tensor, Tensor]:
    """(the leaf, the operand made from it): C order, a transposed view, or every other column."""
    if layout == "C":
        t = leaf(*shape, dtype=dtype)
        return t, t
    if layout == "T":
        t = leaf(*shape[::-1], dtype=dtype)
        return t, t.T
    t = leaf(shape[0], 2 * shape[1], dtype=dtype)
    return t, t[:, ::2]


LAYOUTS = ["C", "T", "strided"]
SHAPES = [(5, 3, 4), (1, 3, 2), (7, 4, 1), (3, 1, 5), (64, 64, 128), (33, 70, 17)]  # N, in, out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("x_layout", LAYOUTS)
@pytest.mark.parametrize("w_layout", LAYOUTS)
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_value_and_gradients_are_the_bits_of_transpose_matmul_add(
    dtype, shape, x_layout, w_layout, with_bias
):
    n, inner, out = shape
    (x, xs), (w, ws) = operand((n, inner), x_layout, dtype), operand((out, inner), w_layout, dtype)
    b = leaf(out, dtype=dtype) if with_bias else None
    twins = [Tensor(t.data.copy(), requires_grad=True) for t in (x, w, b) if t is not None]
    x2, w2, b2 = [*twins, None][:3]
    xs2 = x2 if x_layout == "C" else x2.T if x_layout == "T" else x2[:, ::2]
    ws2 = w2 if w_layout == "C" else w2.T if w_layout == "T" else w2[:, ::2]
    assert xs.data.strides == xs2.data.strides and ws.data.strides == ws2.data.strides

    fused = nn.functional.linear(xs, ws, b)
    composed = xs2 @ ws2.T if b2 is None else xs2 @ ws2.T + b2  # what linear computed before
    assert fused._ctx.name == "Linear" and composed._ctx.name != "Linear"
    g = rng.standard_normal((n, out)).astype(dtype)
    fused.backward(g)
    composed.backward(g)
    assert fused.data.tobytes() == composed.data.tobytes()
    for mine, theirs in zip([x, w, b], [x2, w2, b2], strict=True):
        if mine is not None:
            assert mine.grad.dtype == theirs.grad.dtype
            assert mine.grad.tobytes() == theirs.grad.tobytes()
            assert mine.grad.strides == theirs.grad.strides  # laid out alike, too


def test_mixed_dtypes_give_the_bits_of_the_composition_too():
    x, w, b = leaf(5, 3, dtype=np.float32), leaf(4, 3), leaf(4, dtype=np.float32)
    x2, w2, b2 = (Tensor(t.data.copy(), requires_grad=True) for t in (x, w, b))
    fused, composed = nn.functional.linear(x, w, b), x2 @ w2.T + b2
    g = rng.standard_normal((5, 4))
    fused.backward(g)
    composed.backward(g)
    assert fused.dtype == np.float64 and fused.data.tobytes() == composed.data.tobytes()
    for mine, theirs in ((x, x2), (w, w2), (b, b2)):
        assert mine.grad.dtype == mine.dtype
        assert mine.grad.tobytes() == theirs.grad.tobytes()


# ----- where the operation is used, and where it is not -----------------------------------------
def operations(root: Tensor) -> list[str]:
    """Every recorded operation behind ``root``, once each, newest first."""
    found, seen, stack = [], set(), [root]
    while stack:
        t = stack.pop()
        if t._ctx is not None and id(t._ctx) not in seen:
            seen.add(id(t._ctx))
            found.append(t._ctx)
            stack.extend(t._ctx.inputs)
    return [fn.name for fn in sorted(found, key=lambda fn: -fn.seq)]


def test_nn_linear_records_one_operation_with_its_parameters_as_inputs():
    layer, x = nn.Linear(3, 2), Tensor(np.ones((4, 3)))
    out = layer(x)
    assert operations(out) == ["Linear"]
    assert all(a is b for a, b in zip(out._ctx.inputs, (x, layer.weight, layer.bias), strict=True))
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias(x)._ctx.inputs[1] is no_bias.weight and len(no_bias(x)._ctx.inputs) == 2


def test_a_two_layer_network_with_cross_entropy_is_five_operations():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = nn.CrossEntropyLoss()(model(np.ones((5, 4))), np.array([0, 1, 2, 1, 0]))
    assert operations(loss) == ["NllLoss", "LogSoftmax", "Linear", "ReLU", "Linear"]


@pytest.mark.parametrize(
    "x_shape, bias_shape",
    [((3,), (2,)), ((4, 5, 3), (2,)), ((5, 3), (1,)), ((5, 3), ())],
    ids=["one row", "stacked batches", "bias (1,)", "bias 0-d"],
)
def test_other_shapes_keep_the_composition_and_its_bits(x_shape, bias_shape):
    x, w, b = leaf(*x_shape), leaf(2, 3), leaf(*bias_shape)
    out = nn.functional.linear(x, w, b)
    assert operations(out) == ["Add", "MatMul", "Transpose"]
    twins = [Tensor(t.data.copy(), requires_grad=True) for t in (x, w, b)]
    assert out.data.tobytes() == (twins[0] @ twins[1].T + twins[2]).data.tobytes()


def test_wrong_shapes_raise_the_errors_they_raised_before():
    x, w = Tensor(np.ones((5, 3))), Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"in_features = 3; got an input of shape \(5, 4\)"):
        nn.functional.linear(Tensor(np.ones((5, 4))), w)
    with pytest.raises(ValueError) as composed:
        x @ w.T + Tensor(np.ones(4))
    with pytest.raises(ValueError) as fused:
        nn.functional.linear(x, w, Tensor(np.ones(4)))
    assert str(fused.value) == str(composed.value)


# ----- compile, copies --------------------------------------------------------------------------
def mlp(dtype) -> nn.Sequential:
    r = np.random.default_rng(3)
    return nn.Sequential(
        nn.Linear(6, 16, rng=r, dtype=dtype), nn.ReLU(), nn.Linear(16, 4, rng=r, dtype=dtype)
    )


def step(model: nn.Module, x: np.ndarray, y: np.ndarray) -> Tensor:
    return nn.CrossEntropyLoss()(model(x), y)


def bits(model: nn.Module, run, x: np.ndarray, y: np.ndarray) -> list[bytes]:
    model.zero_grad()
    loss = run(model, x, y)
    loss.backward()
    return [loss.data.tobytes()] + [p.grad.tobytes() for p in model.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_compiled_step_replays_the_operation_to_eagers_bits(dtype):
    eager_model, model = mlp(dtype), mlp(dtype)
    compiled = ag.compile(step)
    data = np.random.default_rng(4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(5):
            x, y = data.standard_normal((8, 6)).astype(dtype), data.integers(0, 4, 8)
            assert bits(model, compiled, x, y) == bits(eager_model, step, x, y)
    assert compiled.eager_reason is None and not caught and len(compiled.traces) == 1
    (trace,) = compiled.traces.values()
    replayed = [op[0].__name__ for op in trace.ops]
    assert replayed == ["Linear", "ReLU", "Linear", "LogSoftmax", "NllLoss"]


def test_a_copied_or_pickled_model_computes_the_same_bits():
    model = mlp(np.float32)
    x, y = np.ones((3, 6), np.float32), np.array([0, 3, 1])
    step(model, x, y).backward()  # a model that has been through backward
    expected = bits(model, step, x, y)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert bits(twin, step, x, y) == expected
        assert operations(twin(x)) == ["Linear", "ReLU", "Linear"]
