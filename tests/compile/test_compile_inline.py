"""compile copies an operation's forward and backward into the replay where it can
(autograd_lite/inlining.py), and calls them as methods where it cannot: either way a replay gives
eager's bits. Pinned here: which operations are copied, what is refused, and that a copied
operation behaves as its methods do (early returns, globals, ``needs_input_grad``, a scalar result
saved for backward, a wrong backward named in the error)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import textwrap

import numpy as np
import pytest

import autograd_lite as ag
import autograd_lite.ops
import nn
from autograd_lite import Function, Tensor, inlining

SCALE = 3.0  # read by ScaledSquare as a module global


class ScaledSquare(Function):
    """z = SCALE·x².   ∂z/∂x = 2·SCALE·x, with early returns: the copied body leaves by a break."""

    def forward(self, x):
        self.save(x)
        return SCALE * x * x

    def backward(self, g):
        (x,) = self.saved
        if not self.needs_input_grad[0]:
            return (None,)
        if x.ndim == 1:  # the tests' case: a copy that went on past this return would give None
            return (g * (2.0 * SCALE) * x,)
        return (None,)


class RemembersInAnAttribute(Function):
    """z = 2x, keeping a number in an attribute of its own: called as methods, not copied."""

    def forward(self, x):
        self.factor = 2.0
        return x * self.factor

    def backward(self, g):
        return (g * self.factor,)


class ReturnsInALoop(Function):
    """z = x + 1, with a return inside a loop: called as methods, not copied."""

    def forward(self, x):
        for _ in range(1):
            return x + 1.0
        return x

    def backward(self, g):
        return (g,)


class SumSavedForBackward(Function):
    """z = Σx, saved (a NumPy scalar) for backward: ∂z/∂x = 1, computed as g·z/z."""

    def forward(self, x):
        z = x.sum()
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        if not isinstance(z, np.ndarray):  # not assert: pytest rewrites asserts, and a method
            raise TypeError("the saved output must be the output's own array")  # not as its
        return (np.ones(3) * g * z / z,)  # source reads is called, not copied


class WrongShapeBackward(Function):
    """z = x, with a backward that gives a gradient of the wrong shape."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return (np.ones(7),)


def replays_like_eager(loss_of, start: np.ndarray, calls: int = 4) -> ag.tracing.Trace:
    """Eager and compiled calls from the same leaf give the same loss and gradient bits."""
    eager_x, x = Tensor(start, requires_grad=True), Tensor(start, requires_grad=True)
    compiled = ag.compile(loss_of)
    for _ in range(calls):
        expected, got = loss_of(eager_x), compiled(x)
        assert expected.data.tobytes() == got.data.tobytes()
        expected.backward()
        got.backward()
        assert eager_x.grad.tobytes() == x.grad.tobytes()
    assert compiled.eager_reason is None
    (trace,) = compiled.traces.values()
    return trace


def test_a_copied_operation_with_early_returns_and_a_global_replays_eagers_bits():
    trace = replays_like_eager(lambda x: ScaledSquare.apply(x).sum(), np.array([0.5, -2.0, 3.0]))
    assert ".forward(" not in trace.source and ".backward(" not in trace.source
    assert "while True:" in trace.source  # the early returns


def test_an_operation_using_self_otherwise_is_called_and_replays_eagers_bits():
    for op in (RemembersInAnAttribute, ReturnsInALoop):
        assert inlining.template(op.forward) is None
        trace = replays_like_eager(lambda x, op=op: (op.apply(x) * x).sum(), np.arange(3.0))
        assert ".forward(" in trace.source


def test_a_scalar_result_saved_for_backward_is_the_outputs_array_in_a_copy_too():
    trace = replays_like_eager(lambda x: SumSavedForBackward.apply(x) * 2.0, np.arange(3.0) + 1)
    assert "fix_saved" in trace.source and ".backward(" not in trace.source


def test_a_wrong_backward_is_named_in_a_copy_as_when_called():
    x = Tensor(np.ones(3), requires_grad=True)
    compiled = ag.compile(lambda x: WrongShapeBackward.apply(x).sum())
    for _ in range(3):
        loss = compiled(x)
    assert ".backward(" not in next(iter(compiled.traces.values())).source
    with pytest.raises(RuntimeError, match="WrongShapeBackward.backward is wrong"):
        loss.backward()


def test_refused_constructs_are_called_as_methods():
    class Refusals(Function):
        def forward(self, x):  # super(): refused
            return super().forward(x)

        def backward(self, g):  # a lambda: refused
            return ((lambda h: h)(g),)

    assert inlining.template(Refusals.forward) is None
    assert inlining.template(Refusals.backward) is None
    assert inlining.template(ScaledSquare.forward) is not None


def operation_classes() -> list[type]:
    modules = [
        importlib.import_module(f"autograd_lite.ops.{m.name}")
        for m in pkgutil.iter_modules(autograd_lite.ops.__path__)
    ]
    modules += [importlib.import_module(f"nn.{m}") for m in ("_bce", "_huber", "_linear", "_nll")]
    return [
        cls
        for module in modules
        for cls in vars(module).values()
        if inspect.isclass(cls) and issubclass(cls, Function) and cls.__module__ == module.__name__
    ]


