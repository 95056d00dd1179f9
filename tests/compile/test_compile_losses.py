"""Which nn losses a compiled step replays, as docs/speed.md lists them: those whose dependence on
the targets' values is inside operations replay each call's targets to the bit; those that build
masks from values in NumPy run the step eagerly (with the warning), never replaying one call's
mask on another's targets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor

rng = np.random.default_rng(11)
N, C = 6, 3
IGNORE = -100
LABELS = [rng.integers(0, C, N) for _ in range(4)] + [np.array([0, -100, 2, 1, -100, 0])]
SOFT = [rng.uniform(size=(N, C)) for _ in range(5)]
BINARY = [rng.integers(0, 2, (N, C)).astype(float) for _ in range(5)]

REPLAYED = {
    "mse": (nn.MSELoss(), SOFT),
    "l1": (nn.L1Loss(), SOFT),
    "cross_entropy": (nn.CrossEntropyLoss(), LABELS),
    "cross_entropy_sum": (nn.CrossEntropyLoss(reduction="sum"), LABELS),
    "cross_entropy_probabilities": (nn.CrossEntropyLoss(), SOFT),
    "bce_with_logits": (nn.BCEWithLogitsLoss(), BINARY),
    "bce_with_logits_pos_weight": (nn.BCEWithLogitsLoss(pos_weight=np.array([1.0, 2, 3])), BINARY),
    "huber": (nn.HuberLoss(), SOFT),
    "smooth_l1": (nn.SmoothL1Loss(), SOFT),
    "bce": (nn.BCELoss(), BINARY),
    "bce_weighted_soft": (nn.BCELoss(weight=np.array([1.0, 2, 3])), SOFT),
}
EAGER = {
    "cross_entropy_weighted": (nn.CrossEntropyLoss(weight=np.array([1.0, 2, 3])), LABELS),
    "cross_entropy_smoothing": (nn.CrossEntropyLoss(label_smoothing=0.1), LABELS),
}


def model_and_step(loss_fn):
    model = nn.Sequential(nn.Linear(4, C, rng=np.random.default_rng(0)))
    squash = isinstance(loss_fn, nn.BCELoss)  # BCELoss takes probabilities

    def step(x: np.ndarray, target: np.ndarray) -> Tensor:
        out = model(Tensor(x))
        return loss_fn(out.sigmoid() if squash else out, target)

    return model, step


def bits(model, step, x, target) -> list[bytes]:
    model.zero_grad()
    loss = step(x, target)
    loss.backward()
    return [loss.data.tobytes()] + [p.grad.tobytes() for p in model.parameters()]


@pytest.mark.parametrize("name", [*REPLAYED, *EAGER])
def test_a_compiled_step_gives_eager_bits_for_every_calls_targets(name):
    loss_fn, targets = {**REPLAYED, **EAGER}[name]
    eager_model, eager_step = model_and_step(loss_fn)
    model, step = model_and_step(loss_fn)
    compiled = ag.compile(step)
    x = np.random.default_rng(1).standard_normal((N, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for target in targets:
            assert bits(model, compiled, x, target) == bits(eager_model, eager_step, x, target)
    if name in REPLAYED:
        assert compiled.eager_reason is None and not caught and len(compiled.traces) == 1
    else:
        assert compiled.eager_reason is not None and len(caught) == 1


# ----- cross-entropy: each call's labels are used, and checked, in a replay
FIVE_WITH_AN_IGNORED_ROW = np.array([2, 0, IGNORE, 1, 2])


def cross_entropy_step():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(6, 8, rng=rng), nn.ReLU(), nn.Linear(8, 3, rng=rng))
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)

    def step(x: np.ndarray, labels: np.ndarray) -> Tensor:
        return loss_fn(model(Tensor(x)), labels)

    return model, step


def test_compiled_cross_entropy_replays_with_each_calls_labels_to_the_bit():
    rng = np.random.default_rng(4)
    batches = [(rng.standard_normal((5, 6)), rng.integers(0, 3, 5)) for _ in range(5)]
    batches.append((rng.standard_normal((5, 6)), FIVE_WITH_AN_IGNORED_ROW))  # in a replay
    eager_model, eager_step = cross_entropy_step()
    model, step = cross_entropy_step()
    compiled = ag.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        for x, labels in batches:
            assert bits(model, compiled, x, labels) == bits(eager_model, eager_step, x, labels)
    assert compiled.eager_reason is None and len(compiled.traces) == 1


def test_a_replay_checks_the_labels_it_is_given():
    model, step = cross_entropy_step()
    compiled = ag.compile(step)
    x = np.ones((5, 6))
    for _ in range(3):  # two recorded calls, then replays
        bits(model, compiled, x, np.array([0, 1, 2, 1, 0]))
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
        for labels in ([0, 1, 2, 1, 0], [2, 2, 1, 0, 1], FIVE_WITH_AN_IGNORED_ROW):
            got = compiled(x, np.array(labels)).item()
            assert got == loss_fn(model(Tensor(x)), np.array(labels)).item()
    assert compiled.eager_reason is not None and len(caught) == 1


@pytest.mark.parametrize("name", sorted(REPLAYED))
def test_a_nan_input_in_a_replay_gives_a_nan_loss_that_backward_refuses(name):
    # docs/speed.md: a replay does not repeat nn's NaN check, made in Python around the
    # operations; eager mode refuses the input at once, a replay one call later, in backward()
    loss_fn, targets = REPLAYED[name]
    model, step = model_and_step(loss_fn)
    compiled = ag.compile(step)
    x = np.random.default_rng(2).standard_normal((N, 4))
    for _ in range(3):  # two recorded calls, then a replay
        bits(model, compiled, x, targets[0])
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        step(bad, targets[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's invalid-value warnings
        loss = compiled(bad, targets[0])
    assert np.isnan(loss.item())
    with pytest.raises(FloatingPointError, match="backward\\(\\) from a loss of nan"):
        loss.backward()
