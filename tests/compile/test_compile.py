"""compile(fn): replays give exactly eager's numbers, retrace when they must, and fall back to
eager mode, with one warning, on anything a trace cannot reproduce."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as ag
import nn
from autograd_lite import Tensor, no_grad

X = np.array([0.05, 0.10])
T = np.array([0.01, 0.99])


def tutorial_222() -> tuple[list[Tensor], object]:
    w1 = Tensor([[0.15, 0.20], [0.25, 0.30]], requires_grad=True, name="w1")
    w2 = Tensor([[0.40, 0.45], [0.50, 0.55]], requires_grad=True, name="w2")

    def loss(x: np.ndarray, t: np.ndarray) -> Tensor:
        out = (w2 @ (w1 @ x + 0.35).sigmoid() + 0.60).sigmoid()
        return (0.5 * (t - out) ** 2).sum()

    return [w1, w2], loss


def mlp(seed: int) -> tuple[list[Tensor], object]:
    model = nn.Sequential(
        nn.Linear(3, 5, rng=np.random.default_rng(seed)),
        nn.Tanh(),
        nn.Linear(5, 2, rng=np.random.default_rng(seed + 1)),
        nn.Sigmoid(),
    )

    def loss(x: Tensor, y: np.ndarray) -> Tensor:
        return nn.functional.mse_loss(model(x), y)

    return list(model.parameters()), loss


def train(params: list[Tensor], loss_fn, batches, lr: float = 0.5) -> list[float]:
    losses = []
    for args in batches:
        loss = loss_fn(*args)
        for p in params:
            p.grad = None
        loss.backward()
        with no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


def assert_same_run(make, batches) -> ag.tracing.CompiledFunction:
    """Eager and compiled training from the same start end with the same bits everywhere."""
    eager_params, eager_fn = make()
    params, fn = make()
    compiled = ag.compile(fn)
    eager_losses = train(eager_params, eager_fn, batches)
    losses = train(params, compiled, batches)
    assert compiled.eager_reason is None, compiled.eager_reason
    assert eager_losses == losses
    for p, q in zip(eager_params, params, strict=True):
        assert p.data.tobytes() == q.data.tobytes()
    return compiled


def test_the_tutorial_network_trains_to_the_same_bits():
    compiled = assert_same_run(tutorial_222, [(X, T)] * 30)
    assert len(compiled.traces) == 1  # recorded twice (the same both times), replayed 28 times


def test_an_nn_model_with_tensor_inputs_trains_to_the_same_bits(rng):
    batches = [(Tensor(rng.standard_normal((4, 3))), rng.uniform(0, 1, (4, 2))) for _ in range(12)]
    assert_same_run(lambda: mlp(3), batches)


def test_gradients_accumulate_across_calls_as_eager():
    (w1, w2), fn = tutorial_222()
    compiled = ag.compile(fn)
    for _ in range(4):  # two recorded calls, then two replays, all accumulating
        compiled(X, T).backward()
    (v1, v2), eager = tutorial_222()
    for _ in range(4):
        eager(X, T).backward()
    assert np.array_equal(w1.grad, v1.grad) and np.array_equal(w2.grad, v2.grad)


def test_a_replay_is_a_normal_graph_node_that_frees_after_backward():
    _, fn = tutorial_222()
    compiled = ag.compile(fn)
    compiled(X, T), compiled(X, T)
    loss = compiled(X, T)
    assert isinstance(loss._ctx, ag.tracing.ReplayedStep)
    assert loss.requires_grad and not loss.is_leaf
    loss.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        loss.backward()


def test_a_changed_shape_or_dtype_retraces(rng):
    params, fn = mlp(0)
    compiled = ag.compile(fn)
    for n in (4, 4, 7, 7):
        compiled(Tensor(rng.standard_normal((n, 3))), rng.uniform(0, 1, (n, 2)))
    assert len(compiled.traces) == 2
    for _ in range(2):
        x32 = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
        compiled(x32, rng.uniform(0, 1, (4, 2)))
    assert len(compiled.traces) == 3
    assert compiled.eager_reason is None


def test_a_changed_outside_parameter_retraces():
    w = Tensor(np.ones(3), requires_grad=True)

    def fn(x: Tensor) -> Tensor:
        return (w * x).sum()

    compiled = ag.compile(fn)
    x = Tensor([1.0, 2.0, 3.0])
    compiled(x), compiled(x)
    w.requires_grad = False  # a parameter frozen: the replay must not send it a gradient
    out = compiled(x)
    assert not out.requires_grad
    w.requires_grad = True
    w.data = np.ones(3)  # rebinding keeps shape and dtype: replay reads the new array
    compiled(x).backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0, 3.0])


def test_grad_mode_is_part_of_the_key():
    (w1, _), fn = tutorial_222()
    compiled = ag.compile(fn)
    for _ in range(3):
        with no_grad():
            assert not compiled(X, T).requires_grad
        assert compiled(X, T).requires_grad
    assert len(compiled.traces) == 2


def test_a_value_read_inside_falls_back_to_eager_with_one_warning():
    x = Tensor([1.0, -2.0], requires_grad=True)

    def fn(x: Tensor) -> Tensor:
        s = x.sum()
        return s * 2 if s.item() > 0 else -s  # a branch on a value: a trace would freeze it

    compiled = ag.compile(fn)
    with pytest.warns(RuntimeWarning, match=r"\.item\(\)"):
        first = compiled(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        second = compiled(Tensor([3.0, 1.0], requires_grad=True))
    assert first.item() == 1.0 and second.item() == 8.0  # eager results, both branches
    assert "item" in compiled.eager_reason


RNG = np.random.default_rng(5)
ONES = np.ones(3)  # a module's constant: the same object on every call


@pytest.mark.parametrize(
    "body, reason",
    [
        (lambda w, x: (w * (x.data > 0)).sum(), "differs"),  # a mask computed from .data
        (lambda w, x: (w * RNG.random(3)).sum(), "differs"),  # a random mask
        (lambda w, x: (w * RNG.random()).sum(), "differs"),  # a random number
        (lambda w, x: ag.where(x.data > 0, w, 0.0).sum(), "differs"),
        (lambda w, x: w[np.arange(2)].sum(), "differs"),
        (lambda w, x: (w * Tensor(np.ones(3))).sum(), "differs"),
        (lambda w, x: float(x.sum()) * w.sum(), "float"),
    ],
)
def test_what_a_trace_cannot_reproduce_is_refused(body, reason):
    w = Tensor(np.ones(3), requires_grad=True)
    compiled = ag.compile(lambda x: body(w, x))
    with pytest.warns(RuntimeWarning, match="eagerly"):
        compiled(Tensor([1.0, -1.0, 2.0]))
        compiled(Tensor([1.0, -1.0, 2.0]))
    assert reason in compiled.eager_reason


def test_arrays_read_from_outside_are_the_same_object_each_call_and_read_afresh():
    w = Tensor(np.ones(3), requires_grad=True)
    compiled = ag.compile(lambda x: (w * Tensor(ONES) * x).sum())
    x = Tensor([1.0, -1.0, 2.0])
    for _ in range(3):
        compiled(x)
    assert compiled.eager_reason is None and len(compiled.traces) == 1
    ONES[1] = 5.0  # changed in place between calls: a replay reads it, as the eager call would
    try:
        assert compiled(x).item() == 1.0 - 5.0 + 2.0
    finally:
        ONES[1] = 1.0


def test_an_in_place_change_inside_is_refused():
    def fn(x: Tensor) -> Tensor:
        y = x * 1.0
        with no_grad():
            x += 1
        return y.sum()

    compiled = ag.compile(fn)
    with pytest.warns(RuntimeWarning, match="in-place"):
        compiled(Tensor([1.0]))


def test_index_arrays_passed_as_arguments_are_read_at_each_replay():
    w = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)

    def fn(rows: np.ndarray, cols: np.ndarray) -> Tensor:
        return (w[rows, cols] ** 2).sum()

    compiled = ag.compile(fn)
    for rows, cols in [([0, 1], [1, 0]), ([2, 2], [0, 1]), ([1, 0], [0, 0])]:
        rows, cols = np.array(rows), np.array(cols)
        w.grad = None
        compiled(rows, cols).backward()
        expected = np.zeros((3, 2))
        np.add.at(expected, (rows, cols), 2 * w.data[rows, cols])
        np.testing.assert_array_equal(w.grad, expected)
    assert compiled.eager_reason is None and len(compiled.traces) == 1


def test_a_parameter_changed_between_a_replay_and_its_backward_is_refused():
    (w1, w2), fn = tutorial_222()
    compiled = ag.compile(fn)
    compiled(X, T), compiled(X, T)
    loss = compiled(X, T)
    with no_grad():
        w2 -= 0.1
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_the_argument_array_is_copied_as_eager_copies_it():
    (w1, _), fn = tutorial_222()
    compiled = ag.compile(fn)
    x = X.copy()
    compiled(x, T), compiled(x, T)
    loss = compiled(x, T)
    x[:] = 100.0  # the caller reuses the array before backward
    loss.backward()
    (v1, _), eager = tutorial_222()
    eager(X, T).backward()
    assert np.array_equal(w1.grad, v1.grad)


def test_a_compiled_result_cannot_be_differentiated_twice():
    (w1, _), fn = tutorial_222()
    compiled = ag.compile(fn)
    compiled(X, T), compiled(X, T)
    with pytest.raises(RuntimeError, match="twice"):
        ag.grad(compiled(X, T), w1, create_graph=True)


UNARY = {
    "exp": lambda a: (a * 0.3).exp(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "abs": lambda a: a.abs(),
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "log": lambda a: (a * a + 1.0).log(),
    "sqrt": lambda a: (a * a + 1.0).sqrt(),
    "softmax": lambda a: a.softmax(axis=-1),
    "log_softmax": lambda a: a.log_softmax(axis=0),
    "sum": lambda a: a.sum(axis=0, keepdims=True) * a,
    "mean": lambda a: a.mean(axis=1, keepdims=True) + a,
    "max": lambda a: a.max(axis=1, keepdims=True) * a,
    "transpose": lambda a: a.T.T,
    "reshape": lambda a: a.reshape(-1).reshape(a.shape),
    "index": lambda a: ag.concatenate([a[:1], a[1:]], axis=0),
    "stack": lambda a: ag.stack([a, a * 2.0], axis=0).sum(axis=0),
    "neg": lambda a: -a,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "matmul": lambda a, b: a @ b.T,
    "pow": lambda a, b: (a * a + 1.0) ** (b * 0.5),
}


@settings(max_examples=25, deadline=None)
@given(
    ops=st.lists(
        st.one_of(st.sampled_from(sorted(UNARY)), st.sampled_from(sorted(BINARY))),
        min_size=1,
        max_size=6,
    ),
    seed=st.integers(0, 10_000),
)
def test_random_graphs_of_every_operation_replay_to_the_same_bits(ops, seed):
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal((3, 3)) for _ in range(2)]

    def make():
        a, b = (Tensor(s, requires_grad=True) for s in start)

        def fn(x: Tensor) -> Tensor:
            h = a * x
            for name in ops:
                h = UNARY[name](h) if name in UNARY else BINARY[name](h, b)
            return (h * h).mean()

        return [a, b], fn

    batches = [(Tensor(rng.standard_normal((3, 3))),) for _ in range(4)]
    eager_params, eager_fn = make()
    params, fn = make()
    compiled = ag.compile(fn)
    for (x,) in batches:
        expected = eager_fn(x)
        got = compiled(x)
        assert expected.data.tobytes() == got.data.tobytes()
        if not np.isfinite(expected.data):  # e.g. exp of a cube overflowed: both refuse alike
            for loss in (expected, got):
                with pytest.raises(FloatingPointError, match="backward\\(\\) from a loss of"):
                    loss.backward()
            continue
        expected.backward()
        got.backward()
        for p, q in zip(eager_params, params, strict=True):
            if p.grad is None:  # b is unused when every operation is unary
                assert q.grad is None
            else:
                assert p.grad.tobytes() == q.grad.tobytes()
    assert compiled.eager_reason is None


def test_a_model_passed_as_an_argument_retraces_when_it_is_replaced(rng):
    def loss(model: nn.Module, x: Tensor, y: np.ndarray) -> Tensor:
        return nn.functional.mse_loss(model(x), y)

    compiled = ag.compile(loss)
    x, y = Tensor(rng.standard_normal((4, 3))), rng.uniform(0, 1, (4, 1))
    first = nn.Linear(3, 1, rng=np.random.default_rng(0))
    for _ in range(3):
        compiled(first, x, y)
    second = nn.Linear(3, 1, rng=np.random.default_rng(1))  # a new model object
    got = compiled(second, x, y)
    expected = loss(second, x, y)
    assert got.data.tobytes() == expected.data.tobytes()
    assert compiled.eager_reason is None
