"""compile on every network of examples/: training replays to eager's bits, or, where the loss
makes a new array from the data on every call (tutorial 003's `1 - y`), runs eagerly with a
warning that says so. Either way the numbers are eager's."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor, no_grad

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

import hessian_newton_222  # noqa: E402
import linear_221_symmetry  # noqa: E402
import planar_tanh_sigmoid  # noqa: E402
import three_two_one_sigmoid as t321  # noqa: E402
import verify_manual_backprop  # noqa: E402
import worked_example_222  # noqa: E402


def net_222():
    w_hidden = Tensor(worked_example_222.W_HIDDEN, requires_grad=True)
    w_output = Tensor(worked_example_222.W_OUTPUT, requires_grad=True)
    return [w_hidden, w_output], lambda: worked_example_222.forward(w_hidden, w_output)["E_total"]


def net_222_output_weights():
    w = Tensor(worked_example_222.W_OUTPUT.ravel(), requires_grad=True)
    return [w], lambda: hessian_newton_222.error(w)


def net_321():
    w_ih = Tensor(t321.W_INPUT_HIDDEN, requires_grad=True)
    w_ho = Tensor(t321.W_HIDDEN_OUTPUT, requires_grad=True)

    def error() -> Tensor:
        hidden_out = (Tensor(t321.X) @ w_ih).sigmoid()
        output = (hidden_out * w_ho).sum().sigmoid()
        return 0.5 * (t321.TARGET - output) ** 2

    return [w_ih, w_ho], error


def net_221():
    model = linear_221_symmetry.symmetric_model()
    row = linear_221_symmetry.DATA[0]
    x, y = Tensor(row[None, :2]), Tensor(row[None, 2:])
    return list(model.parameters()), lambda: nn.MSELoss()(model(x), y)


def net_relu_mse():
    params, x, y = verify_manual_backprop.relu_data()
    tensors = {k: Tensor(v, requires_grad=True) for k, v in params.items()}
    return list(tensors.values()), lambda: verify_manual_backprop.relu_mse_loss(tensors, x, y)


def net_tanh_cross_entropy():
    params, x, y = verify_manual_backprop.tanh_data()
    tensors = {k: Tensor(v, requires_grad=True) for k, v in params.items()}
    return list(tensors.values()), lambda: verify_manual_backprop.cross_entropy_loss(tensors, x, y)


def net_planar_bce():
    x, y, params = planar_tanh_sigmoid.tutorial_test_case()
    model = planar_tanh_sigmoid.tanh_sigmoid_net(params)
    inputs, targets = Tensor(x.T), Tensor(y.T)
    return list(model.parameters()), lambda: nn.BCELoss()(model(inputs), targets)


def net_digits_cross_entropy():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 32, rng=rng), nn.ReLU(), nn.Linear(32, 10, rng=rng))
    x, labels = Tensor(rng.standard_normal((16, 64))), rng.integers(0, 10, 16)
    return list(model.parameters()), lambda: nn.CrossEntropyLoss()(model(x), labels)


REPLAYED = [
    net_222,
    net_222_output_weights,
    net_321,
    net_221,
    net_relu_mse,
    net_digits_cross_entropy,
    net_planar_bce,
]
# An array made inside the loss on every call: `1 - y` of a NumPy target in tutorial 003's
# cross-entropy (a new array each call, which a trace cannot tell from a mask computed from the
# data).
EAGER = [net_tanh_cross_entropy]


def train(params, loss_fn, steps: int) -> list[bytes]:
    seen = []
    for _ in range(steps):
        loss = loss_fn()
        for p in params:
            p.grad = None
        loss.backward()
        with no_grad():
            for p in params:
                p -= 0.1 * p.grad
        seen.append(loss.data.tobytes())
        seen += [p.grad.tobytes() for p in params]
    return seen


@pytest.mark.parametrize("make", REPLAYED + EAGER, ids=lambda f: f.__name__)
def test_training_an_example_network_compiled_gives_eager_bits(make):
    eager_params, eager_fn = make()
    params, fn = make()
    compiled = ag.compile(fn)
    expected = train(eager_params, eager_fn, 6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = train(params, compiled, 6)
    assert got == expected
    for p, q in zip(eager_params, params, strict=True):
        assert p.data.tobytes() == q.data.tobytes()
    if make in REPLAYED:
        assert compiled.eager_reason is None and not caught
        assert len(compiled.traces) == 1
    else:
        assert "differs between two calls" in compiled.eager_reason
        assert len(caught) == 1
