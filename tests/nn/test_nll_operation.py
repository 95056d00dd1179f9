"""The unweighted negative log-likelihood as one operation (nn/_nll.py): its derivative three
ways where it can be, the graph it makes, and compile replaying cross-entropy with each call's
labels, checked inside the operation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor, gradcheck, gradgradcheck
from nn._nll import NllLoss

IGNORE = -100
LABELS = np.array([2, 0, IGNORE, 1, 2])  # one row ignored


def log_probs(seed: int = 0, shape=(5, 3)) -> Tensor:
    x = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(x - np.log(np.exp(x).sum(axis=1, keepdims=True)), requires_grad=True)


def nll(x: Tensor, labels: np.ndarray, reduction: str) -> Tensor:
    return NllLoss.apply(x, labels, name="nll", ignore_index=IGNORE, reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("labels", [LABELS, np.array([2, 0, 1, 1, 2])], ids=["ignored", "all"])
def test_first_and_second_derivatives_against_finite_differences(reduction, labels):
    x = log_probs()
    assert gradcheck(lambda t: nll(t, labels, reduction), x)
    assert gradgradcheck(lambda t: nll(t, labels, reduction), x)  # linear in x: zero, and recorded


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradient_is_the_hand_derived_one(reduction):
    x = log_probs(1)
    out = nll(x, LABELS, reduction)
    g = np.array([0.5, -1.0, 2.0, 0.25, 3.0]) if reduction == "none" else np.array(1.5)
    out.backward(g)
    kept = LABELS != IGNORE
    expected = np.zeros((5, 3))
    for i in np.flatnonzero(kept):  # -g / n at (i, yᵢ) for the mean, -g for the sum, -gᵢ per row
        if reduction == "none":
            expected[i, LABELS[i]] = -g[i]
        else:
            expected[i, LABELS[i]] = -g / kept.sum() if reduction == "mean" else -g
    np.testing.assert_allclose(x.grad, expected, rtol=0, atol=1e-15)
    picked = -x.data[np.flatnonzero(kept), LABELS[kept]]
    value = {"mean": picked.mean(), "sum": picked.sum()}.get(reduction)
    if value is None:
        np.testing.assert_array_equal(out.data[kept], picked)
        assert out.data[~kept].tolist() == [0.0]
    else:
        assert out.item() == pytest.approx(value, rel=1e-15)


def test_cross_entropy_is_two_nodes_named_as_pytorch_names_them():
    loss = nn.functional.cross_entropy(Tensor(np.ones((4, 3)), requires_grad=True), [0, 1, 2, 1])
    assert loss._ctx.name == "NllLoss"
    assert loss._ctx.inputs[0]._ctx.name == "LogSoftmax"


def test_a_label_out_of_range_is_an_error_in_the_operation_too():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\).*\[3\]"):
        nll(log_probs(), np.array([0, 1, 2, 3, 0]), "mean")
    with pytest.raises(ValueError, match="every label is ignore_index"):
        nll(log_probs(), np.full(5, IGNORE), "mean")
    assert nll(log_probs(), np.full(5, IGNORE), "sum").item() == 0.0


# ----- compile: the step is replayed, and each call's labels are used and checked
def make_step():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(6, 8, rng=rng), nn.ReLU(), nn.Linear(8, 3, rng=rng))
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)

    def step(x: np.ndarray, labels: np.ndarray) -> Tensor:
        return loss_fn(model(Tensor(x)), labels)

    return model, step


def run(model, step, x, labels) -> list[bytes]:
    model.zero_grad()
    loss = step(x, labels)
    loss.backward()
    return [loss.data.tobytes()] + [p.grad.tobytes() for p in model.parameters()]


def test_compiled_cross_entropy_replays_with_each_calls_labels_to_the_bit():
    rng = np.random.default_rng(4)
    batches = [(rng.standard_normal((5, 6)), rng.integers(0, 3, 5)) for _ in range(5)]
    batches.append((rng.standard_normal((5, 6)), LABELS))  # an ignored label, in a replay
    eager_model, eager_step = make_step()
    model, step = make_step()
    compiled = ag.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        for x, labels in batches:
            assert run(model, compiled, x, labels) == run(eager_model, eager_step, x, labels)
    assert compiled.eager_reason is None and len(compiled.traces) == 1


def test_a_replay_checks_the_labels_it_is_given():
    model, step = make_step()
    compiled = ag.compile(step)
    x = np.ones((5, 6))
    for _ in range(3):  # two recorded calls, then replays
        run(model, compiled, x, np.array([0, 1, 2, 1, 0]))
    assert len(compiled.traces) == 1
    for bad in ([0, 1, 2, 3, 0], [0, -1, 2, 1, 0]):  # -1 would silently index the last class
        with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
            compiled(x, np.array(bad))


def test_label_smoothing_depends_on_the_labels_outside_the_operation_so_it_runs_eagerly():
    rng = np.random.default_rng(5)
    model = nn.Sequential(nn.Linear(6, 3, rng=rng))
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE, label_smoothing=0.1)
    compiled = ag.compile(lambda x, labels: loss_fn(model(Tensor(x)), labels))
    x = rng.standard_normal((5, 6))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for labels in ([0, 1, 2, 1, 0], [2, 2, 1, 0, 1], LABELS):  # the last has an ignored row
            got = compiled(x, np.array(labels)).item()
            assert got == loss_fn(model(Tensor(x)), np.array(labels)).item()
    assert compiled.eager_reason is not None and len(caught) == 1
