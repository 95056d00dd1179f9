"""Issue 9, points 1 and 2: arrays saved for backward cannot change under the graph, and in-place
operators behave as PyTorch's do.

Each test is written as a user's code would be: a forward pass, an in-place change, a backward.
The library may refuse that backward (a RuntimeError naming the tensor, the operation that saved
it and the fix) or compute the gradient of the graph exactly as it was recorded; any other number
is the silent wrong gradient the issue is about. Expected gradients come from closed forms in
float64 or from a fresh forward pass at the values the graph was recorded with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import nn
from autograd_lite import Tensor, no_grad, where

TIGHT = {"rtol": 1e-12, "atol": 1e-12}  # "exactly as recorded", allowing only a last-bit wobble


def assert_error_names_tensor_op_and_fix(
    message: str, names: Sequence[str], shapes: Sequence[tuple], ops: Sequence[str]
) -> None:
    """The refusal must say which tensor (its name or shape), which operation saved it, and how
    to fix the code: ``opt.step()`` after the last backward, or ``.detach()`` first."""
    lower = message.lower()
    shown = [str(tuple(s)) for s in shapes] + [str(list(s)) for s in shapes]
    assert any(n in message for n in names) or any(s in message for s in shown), (
        f"the error should name the tensor (one of {list(names)} or shapes {shown}): {message}"
    )
    assert any(op in lower for op in ops), f"the error should name the operation {ops}: {message}"
    assert "step" in lower or "detach" in lower, f"the error should give the fix: {message}"


def refused_or_exact(
    run_backward: Callable[[], Any],
    expected: Sequence[tuple[Tensor, np.ndarray]],
    names: Sequence[str] = (),
    shapes: Sequence[tuple] = (),
    ops: Sequence[str] = (),
) -> None:
    """Run a backward that follows an in-place change: either it is refused with the error the
    issue describes, or every (leaf, gradient) pair in ``expected`` holds to the last bits."""
    try:
        run_backward()
    except RuntimeError as err:
        assert_error_names_tensor_op_and_fix(str(err), names, shapes, ops)
        return
    for leaf, grad in expected:
        assert leaf.grad is not None, "the backward neither raised nor reached this leaf"
        np.testing.assert_allclose(leaf.grad, grad, **TIGHT)


def _isub(t: Any, x: Any) -> Any:
    t -= x
    return t


def _iadd(t: Any, x: Any) -> Any:
    t += x
    return t


def _imul(t: Any, x: Any) -> Any:
    t *= x
    return t


def _idiv(t: Any, x: Any) -> Any:
    t /= x
    return t


def _setitem(t: Any, index: Any, value: Any) -> Any:
    t[index] = value
    return t


# ----- point 1: what a graph saved cannot change under it ---------------------------------------
def make_model(seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng))


OPTIMIZERS = {
    "SGD": lambda params: nn.optim.SGD(params, lr=0.1),
    "SGD momentum": lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9),
    "Adam": lambda params: nn.optim.Adam(params, lr=0.1),
}


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS)
def test_two_losses_from_one_forward_with_a_step_between_their_backwards(make_optimizer):
    model = make_model(0)
    opt = make_optimizer(model.parameters())
    x = Tensor(np.random.default_rng(1).standard_normal((5, 3)))
    recorded = model.state_dict()  # copies: the weights this forward pass sees

    out = model(x)
    loss1 = out.sum()
    loss2 = (out**2).sum()
    loss1.backward(retain_graph=True)
    opt.step()
    opt.zero_grad()
    assert any(not np.array_equal(p.data, recorded[n]) for n, p in model.named_parameters())

    fresh = make_model(99)  # the same network at the recorded weights, with a graph of its own
    fresh.load_state_dict(recorded)
    (fresh(x) ** 2).sum().backward()
    expected = [(p, q.grad) for p, q in zip(model.parameters(), fresh.parameters(), strict=True)]
    weights = [p.shape for p in model.parameters() if p.ndim == 2]
    refused_or_exact(loss2.backward, expected, shapes=weights, ops=["linear"])


LINEAR_EDITS = {
    "nn.init.xavier_uniform_": lambda layer: nn.init.xavier_uniform_(
        layer.weight, rng=np.random.default_rng(5)
    ),
    "nn.init.kaiming_uniform_": lambda layer: nn.init.kaiming_uniform_(
        layer.weight, rng=np.random.default_rng(6)
    ),
    "nn.init.zeros_": lambda layer: nn.init.zeros_(layer.weight),
    "load_state_dict": lambda layer: layer.load_state_dict(
        {"weight": np.full((2, 3), 0.5), "bias": np.zeros(2)}
    ),
    "no_grad w -= 0.1": lambda layer: _under_no_grad(lambda: _isub(layer.weight, 0.1)),
    "no_grad w.copy_": lambda layer: _under_no_grad(lambda: layer.weight.copy_(np.ones((2, 3)))),
    "no_grad w.mul_": lambda layer: _under_no_grad(lambda: layer.weight.mul_(3.0)),
    "no_grad w[0] = 1": lambda layer: _under_no_grad(lambda: _setitem(layer.weight, 0, 1.0)),
}


def _under_no_grad(fn: Callable[[], Any]) -> None:
    with no_grad():
        fn()


@pytest.mark.parametrize("edit", LINEAR_EDITS.values(), ids=LINEAR_EDITS)
def test_linear_weight_changed_between_forward_and_backward(edit):
    rng = np.random.default_rng(2)
    layer = nn.Linear(3, 2, rng=rng)
    w0, b0 = layer.weight.data.copy(), layer.bias.data.copy()
    x0 = rng.standard_normal((4, 3))
    x = Tensor(x0, requires_grad=True, name="x")
    loss = (layer(x) ** 2).sum()  # the layer's Linear operation saves W
    edit(layer)
    assert not np.array_equal(layer.weight.data, w0), "the edit must change the weight"

    g = 2 * (x0 @ w0.T + b0)  # closed form at the recorded weights
    expected = [(x, g @ w0), (layer.weight, g.T @ x0), (layer.bias, g.sum(axis=0))]
    refused_or_exact(loss.backward, expected, shapes=[(2, 3)], ops=["linear"])


def test_plain_weight_updated_under_no_grad_before_backward():
    w0 = np.array([1.0, -2.0, 3.0])
    w = Tensor(w0, requires_grad=True, name="w")
    loss = (w * w).sum()
    with no_grad():
        w -= 0.1
    refused_or_exact(loss.backward, [(w, 2 * w0)], names=["w"], shapes=[(3,)], ops=["mul"])


def test_index_array_changed_after_indexing():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True, name="x")
    idx = np.array([0, 2, 2])
    loss = (x[idx] * np.array([1.0, 10.0, 100.0])).sum()
    if idx.flags.writeable:  # the spec allows the library to make a saved array read-only
        idx[:] = 3
    expected = np.array([1.0, 0.0, 110.0, 0.0])
    refused_or_exact(loss.backward, [(x, expected)], ["x"], [(4,), (3,)], ["getitem", "index"])


def test_integer_index_tensor_changed_in_place_after_indexing():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True, name="x")
    idx = Tensor(np.array([0, 2, 2]))
    loss = (x[idx] * np.array([1.0, 10.0, 100.0])).sum()
    idx += 1  # a tensor without requires_grad: in place, as in PyTorch
    assert np.array_equal(idx.data, [1, 3, 3])
    expected = np.array([1.0, 0.0, 110.0, 0.0])
    refused_or_exact(loss.backward, [(x, expected)], ["x"], [(4,), (3,)], ["getitem", "index"])


def test_where_condition_changed_after_forward():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="a")
    b = Tensor([4.0, 5.0, 6.0], requires_grad=True, name="b")
    cond = np.array([True, False, True])
    loss = (where(cond, a, b) * np.array([1.0, 10.0, 100.0])).sum()
    if cond.flags.writeable:
        cond[:] = [False, True, False]
    expected = [(a, np.array([1.0, 0.0, 100.0])), (b, np.array([0.0, 10.0, 0.0]))]
    refused_or_exact(loss.backward, expected, ["a", "b"], [(3,)], ["where"])


NUMPY_OPERANDS = {  # name: (forward, d(sum of forward)/dw from the recorded operand)
    "w * arr": (lambda w, arr: w * arr, lambda arr: arr.sum(axis=0)),
    "arr * w": (lambda w, arr: arr * w, lambda arr: arr.sum(axis=0)),
    "w / arr": (lambda w, arr: w / arr, lambda arr: (1 / arr).sum(axis=0)),
    "arr @ w": (lambda w, arr: arr @ w, lambda arr: arr.sum(axis=0)),
}


@pytest.mark.parametrize("case", NUMPY_OPERANDS.values(), ids=NUMPY_OPERANDS)
def test_numpy_operand_changed_after_forward(case):
    forward, grad_from = case
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="w")
    arr = np.array([[2.0, 3.0, 4.0], [-1.0, 0.5, 7.0]])
    recorded = arr.copy()
    loss = forward(w, arr).sum()
    if arr.flags.writeable:
        arr[...] = 5.0
    ops = ["mul", "div", "matmul", "@"]
    refused_or_exact(loss.backward, [(w, grad_from(recorded))], ["w"], [(2, 3), (3,)], ops)


CONSTANT_EDITS = {
    "c += 1": lambda c: _iadd(c, 1.0),
    "c.mul_(2)": lambda c: c.mul_(2.0),
    "c.copy_": lambda c: c.copy_(np.array([9.0, 8.0, 7.0])),
    "c.fill_": lambda c: c.fill_(0.5),
    "c[0] = 7": lambda c: _setitem(c, 0, 7.0),
}


@pytest.mark.parametrize("edit", CONSTANT_EDITS.values(), ids=CONSTANT_EDITS)
def test_constant_tensor_changed_in_place_after_forward(edit):
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="w")
    c0 = np.array([2.0, -3.0, 4.0])
    c = Tensor(c0, name="c")
    loss = (w * c).sum()
    edit(c)  # grad mode is on: allowed, c does not require grad
    assert not np.array_equal(c.data, c0)
    refused_or_exact(loss.backward, [(w, c0)], ["w", "c"], [(3,)], ["mul"])


VIEW_EDITS = {
    "w.detach() += 1": lambda w: _iadd(w.detach(), 1.0),
    "w.detach().T *= 2": lambda w: _imul(w.detach().T, 2.0),
    "w.detach().reshape(6)[0] = 5": lambda w: _setitem(w.detach().reshape(6), 0, 5.0),
    "w.detach()[1].zero_()": lambda w: w.detach()[1].zero_(),
}


@pytest.mark.parametrize("edit", VIEW_EDITS.values(), ids=VIEW_EDITS)
def test_detached_view_changed_in_place_after_forward(edit):
    w0 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = Tensor(w0, requires_grad=True, name="w")
    loss = (w * w).sum()
    edit(w)  # the detached view shares w's array, and its version counter
    assert not np.array_equal(w.data, w0)
    refused_or_exact(loss.backward, [(w, 2 * w0)], ["w"], [(2, 3), (3, 2), (6,), (3,)], ["mul"])


def test_change_that_backward_does_not_need_may_pass_but_exactly():
    w0, c0 = np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 0.5])
    w, c = Tensor(w0, requires_grad=True, name="w"), Tensor(c0, name="c")
    loss = (w + c).tanh().sum()  # Add saves nothing; Tanh saved its own output
    c += 100.0
    expected = 1 - np.tanh(w0 + c0) ** 2
    refused_or_exact(loss.backward, [(w, expected)], ["w", "c"], [(3,)], ["add", "tanh"])


LIBRARY_UPDATES = {
    "SGD.step": lambda layer: nn.optim.SGD([layer.weight], lr=0.1).step(),
    "Adam.step": lambda layer: nn.optim.Adam([layer.weight], lr=0.1).step(),
    "load_state_dict": lambda layer: layer.load_state_dict(
        {"weight": np.full((2, 3), 0.5), "bias": np.zeros(2)}
    ),
    "nn.init.xavier_uniform_": lambda layer: nn.init.xavier_uniform_(layer.weight),
    "nn.init.kaiming_uniform_": lambda layer: nn.init.kaiming_uniform_(layer.weight),
    "nn.init.zeros_": lambda layer: nn.init.zeros_(layer.weight),
}


@pytest.mark.parametrize("update", LIBRARY_UPDATES.values(), ids=LIBRARY_UPDATES)
def test_library_updates_bump_the_version_and_keep_the_parameter(update):
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    p = layer.weight
    p.grad = np.ones((2, 3))
    data, before = p.data, p._version
    update(layer)
    assert p._version > before
    assert p.data is data and p.is_leaf and p.requires_grad


def test_a_direct_write_into_data_is_the_untracked_escape_hatch():
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert t._version == 0
    t.data[...] = 5.0
    assert t._version == 0


# ----- point 2: in-place operators -----------------------------------------------------------
ROW = np.array([1.0, 2.0, 3.0])
# name: (apply to t, new value from the old one, local derivative d(new)/d(old) elementwise)
IN_PLACE = {
    "t -= 0.5": (lambda t: _isub(t, 0.5), lambda a: a - 0.5, lambda a: np.ones_like(a)),
    "t += Tensor row": (lambda t: _iadd(t, Tensor(ROW)), lambda a: a + ROW, np.ones_like),
    "t *= 3": (lambda t: _imul(t, 3.0), lambda a: a * 3, lambda a: np.full_like(a, 3.0)),
    "t /= 4": (lambda t: _idiv(t, 4.0), lambda a: a / 4, lambda a: np.full_like(a, 0.25)),
    "t.add_": (lambda t: t.add_(0.5), lambda a: a + 0.5, np.ones_like),
    "t.sub_ row": (lambda t: t.sub_(ROW), lambda a: a - ROW, np.ones_like),
    "t.mul_": (lambda t: t.mul_(2.0), lambda a: a * 2, lambda a: np.full_like(a, 2.0)),
    "t.div_ Tensor": (lambda t: t.div_(Tensor(2.0)), lambda a: a / 2, lambda a: a * 0 + 0.5),
    "t.copy_ row": (lambda t: t.copy_(ROW), lambda a: a * 0 + ROW, np.zeros_like),
    "t.fill_": (lambda t: t.fill_(7.0), lambda a: np.full_like(a, 7.0), np.zeros_like),
    "t.zero_": (lambda t: t.zero_(), np.zeros_like, np.zeros_like),
    "t[0] = 9": (
        lambda t: _setitem(t, 0, 9.0),
        lambda a: np.vstack([np.full(3, 9.0), a[1]]),
        lambda a: np.vstack([np.zeros(3), np.ones(3)]),
    ),
}
A = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -6.0]])


@pytest.mark.parametrize("op", IN_PLACE.values(), ids=IN_PLACE)
def test_in_place_on_a_parameter_outside_no_grad_is_refused(op):
    apply, _, _ = op
    w = Tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        apply(w)
    message = str(info.value)
    assert "no_grad" in message or "optim" in message.lower(), message
    assert w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.data, A)


def test_the_manual_sgd_update_outside_no_grad_shows_the_right_way():
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    lr = 0.1
    data = w.data
    with pytest.raises(RuntimeError, match="no_grad|optim"):
        w -= lr * w.grad
    with no_grad():
        w -= lr * w.grad
    w0 = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(w.data, w0 - lr * (2 * w0))
    assert w.data is data and w.is_leaf and w.requires_grad


@pytest.mark.parametrize("requires_grad", [True, False], ids=["parameter, no_grad", "plain"])
@pytest.mark.parametrize("op", IN_PLACE.values(), ids=IN_PLACE)
def test_in_place_updates_the_same_tensor_and_array(op, requires_grad):
    apply, new_value, _ = op
    t = Tensor(A, requires_grad=requires_grad)
    data, version = t.data, t._version
    if requires_grad:
        with no_grad():
            result = apply(t)
    else:  # grad mode on: a tensor without requires_grad changes in place all the same
        result = apply(t)
    assert result is t and t.data is data
    assert t._version == version + 1
    assert t.is_leaf and t.requires_grad == requires_grad
    np.testing.assert_array_equal(t.data, new_value(A))


@pytest.mark.parametrize("op", IN_PLACE.values(), ids=IN_PLACE)
def test_in_place_on_a_result_inside_a_graph_is_refused_or_recorded_correctly(op):
    apply, new_value, derivative = op
    w = Tensor(A, requires_grad=True)
    h = w * 2
    try:
        h = apply(h)
    except RuntimeError as err:
        assert str(err), "the refusal must say why"
        np.testing.assert_array_equal(h.data, 2 * A)  # refused means: nothing changed
        return
    np.testing.assert_allclose(h.data, new_value(2 * A), **TIGHT)
    h.sum().backward()
    np.testing.assert_allclose(w.grad, 2 * derivative(2 * A), **TIGHT)


GROWING = {
    "t += (2, 3)": lambda t: _iadd(t, np.ones((2, 3))),
    "t.add_": lambda t: t.add_(np.ones((2, 3))),
    "t.mul_ Tensor": lambda t: t.mul_(Tensor(np.ones((2, 3)))),
    "t.copy_": lambda t: t.copy_(np.ones((2, 3))),
}


@pytest.mark.parametrize("op", GROWING.values(), ids=GROWING)
def test_an_operand_that_would_grow_the_tensor_is_a_value_error(op):
    t = Tensor(ROW)
    data = t.data
    with pytest.raises(ValueError):
        op(t)
    assert t.data is data and t.shape == (3,)
    np.testing.assert_array_equal(t.data, ROW)


def test_operands_broadcast_and_are_cast_to_the_tensor_dtype():
    halves = np.array([[0.5, 1.5, 2.5], [3.5, 4.5, 5.5]])  # exact in float32, so no rounding
    t = Tensor(halves.astype(np.float32))
    data = t.data
    t += np.arange(3.0)  # float64 row, broadcast over the rows
    t.mul_(Tensor(2.0))
    assert t.data is data and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, ((halves + np.arange(3.0)) * 2).astype(np.float32))
    t.copy_(Tensor([1.0, 2.0, 3.0]))
    assert t.data is data and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.tile(np.float32([1, 2, 3]), (2, 1)))
    t.copy_(4)
    np.testing.assert_array_equal(t.data, np.full((2, 3), 4, np.float32))


def test_version_is_read_only():
    t = Tensor([1.0])
    with pytest.raises(AttributeError):
        t._version = 5


def test_a_tensor_its_views_and_its_detach_share_one_version_counter():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    views = [t.reshape(6), t.T, t[0], t.detach()]
    views[0].add_(1.0)
    assert [v._version for v in [t, *views]] == [1] * 5
    np.testing.assert_array_equal(t.data, np.arange(6.0).reshape(2, 3) + 1)
    views[3].mul_(2.0)
    views[2][1] = -1.0
    assert [v._version for v in [t, *views]] == [3] * 5
