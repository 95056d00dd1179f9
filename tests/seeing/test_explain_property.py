"""explain()'s value is backward's gradient, on random graphs built from every operation.

Each graph applies a few operations drawn from the catalogue below to two leaves that require grad
(a (2, 3) matrix and a (3,) vector, broadcast) and a constant, names some intermediates at random,
and reduces to a scalar. explain() of a random element of a random leaf or intermediate must equal
the gradient backward() leaves in ``.grad`` (``retain_grad()`` for intermediates) to 1e-12, its
links must multiply to it, and every fork's branches must add up to the fork's link.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import Tensor, concatenate, explain, stack, where

MASK = np.array([[True, False, True], [False, True, True]])
MIX = Tensor(np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.6], [-0.2, 0.9, 0.5]]))

# name -> (operation names it records, how it makes a (2, 3) tensor from x and y, both (2, 3))
CATALOGUE = {
    "add": (("Add",), lambda x, y: x + y),
    "sub": (("Sub",), lambda x, y: x - y),
    "mul": (("Mul",), lambda x, y: x * y),
    "div": (("Div",), lambda x, y: x / (y * y + 1.0)),
    "neg": (("Neg",), lambda x, y: -x),
    "pow_scalar": (("PowScalar",), lambda x, y: x**3),
    "pow": (("Pow",), lambda x, y: (x.abs() + 0.5) ** y),
    "exp": (("Exp",), lambda x, y: (0.3 * x).exp()),
    "log": (("Log",), lambda x, y: (x * x + 1.0).log()),
    "sqrt": (("Sqrt",), lambda x, y: (x * x + 1.0).sqrt()),
    "abs": (("Abs",), lambda x, y: x.abs()),
    "tanh": (("Tanh",), lambda x, y: x.tanh()),
    "sigmoid": (("Sigmoid",), lambda x, y: x.sigmoid()),
    "relu": (("ReLU",), lambda x, y: x.relu()),
    "matmul": (("MatMul",), lambda x, y: x @ MIX),
    "matmul_both": (("MatMul", "Transpose"), lambda x, y: x @ (y.T @ y) * 0.2),
    "reshape_transpose": (("Reshape", "Transpose"), lambda x, y: x.reshape(3, 2).transpose()),
    "slice_concat": (("GetItem", "Concatenate"), lambda x, y: concatenate([x[:, 2:], x[:, :2]], 1)),
    "int_index": (("GetItem",), lambda x, y: x[[1, 1]] + y),  # row 1 used twice
    "stack": (("Stack",), lambda x, y: stack([y[1], x[0]])),
    "where": (("Where",), lambda x, y: where(MASK, x, y)),
    "sum_keepdims": (("Sum",), lambda x, y: x.sum(axis=1, keepdims=True) * y),
    "mean": (("Mean",), lambda x, y: x.mean(axis=0) + y),
    "max": (("Max",), lambda x, y: x.max(axis=1, keepdims=True) - y),
    "softmax": (("Softmax",), lambda x, y: x.softmax(axis=1)),
    "log_softmax": (("LogSoftmax",), lambda x, y: x.log_softmax(axis=0)),
    "broadcast_to": (("BroadcastTo",), lambda x, y: x.sum(axis=0).broadcast_to((2, 3)) * y),
    "cast": (("Cast",), lambda x, y: x.astype(np.float64) + y),
}


def check_explanation(loss: Tensor, wrt: Tensor, index: tuple) -> None:
    e = explain(loss, wrt, index=index)
    grad = wrt._grad  # a leaf's .grad, or an intermediate's kept by retain_grad()
    scale = max(1.0, float(np.abs(grad).max()))
    assert e.value == pytest.approx(grad[index], rel=1e-12, abs=1e-12 * scale), (index, str(e))
    product = np.prod([link.value for link in e.links]) if e.links else e.value
    assert product == pytest.approx(e.value, rel=1e-12, abs=1e-15)
    for link in e.links:
        if link.branches:
            total = sum(branch.value for branch in link.branches)
            assert total == pytest.approx(link.value, rel=1e-12, abs=1e-15)
    assert str(e).startswith(f"{e.symbol} = ")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_explain_equals_backward_on_random_graphs(data):
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    a = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="a")
    b = Tensor(rng.normal(size=3), requires_grad=True, name="b")
    pool = [a, a + b]  # b reaches everything through broadcasting
    for step in range(data.draw(st.integers(1, 4), label="steps")):
        name = data.draw(st.sampled_from(sorted(CATALOGUE)), label="operation")
        x, y = (pool[data.draw(st.integers(0, len(pool) - 1))] for _ in range(2))
        out = CATALOGUE[name][1](x, y)
        if data.draw(st.booleans(), label="named"):
            out.name = f"v{step}"
        pool.append(out)
    weights = Tensor(rng.normal(size=(2, 3)))
    loss = sum(((t * weights).sum() for t in pool[1:]), start=(a * a).sum())
    intermediates = [t for t in pool[1:] if t.requires_grad]
    for t in intermediates:
        t.retain_grad()
    loss.backward(retain_graph=True)
    targets = [a, b, *intermediates]
    wrt = targets[data.draw(st.integers(0, len(targets) - 1), label="wrt")]
    index = tuple(data.draw(st.integers(0, n - 1)) for n in wrt.shape)
    check_explanation(loss, wrt, index)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_operation_of_the_catalogue_alone(name):
    """Each operation once, deterministically, for leaves and the intermediate it makes."""
    rng = np.random.default_rng(sum(map(ord, name)))
    a = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="a")
    y = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="y")
    out = CATALOGUE[name][1](a, y)
    recorded = set()
    stack_ = [out]
    while stack_:
        t = stack_.pop()
        if t._ctx is not None:
            recorded.add(t._ctx.name)
            stack_.extend(t._ctx.inputs)
    assert set(CATALOGUE[name][0]) <= recorded
    out.retain_grad()
    loss = (out * Tensor(rng.normal(size=(2, 3)))).sum()
    loss.backward(retain_graph=True)
    for wrt in (a, y, out):
        if wrt._grad is None:  # y unused by this operation
            continue
        for index in np.ndindex(wrt.shape):
            check_explanation(loss, wrt, index)


def test_the_catalogue_covers_the_operations_the_engine_documents():
    documented = {
        "Add", "Sub", "Mul", "Div", "Neg", "PowScalar", "Pow", "MatMul", "GetItem", "Exp", "Log",
        "Sqrt", "Abs", "Tanh", "Sigmoid", "ReLU", "Sum", "Mean", "Max", "Softmax", "LogSoftmax",
        "Reshape", "Transpose", "Concatenate", "Stack", "Where", "BroadcastTo", "Cast",
    }  # fmt: skip
    covered = {op for ops, _ in CATALOGUE.values() for op in ops}
    assert documented <= covered, documented - covered
