"""Gradients of gradients (issue 11): derivatives to 4th order against closed forms, Hessians
against PyTorch and finite differences, a gradient penalty, and ``grad``'s semantics and errors.

The closed forms were derived by hand and checked with sympy before being pinned here; the test
below also checks each against a finite difference of the one before it, so that a slip in a
formula cannot pass unnoticed. Torch-only tests skip without torch; every value they compare is
also pinned against finite differences in float64 without it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import worked_example_222 as net222  # noqa: E402

POINTS = np.array([-6.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.9, 1.7, 4.0])


def leaf(array) -> Tensor:
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


# ----- 1st to 4th derivatives of the activations -------------------------------------------------


def sigmoid_derivatives(x: np.ndarray) -> list[np.ndarray]:
    s = 1 / (1 + np.exp(-x))
    return [
        s * (1 - s),
        s * (1 - s) * (1 - 2 * s),
        s * (1 - s) * (1 - 6 * s + 6 * s**2),
        s * (1 - s) * (1 - 2 * s) * (1 - 12 * s + 12 * s**2),
    ]


def tanh_derivatives(x: np.ndarray) -> list[np.ndarray]:
    t = np.tanh(x)
    return [
        1 - t**2,
        -2 * t * (1 - t**2),
        -2 * (1 - t**2) * (1 - 3 * t**2),
        8 * t * (1 - t**2) * (2 - 3 * t**2),
    ]


ACTIVATIONS = {
    "sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), sigmoid_derivatives),
    "tanh": (lambda x: x.tanh(), np.tanh, tanh_derivatives),
}


def nth_derivatives(f, points: np.ndarray, n: int) -> list[np.ndarray]:
    """f', f'', …, f⁽ⁿ⁾ at each point, each one ``grad`` of the one before (f is element-wise,
    so the gradient of the sum is the derivative at each point)."""
    x = leaf(points)
    y, found = f(x), []
    for _ in range(n):
        (y,) = ag.grad(y.sum(), x, create_graph=True)
        found.append(y.data.copy())
    return found


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_closed_forms_are_derivatives_of_each_other(name):
    """Guards the formulas themselves: f⁽ᵏ⁺¹⁾ is the central difference of f⁽ᵏ⁾ (k = 0..3)."""
    _, f, closed = ACTIVATIONS[name]
    h = 1e-5
    chain = [f, *[lambda x, k=k: closed(x)[k] for k in range(4)]]
    for k in range(4):
        numeric = (chain[k](POINTS + h) - chain[k](POINTS - h)) / (2 * h)
        np.testing.assert_allclose(closed(POINTS)[k], numeric, atol=1e-8, err_msg=f"order {k + 1}")


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_first_to_fourth_derivatives_equal_the_closed_forms(name):
    op, _, closed = ACTIVATIONS[name]
    found = nth_derivatives(op, POINTS, 4)
    for order, (engine, expected) in enumerate(zip(found, closed(POINTS), strict=True), 1):
        np.testing.assert_allclose(engine, expected, rtol=0, atol=1e-10, err_msg=f"order {order}")


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_first_to_fourth_derivatives_equal_pytorchs(name):
    torch = pytest.importorskip("torch")
    x = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    y = getattr(torch, name)(x)
    ours = nth_derivatives(ACTIVATIONS[name][0], POINTS, 4)
    for order in range(4):
        (y,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        np.testing.assert_allclose(ours[order], y.detach().numpy(), rtol=0, atol=1e-10)


def test_a_higher_derivative_through_backward_matches_grad():
    """The third derivative of tanh reached by .backward() on a second derivative."""
    x = leaf(POINTS)
    (d1,) = ag.grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = ag.grad(d1.sum(), x, create_graph=True)
    d2.sum().backward()
    assert isinstance(x.grad, np.ndarray)
    np.testing.assert_allclose(x.grad, tanh_derivatives(POINTS)[2], rtol=0, atol=1e-10)


# ----- Hessians of multi-operation functions: PyTorch and finite differences ---------------------

MASK = np.array([[True, False, True], [False, True, True]])
Y_MATRIX = np.array([[0.3, -0.8], [1.1, 0.4], [-0.5, 0.9]])
COLUMNS = np.array([[0.2, -1.0, 0.7], [1.5, 0.1, -0.4]])

# Each f(lib, x, y) -> scalar, x of shape (2, 3) and y of shape (3,), both positive (for log,
# sqrt and pow), with products of x and y everywhere so that the mixed block ∂²f/∂x∂y is full.
FUNCTIONS = {
    "products": lambda lib, x, y: (x * x * y).sum() * (x * y).sum(),
    "matmul": lambda lib, x, y: ((x * y) @ lib.c(Y_MATRIX)).tanh().sum() ** 2,
    "softmax": lambda lib, x, y: ((x * y).softmax(-1) * x).sum(),
    "log_softmax": lambda lib, x, y: (
        (x @ (lib.c(Y_MATRIX) * y[:2])).log_softmax(1) * x[:, :2]
    ).sum(),
    "sigmoid chain": lambda lib, x, y: ((x * y).sigmoid() * x).sigmoid().sum(),
    "pow": lambda lib, x, y: ((x**2 + y) ** 1.5).sum() + (x**y).sum(),
    "div": lambda lib, x, y: (x / (y * y + x)).sum() + (y / x).sum(),
    "indexing": lambda lib, x, y: (
        (x[:, [0, 2, 2]] * y[[1, 0, 0]]).tanh().sum() + (x[1] * y).exp().sum()
    ),
    "concatenate/stack": lambda lib, x, y: (
        (lib.cat([x * y, x[:1] * x[1:]], 0) ** 2).sum() * lib.stack([y, y**2], -1).sum()
    ),
    "where": lambda lib, x, y: lib.where(MASK, x * y, (x + y).exp()).sum() ** 2,
    "max": lambda lib, x, y: (lib.amax(x * y + lib.c(COLUMNS), 1) ** 2).sum(),
    "mean": lambda lib, x, y: ((x * y).mean(0) ** 3).sum() + (x.mean() * y).sum(),
    "sqrt log abs": lambda lib, x, y: (x.sqrt() * y.log() + (x - y).abs() * x).sum(),
}
AG = SimpleNamespace(
    cat=lambda ts, axis: ag.concatenate(ts, axis=axis),
    stack=lambda ts, axis: ag.stack(ts, axis=axis),
    where=ag.where,
    amax=lambda t, axis: t.max(axis=axis),
    c=lambda array: array,
)
X0 = np.array([[0.7, 1.3, 0.4], [1.9, 0.25, 1.1]])  # |x − y| ≥ 0.05 everywhere, no ties
Y0 = np.array([0.6, 1.2, 0.85])


def hessian(f, x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """The Hessian of f in (x, y) flattened: row i is ∇ of the i-th gradient element, each a
    reverse pass through the retained graph of the gradient."""
    x, y = leaf(x0), leaf(y0)
    gx, gy = ag.grad(f(AG, x, y), [x, y], create_graph=True)
    g = ag.concatenate([gx.reshape(-1), gy.reshape(-1)])
    rows = []
    for i in range(g.shape[0]):
        hx, hy = ag.grad(g[i], [x, y], retain_graph=True, allow_unused=True)
        rows.append(np.concatenate([_flat(hx, x), _flat(hy, y)]))
    return np.array(rows)


def _flat(g: Tensor | None, like: Tensor) -> np.ndarray:
    return np.zeros(like.size) if g is None else g.data.reshape(-1)


def gradient(f, x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    x, y = leaf(x0), leaf(y0)
    gx, gy = ag.grad(f(AG, x, y), [x, y])
    return np.concatenate([gx.data.reshape(-1), gy.data.reshape(-1)])


def finite_difference_hessian(f, x0: np.ndarray, y0: np.ndarray, eps: float = 1e-6):
    theta = np.concatenate([x0.reshape(-1), y0])
    columns = []
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = eps
        up, down = theta + step, theta - step
        columns.append(
            (
                gradient(f, up[:6].reshape(2, 3), up[6:])
                - gradient(f, down[:6].reshape(2, 3), down[6:])
            )
            / (2 * eps)
        )
    return np.array(columns).T


@pytest.mark.parametrize("name", FUNCTIONS)
def test_hessian_equals_finite_differences_of_the_gradient_and_is_symmetric(name):
    h = hessian(FUNCTIONS[name], X0, Y0)
    np.testing.assert_allclose(h, finite_difference_hessian(FUNCTIONS[name], X0, Y0), atol=1e-6)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)  # rows are separate passes
    assert np.abs(h[:6, 6:]).max() > 1e-3, "the mixed block ∂²f/∂x∂y should not vanish"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_hessian_and_mixed_partials_equal_pytorchs(name):
    torch = pytest.importorskip("torch")
    lib = SimpleNamespace(
        cat=lambda ts, axis: torch.cat(ts, dim=axis),
        stack=lambda ts, axis: torch.stack(ts, dim=axis),
        where=lambda c, a, b: torch.where(torch.as_tensor(c), a, b),
        amax=lambda t, axis: t.amax(dim=axis),
        c=torch.as_tensor,
    )
    x = torch.tensor(X0, requires_grad=True)
    y = torch.tensor(Y0, requires_grad=True)
    expected = torch.autograd.functional.hessian(lambda a, b: FUNCTIONS[name](lib, a, b), (x, y))
    rows = [
        torch.cat([b.reshape(a.numel(), -1) for b in row], 1)
        for row, a in zip(expected, (x, y), strict=True)
    ]
    flat = torch.cat(rows).numpy()
    np.testing.assert_allclose(hessian(FUNCTIONS[name], X0, Y0), flat, rtol=1e-10, atol=1e-10)


# ----- a gradient penalty ‖∂L/∂x‖², differentiated with respect to an MLP's weights --------------

PENALTY_X = np.random.default_rng(5).normal(size=(4, 3))
PENALTY_Y = np.random.default_rng(6).normal(size=(4, 1))


def mlp() -> nn.Sequential:
    rng = np.random.default_rng(7)
    return nn.Sequential(nn.Linear(3, 5, rng=rng), nn.Tanh(), nn.Linear(5, 1, rng=rng))


def penalty(model: nn.Sequential, create_graph: bool) -> Tensor:
    """‖∂L/∂x‖² for the mean squared error L of the model on the batch (WGAN-GP's term)."""
    x = leaf(PENALTY_X)
    loss = nn.MSELoss()(model(x), PENALTY_Y)
    (gx,) = ag.grad(loss, x, create_graph=create_graph)
    return (gx**2).sum()


def test_gradient_penalty_gradients_equal_finite_differences():
    model = mlp()
    params = list(model.parameters())
    analytic = ag.grad(penalty(model, create_graph=True), params)
    eps = 1e-6
    for p, a in zip(params, analytic, strict=True):
        numeric = np.zeros(p.shape)
        for i in np.ndindex(p.shape):
            original = p.data[i]  # .data: the untracked way in, restored after each probe
            p.data[i] = original + eps
            up = penalty(model, create_graph=False).item()
            p.data[i] = original - eps
            down = penalty(model, create_graph=False).item()
            p.data[i] = original
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(a.data, numeric, rtol=1e-6, atol=1e-9)
        assert np.abs(numeric).max() > 1e-3
    assert all(p.grad is None for p in params)  # grad() wrote nothing


def test_gradient_penalty_gradients_equal_pytorchs_and_backward_accumulates_them():
    torch = pytest.importorskip("torch")
    model = mlp()
    params = list(model.parameters())
    w1, b1, w2, b2 = (torch.tensor(p.data, requires_grad=True) for p in params)
    x = torch.tensor(PENALTY_X, requires_grad=True)
    out = torch.tanh(x @ w1.T + b1) @ w2.T + b2
    loss = ((out - torch.tensor(PENALTY_Y)) ** 2).mean()
    (gx,) = torch.autograd.grad(loss, x, create_graph=True)
    expected = torch.autograd.grad((gx**2).sum(), [w1, b1, w2, b2])
    penalty(model, create_graph=True).backward()  # .backward() on a gradient's graph
    for p, e in zip(params, expected, strict=True):
        assert isinstance(p.grad, np.ndarray)
        np.testing.assert_allclose(p.grad, e.numpy(), rtol=1e-10, atol=1e-12)


# ----- grad: grad_outputs, retain_graph, what it leaves alone, and PyTorch's errors ---------------


def test_grad_outputs_weight_each_output_element():
    x = leaf([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    u = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    for given in (u, Tensor(u), u.tolist()):
        (g,) = ag.grad(x * x, x, grad_outputs=[given] if isinstance(given, list) else given)
        assert isinstance(g, Tensor) and not g.requires_grad
        np.testing.assert_allclose(g.data, 2 * x.data * u, rtol=1e-15)


def test_grad_outputs_for_several_outputs_add_up_and_none_means_one_for_a_scalar():
    x = leaf([0.5, -1.0, 2.0])
    u = np.array([1.0, -2.0, 0.5])
    (g,) = ag.grad([x * x, x.sum() * 3.0], x, grad_outputs=[u, None])
    np.testing.assert_allclose(g.data, 2 * x.data * u + 3.0, rtol=1e-15)
    (g,) = ag.grad(x.sum() * 3.0, x, grad_outputs=2.0)
    np.testing.assert_allclose(g.data, np.full(3, 6.0))


def test_grad_outputs_that_require_grad_are_differentiated_through():
    """∂/∂u of Σ c·(∂(x³)/∂x · u) = 3x²·c: the trick behind forward-mode products."""
    x, u = leaf([0.5, -1.0, 2.0]), leaf([1.0, 1.0, 1.0])
    c = np.array([2.0, -1.0, 0.5])
    (g,) = ag.grad(x**3, x, grad_outputs=u, create_graph=True)
    (gu,) = ag.grad((g * c).sum(), u)
    np.testing.assert_allclose(gu.data, 3 * x.data**2 * c, rtol=1e-15)


def test_grad_outputs_of_the_wrong_shape_are_refused_naming_both_shapes():
    x = leaf([0.5, -1.0, 2.0])
    with pytest.raises((ValueError, RuntimeError), match=r"\(2,\).*\(3,\)"):
        ag.grad(x * x, x, grad_outputs=np.ones(2))


def test_a_second_grad_through_a_freed_graph_raises_and_retain_graph_keeps_it():
    x = leaf([0.3, -0.7])
    y = (x.tanh() * x).sum()
    (first,) = ag.grad(y, x, retain_graph=True)
    (second,) = ag.grad(y, x)  # the graph was kept for it; this pass frees it
    np.testing.assert_array_equal(first.data, second.data)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_create_graph_retains_by_default_and_retain_graph_false_frees_as_in_pytorch():
    x = leaf([0.3, -0.7])
    y = (x.tanh() * x).sum()
    (g,) = ag.grad(y, x, create_graph=True)
    ag.grad(y, x)  # retain_graph defaulted to create_graph: the graph is still there
    y = (x.tanh() * x).sum()
    (g,) = ag.grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.grad(g.sum(), x)  # g's graph runs through y's, which that pass freed (so in PyTorch)


def test_grad_never_touches_grad_attributes():
    x, unused = leaf([0.3, -0.7]), leaf([1.0])
    before = np.array([10.0, 20.0])
    x.grad = before
    y = (x.sigmoid() * x).sum()
    (g,) = ag.grad(y, x, create_graph=True)
    ag.grad(g.sum(), [x, unused], allow_unused=True, retain_graph=True)
    assert x.grad is before and np.array_equal(x.grad, [10.0, 20.0])
    assert unused.grad is None
    y.backward()  # whereas backward accumulates: the check above could fail
    assert not np.array_equal(x.grad, [10.0, 20.0])


def test_errors_are_pytorchs():
    x, other = leaf([0.3, -0.7]), leaf([1.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(y, [x, other], retain_graph=True)
    gx, gother = ag.grad(y, [x, other], allow_unused=True, retain_graph=True)
    assert gother is None and np.allclose(gx.data, 2 * x.data)
    with pytest.raises(RuntimeError, match="grad_outputs"):
        ag.grad(x * x, x)  # two elements, no grad_outputs
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.grad(Tensor([1.0, 2.0]).sum(), x)


def test_pytorch_raises_in_the_same_cases():
    torch = pytest.importorskip("torch")
    x = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    other = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        torch.autograd.grad((x * x).sum(), [x, other])
    assert torch.autograd.grad((x * x).sum(), [x, other], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError):
        torch.autograd.grad(x * x, x)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(torch.tensor([1.0, 2.0]).sum(), x)


# ----- the tutorial's 2-2-2 network: the Hessian of E_total in w5..w8 -----------------------------


def error_gradient(w_output: Tensor, create_graph: bool) -> Tensor:
    error = net222.forward(Tensor(net222.W_HIDDEN), w_output)["E_total"]
    (g,) = ag.grad(error, w_output, create_graph=create_graph)
    return g.reshape(-1)  # w5, w6 (into o1), w7, w8 (into o2)


def test_hessian_of_the_222_network_equals_central_differences_and_the_closed_form():
    w = leaf(net222.W_OUTPUT)
    g = error_gradient(w, create_graph=True)
    hessian = np.array([ag.grad(g[i], w, retain_graph=True)[0].data.ravel() for i in range(4)])
    eps, numeric = 1e-6, np.zeros((4, 4))
    for j in range(4):
        step = np.zeros(4)
        step[j] = eps
        up = error_gradient(leaf(net222.W_OUTPUT + step.reshape(2, 2)), False).data
        down = error_gradient(leaf(net222.W_OUTPUT - step.reshape(2, 2)), False).data
        numeric[:, j] = (up - down) / (2 * eps)
    np.testing.assert_allclose(hessian, numeric, rtol=0, atol=1e-6)
    # By hand: ∂²E/∂w_kj∂w_k'j' = δ_kk' h_j h_j' o_k(1 − o_k)[o_k(1 − o_k) + (o_k − t_k)(1 − 2o_k)].
    h = 1 / (1 + np.exp(-(net222.W_HIDDEN @ net222.X + net222.B_HIDDEN)))
    o = 1 / (1 + np.exp(-(net222.W_OUTPUT @ h + net222.B_OUTPUT)))
    c = o * (1 - o) * (o * (1 - o) + (o - net222.TARGET) * (1 - 2 * o))
    closed = np.kron(np.diag(c), np.outer(h, h))
    np.testing.assert_allclose(hessian, closed, rtol=1e-12, atol=1e-15)
    assert c[0] < 0 < c[1]  # indefinite: o1 sits where its squared error is concave
