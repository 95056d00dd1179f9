"""retain_grad() and register_hook(): PyTorch's values and semantics, pinned without torch too.

The network is tutorial 001's 2-2-2 in matrix form. Without torch the intermediates' gradients are
checked against the tutorial's error terms in closed form: ∂E/∂out_o = out_o − t,
δ_o = ∂E/∂net_o = (out_o − t)·out_o(1 − out_o), ∂E/∂out_h = W2ᵀδ_o, δ_h = (W2ᵀδ_o)·out_h(1 − out_h).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograd_lite import Tensor

X = np.array([0.05, 0.10])
TARGET = np.array([0.01, 0.99])
W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
W2 = np.array([[0.40, 0.45], [0.50, 0.55]])


def forward(lib, tensor):
    """The network with ``lib``'s operations (autograd_lite or torch): every value by name."""
    v = {"W1": tensor(W1, True), "W2": tensor(W2, True)}
    v["net_h"] = v["W1"] @ tensor(X, False) + 0.35
    v["out_h"] = lib.sigmoid(v["net_h"])
    v["net_o"] = v["W2"] @ v["out_h"] + 0.60
    v["out_o"] = lib.sigmoid(v["net_o"])
    v["E"] = (0.5 * (tensor(TARGET, False) - v["out_o"]) ** 2).sum()
    return v


class Ours:
    @staticmethod
    def sigmoid(t):
        return t.sigmoid()


def ours():
    return forward(Ours, lambda a, grad: Tensor(a, requires_grad=grad))


def theirs(torch):
    return forward(torch, lambda a, grad: torch.tensor(a, dtype=torch.float64, requires_grad=grad))


def closed_forms():
    out_h = 1 / (1 + np.exp(-(W1 @ X + 0.35)))
    out_o = 1 / (1 + np.exp(-(W2 @ out_h + 0.60)))
    delta_o = (out_o - TARGET) * out_o * (1 - out_o)
    d_out_h = W2.T @ delta_o
    return {
        "out_o": out_o - TARGET,
        "net_o": delta_o,
        "out_h": d_out_h,
        "net_h": d_out_h * out_h * (1 - out_h),
    }


INTERMEDIATES = ("net_h", "out_h", "net_o", "out_o")


def test_retain_grad_keeps_the_intermediates_gradients_as_the_error_terms():
    v = ours()
    for name in INTERMEDIATES:
        v[name].retain_grad()
    v["E"].backward()
    expected = closed_forms()
    for name in INTERMEDIATES:
        np.testing.assert_allclose(v[name].grad, expected[name], rtol=1e-13, atol=0)
    # the tutorial's figures: δ_o1 = 0.74136507 × 0.186815602, ∂E/∂out_h1 = 0.036350306
    assert abs(v["net_o"].grad[0] - 0.138498562) < 5e-10
    assert abs(v["out_h"].grad[0] - 0.036350306) < 5e-10


def test_retain_grad_matches_pytorch():
    torch = pytest.importorskip("torch")
    v, t = ours(), theirs(torch)
    for name in INTERMEDIATES:
        v[name].retain_grad()
        t[name].retain_grad()
    v["E"].backward()
    t["E"].backward()
    for name in (*INTERMEDIATES, "W1", "W2"):
        np.testing.assert_allclose(v[name].grad, t[name].grad.numpy(), rtol=1e-14, atol=1e-17)


def hooked(v, seen):
    """Two hooks on net_h (double it, then add one: order matters), a watching hook on out_o
    that returns nothing, and a hook on the leaf W2 that halves what is accumulated."""
    v["net_h"].register_hook(lambda g: seen.append(("double", np.array(g))) or g * 2)
    v["net_h"].register_hook(lambda g: seen.append(("plus one", np.array(g))) or g + 1)
    v["net_h"].retain_grad()  # sees the gradient after both hooks, as in PyTorch
    v["out_o"].register_hook(lambda g: seen.append(("watch", np.array(g))))
    v["W2"].register_hook(lambda g: g * 0.5)


