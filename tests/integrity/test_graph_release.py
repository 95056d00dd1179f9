"""Issue 9, point 5: a kept loss does not keep the activations, and copies of a tensor copy its
value, not its graph.

After ``backward()`` the graph keeps its structure (so ``draw_graph`` still draws it) but lets go
of the intermediate values; ``backward(retain_graph=True)`` keeps them. Memory is measured with
tracemalloc, which sees NumPy's array allocations.
"""

from __future__ import annotations

import copy
import gc
import math
import pickle
import tracemalloc

import numpy as np
import pytest

import nn
from autograd_lite import Tensor, draw_graph

STEPS, WARM_UP = 40, 10
PER_STEP_BOUND = 50_000  # bytes: room for a loss and its graph's bookkeeping, not for arrays
BATCH, HIDDEN = 256, 512
ONE_ACTIVATION = BATCH * HIDDEN * 8  # bytes of one hidden float64 array: a leak per step


def traced_bytes(collect: bool = True) -> int:
    if collect:  # slow with a large heap: only where a number is compared with the bound
        gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_a_loop_that_keeps_every_loss_does_not_keep_the_activations():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(16, HIDDEN, rng=rng), nn.Tanh(), nn.Linear(HIDDEN, 1, rng=rng))
    opt = nn.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    # Inputs made once: a fresh Tensor per step would be a new leaf the graph rightly keeps.
    x = Tensor(rng.standard_normal((BATCH, 16)))
    y = Tensor(rng.standard_normal((BATCH, 1)))
    losses, total, running = [], 0.0, 0.0
    tracemalloc.start()
    try:
        for step in range(1, STEPS + 1):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss)  # what users write to plot a curve later
            total = total + loss.item()
            running = running + loss  # Tensors: a graph over every loss, never backpropagated
            if step == WARM_UP:
                start = traced_bytes()
            elif step > WARM_UP:
                grown = traced_bytes(collect=False) - start
                # Stop at a leak early rather than allocate a hundred MB to prove it.
                assert grown < 4 * ONE_ACTIVATION, f"kept {grown} bytes after step {step}"
        per_step = (traced_bytes() - start) / (STEPS - WARM_UP)
    finally:
        tracemalloc.stop()
    assert per_step < PER_STEP_BOUND, f"memory grew by {per_step:.0f} bytes per step"
    values = [loss.item() for loss in losses]  # the kept losses still hold their values
    assert math.fsum(values) == pytest.approx(total, rel=1e-12)
    assert running.item() == pytest.approx(total, rel=1e-12)
    draw_graph(losses[0])  # an old loss's graph can still be drawn


# w = [0.25, 0.5];  h = 3w = [0.75, 1.5];  s = tanh h = [0.6351, 0.9051];  loss = s.sum()
INTERMEDIATE_VALUES = ["0.75", f"{math.tanh(0.75):.4g}", f"{math.tanh(1.5):.4g}"]


def small_graph() -> Tensor:
    w = Tensor([0.25, 0.5], requires_grad=True, name="w")
    return (w * 3.0).tanh().sum()  # the caller holds only the loss, not h or s


def test_draw_graph_after_backward_marks_released_values_and_keeps_the_structure():
    loss = small_graph()
    loss.backward()
    source = draw_graph(loss).source
    assert "released" in source
    for value in INTERMEDIATE_VALUES:
        assert value not in source, f"intermediate value {value} is still drawn:\n{source}"
    for op in ("Mul", "Tanh", "Sum"):
        assert op in source
    w_grad = [3 * (1 - math.tanh(h) ** 2) for h in (0.75, 1.5)]  # the leaf keeps value and grad
    for value in ["0.25", "0.5", *(f"{g:.4g}" for g in w_grad)]:
        assert value in source


def test_retain_graph_keeps_every_value_for_pictures():
    loss = small_graph()
    loss.backward(retain_graph=True)
    source = draw_graph(loss).source
    assert "released" not in source
    for value in INTERMEDIATE_VALUES:
        assert value in source


def pickle_round_trip(obj: object) -> object:
    return pickle.loads(pickle.dumps(obj))


COPIERS = {"deepcopy": copy.deepcopy, "pickle": pickle_round_trip}


@pytest.mark.parametrize("copier", COPIERS.values(), ids=COPIERS)
def test_copying_a_result_copies_its_value_not_its_graph(copier):
    big = Tensor(np.arange(100_000.0), requires_grad=True)  # 800 kB a copied graph would carry
    h = (big * 2.0)[:3]
    c = copier(h)
    assert c.is_leaf and not c.requires_grad and c.grad is None
    np.testing.assert_array_equal(c.data, [0.0, 2.0, 4.0])
    assert not np.shares_memory(c.data, h.data)
    assert len(pickle.dumps(h)) < 10_000


@pytest.mark.parametrize("copier", COPIERS.values(), ids=COPIERS)
def test_copying_a_loss_after_backward_keeps_its_value(copier):
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    c = copier(loss)
    assert c.item() == 5.0 and c.is_leaf and not c.requires_grad


@pytest.mark.parametrize("copier", COPIERS.values(), ids=COPIERS)
def test_copying_a_leaf_keeps_data_grad_requires_grad_and_name(copier):
    w = Tensor([1.0, -2.0], requires_grad=True, name="w")
    (w * w).sum().backward()
    c = copier(w)
    assert type(c) is Tensor and c.is_leaf and c.requires_grad and c.name == "w"
    np.testing.assert_array_equal(c.data, [1.0, -2.0])
    np.testing.assert_array_equal(c.grad, [2.0, -4.0])
    assert not np.shares_memory(c.data, w.data) and not np.shares_memory(c.grad, w.grad)


@pytest.mark.parametrize("copier", COPIERS.values(), ids=COPIERS)
def test_a_parameter_stays_a_parameter_and_keeps_its_identity_within_one_copy(copier):
    p = nn.Parameter(np.array([[1.0, 2.0]]))
    p2, by_param = copier((p, {p: "state"}))
    assert type(p2) is nn.Parameter and p2.requires_grad and p2.is_leaf
    np.testing.assert_array_equal(p2.data, [[1.0, 2.0]])
    (key,) = by_param
    assert key is p2 and by_param[p2] == "state"


def test_a_released_intermediate_is_one_placeholder_wherever_it_is_used():
    w = Tensor([0.25, 0.5], requires_grad=True, name="w")
    h = w * 3.0
    h.name = "h"
    loss = (h * h + h.tanh()).sum()  # h feeds a Mul twice and a Tanh once
    del h
    loss.backward()
    add = loss._ctx.inputs[0]._ctx
    product, tanh = (t._ctx for t in add.inputs)
    first, second = product.inputs
    (third,) = tanh.inputs
    assert first is second is third  # one node in pictures, not three
    assert first.name == "h" and first.shape == (2,) and first.dtype == np.float64
    assert first.data is None and first.requires_grad and not first.is_leaf
    assert first._ctx.name == "Mul" and first._ctx.inputs[0] is w  # the parameter is kept
    assert draw_graph(loss).source.count("released") >= 3