# Called as methods, and why: super() (ReLU6), an attribute of the class (Max, Min), *inputs
# (Concatenate, Stack), or self passed on to a helper (the nn losses' backward).
CALLED = {"ReLU6", "Max", "Min", "Concatenate", "Stack", "BinaryCrossEntropy", "Huber", "SmoothL1"}


def test_every_other_operation_of_the_library_is_copied():
    classes = operation_classes()
    assert len(classes) > 60
    copied = {
        cls.__name__
        for cls in classes
        if inlining.template(cls.forward) and inlining.template(cls.backward)
    }
    assert {cls.__name__ for cls in classes} - copied == CALLED


def test_the_tutorial_step_and_an_nn_step_are_copied_whole():
    w1 = Tensor([[0.15, 0.20], [0.25, 0.30]], requires_grad=True)
    w2 = Tensor([[0.40, 0.45], [0.50, 0.55]], requires_grad=True)

    def tutorial(x: np.ndarray, t: np.ndarray) -> Tensor:
        out = (w2 @ (w1 @ x + 0.35).sigmoid() + 0.60).sigmoid()
        return (0.5 * (t - out) ** 2).sum()

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    criterion = nn.CrossEntropyLoss()
    x, labels = Tensor(np.random.default_rng(0).standard_normal((5, 4))), np.array([0, 2, 1, 1, 0])
    for fn, args in (
        (tutorial, (np.array([0.05, 0.1]), np.array([0.01, 0.99]))),
        (lambda x, y: criterion(model(x), y), (x, labels)),
    ):
        compiled = ag.compile(fn)
        for _ in range(3):
            compiled(*args).backward()
        source = next(iter(compiled.traces.values())).source
        assert ".forward(" not in source and ".backward(" not in source


def test_a_method_whose_file_changed_since_import_is_called_not_copied():
    """What is copied must be what runs: a source that no longer compiles to the method's code
    (here: one operator changed) is refused."""
    source = inspect.getsource(ScaledSquare.forward).replace("SCALE * x * x", "SCALE * x + x")
    assert not inlining._compiles_to(textwrap.dedent(source), ScaledSquare.forward.__code__)
    same = textwrap.dedent(inspect.getsource(ScaledSquare.forward))
    assert inlining._compiles_to(same, ScaledSquare.forward.__code__)


GLOBAL_FACTOR = 2.0  # read by ReadsAGlobalNumber; changed by the test below


class ReadsAGlobalNumber(Function):
    """z = GLOBAL_FACTOR·x: a global number is read at each replay, as a call reads it."""

    def forward(self, x):
        return GLOBAL_FACTOR * x

    def backward(self, g):
        return (GLOBAL_FACTOR * g,)


def test_a_global_number_an_operation_reads_is_read_at_each_replay():
    global GLOBAL_FACTOR
    x = Tensor(np.ones(2), requires_grad=True)
    compiled = ag.compile(lambda x: ReadsAGlobalNumber.apply(x).sum())
    try:
        for factor in (2.0, 2.0, 2.0, 5.0):  # two recorded calls, then replays
            GLOBAL_FACTOR = factor
            x.grad = None
            loss = compiled(x)
            loss.backward()
            assert loss.item() == 2 * factor and x.grad.tolist() == [factor, factor]
        assert ".forward(" not in next(iter(compiled.traces.values())).source
    finally:
        GLOBAL_FACTOR = 2.0


class CatchesWhatItRaises(Function):
    """z = x·2, through an error it raises and catches by name: ``except ... as err`` binds err."""

    def forward(self, x):
        try:
            raise ValueError(2.0)
        except ValueError as err:
            factor = err.args[0]
        self.save(factor)
        return x * factor

    def backward(self, g):
        (factor,) = self.saved
        return (g * factor,)


def test_a_name_bound_by_except_as_is_renamed_with_its_uses():
    trace = replays_like_eager(lambda x: CatchesWhatItRaises.apply(x).sum(), np.arange(3.0))
    assert ".forward(" not in trace.source and "as err__" in trace.source


class UsesTheReplaysNames(Function):
    """z = 2x, with locals named as the replay's own variables: renamed apart, they clobber none."""

    def forward(self, x):
        args = [v * 2.0 for v in (x,)]
        E = args[0]
        return E

    def backward(self, g):
        gs = [h * 2.0 for h in (g,)]
        return (gs[0],)


def test_locals_named_as_the_replays_own_variables_clobber_nothing():
    a, b = np.arange(3.0), np.array([1.0, -2.0, 0.5])
    eager = [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)]
    ours = [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)]
    compiled = ag.compile(lambda x, y: (UsesTheReplaysNames.apply(x) * y).sum())
    for _ in range(4):
        expected, got = (UsesTheReplaysNames.apply(eager[0]) * eager[1]).sum(), compiled(*ours)
        assert expected.item() == got.item()
        expected.backward()
        got.backward()
    for p, q in zip(eager, ours, strict=True):
        assert p.grad.tobytes() == q.grad.tobytes()
    source = next(iter(compiled.traces.values())).source
    assert ".forward(" not in source and "args__0 = " in source