def test_hooks_run_in_order_each_seeing_the_last_ones_replacement():
    v = ours()
    seen = []
    hooked(v, seen)
    v["E"].backward()
    expected = closed_forms()
    assert [name for name, _ in seen] == ["watch", "double", "plus one"]  # output side first
    np.testing.assert_allclose(seen[0][1], expected["out_o"], rtol=1e-13)
    np.testing.assert_allclose(seen[1][1], expected["net_h"], rtol=1e-13)
    np.testing.assert_allclose(seen[2][1], 2 * expected["net_h"], rtol=1e-13)
    np.testing.assert_allclose(v["net_h"].grad, 2 * expected["net_h"] + 1, rtol=1e-13)
    # the replacement is what flows on: ∂E/∂W1 is built from 2δ_h + 1, not δ_h
    np.testing.assert_allclose(v["W1"].grad, np.outer(2 * expected["net_h"] + 1, X), rtol=1e-13)
    # a leaf's hook changes what is accumulated
    np.testing.assert_allclose(v["W2"].grad, 0.5 * np.outer(expected["net_o"], v["out_h"].data))


def test_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    v, t = ours(), theirs(torch)
    seen_ours, seen_theirs = [], []
    hooked(v, seen_ours)
    # torch hands hooks torch tensors: the same hooks, on their numpy views, returning tensors
    t["net_h"].register_hook(lambda g: seen_theirs.append(("double", g.numpy().copy())) or g * 2)
    t["net_h"].register_hook(lambda g: seen_theirs.append(("plus one", g.numpy().copy())) or g + 1)
    t["net_h"].retain_grad()
    t["out_o"].register_hook(lambda g: seen_theirs.append(("watch", g.numpy().copy())))
    t["W2"].register_hook(lambda g: g * 0.5)
    v["E"].backward()
    t["E"].backward()
    assert [n for n, _ in seen_ours] == [n for n, _ in seen_theirs]
    for (_, a), (_, b) in zip(seen_ours, seen_theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    for name in ("net_h", "W1", "W2"):
        np.testing.assert_allclose(v[name].grad, t[name].grad.numpy(), rtol=1e-14, atol=1e-17)


def test_a_removed_hook_is_not_called_and_the_others_still_are():
    v = ours()
    calls = []
    first = v["net_o"].register_hook(lambda g: calls.append("first"))
    v["net_o"].register_hook(lambda g: calls.append("second"))
    first.remove()
    first.remove()  # twice is harmless, as in PyTorch
    v["E"].backward()
    assert calls == ["second"]


def test_a_tensor_used_twice_gets_its_hook_once_with_the_summed_gradient():
    x = Tensor([1.5, -0.5], requires_grad=True)
    y = x * 2.0
    received = []
    y.register_hook(lambda g: received.append(np.array(g)))
    (y * y + y).sum().backward()  # ∂/∂y = 2y + 1
    assert len(received) == 1
    np.testing.assert_allclose(received[0], 2 * np.array([3.0, -1.0]) + 1)


def test_reading_grad_of_an_intermediate_warns_and_names_retain_grad():
    v = ours()
    v["out_h"].retain_grad()
    v["E"].backward()
    with pytest.warns(UserWarning, match=r"retain_grad\(\)"):
        assert v["net_h"].grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for a leaf or a retained intermediate
        assert v["W1"].grad is not None and v["out_h"].grad is not None


def test_hook_mistakes_are_errors_that_say_what_is_wrong():
    v = ours()
    v["net_o"].register_hook(lambda g: np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(3,\) for a tensor of shape \(2,\)"):
        v["E"].backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="function of the gradient"):
        Tensor([1.0], requires_grad=True).register_hook("not callable")


def test_a_scalar_used_twice_can_retain_its_gradient_and_be_hooked():
    x = Tensor(0.5, requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    received = []
    x.register_hook(lambda g: received.append(g))
    (h * 3.0 + h * h).backward()  # ∂/∂h = 3 + 2h = 5, ∂/∂x = 10
    assert h.grad == 5.0 and isinstance(received[0], np.ndarray) and x.grad == 10.0
