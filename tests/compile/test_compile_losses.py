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
}
EAGER = {
    "bce": (nn.BCELoss(), BINARY),
    "huber": (nn.HuberLoss(), SOFT),
    "smooth_l1": (nn.SmoothL1Loss(), SOFT),
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
