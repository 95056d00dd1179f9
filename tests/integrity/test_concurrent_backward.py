"""Issue 9, point 4: two threads backpropagating into one leaf never lose an accumulation.

Each thread runs its own graphs (400 backward passes) into the same leaves, both released at once
by a barrier. The gradients are small integers, exact in float64 in any order of addition, so the
accumulated ``.grad`` must equal the sequential sum bit for bit.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import numpy as np
import pytest

from autograd_lite import Tensor

PASSES = 400
TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def frequent_thread_switches():
    """Switch threads every microsecond instead of every 5 ms, so that a read-add-write race on
    ``.grad`` shows up within a few hundred passes instead of once in a long while."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def run_together(*jobs: Callable[[], None]) -> None:
    """Run each job PASSES times in its own thread, all starting at the same moment."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def repeat(job: Callable[[], None]) -> None:
        try:
            barrier.wait(TIMEOUT)
            for _ in range(PASSES):
                job()
        except BaseException as err:  # re-raised below, in the test's own thread
            errors.append(err)

    threads = [threading.Thread(target=repeat, args=(job,), daemon=True) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a backward thread did not finish"
    if errors:
        raise errors[0]


def test_two_threads_accumulate_into_shared_leaves_elementwise():
    rng = np.random.default_rng(0)
    # Several leaves per graph: every backward pass is several chances for an accumulation race.
    leaves = [Tensor(rng.standard_normal(5_000), requires_grad=True) for _ in range(8)]
    k1, k2 = (rng.integers(-3, 4, 5_000).astype(np.float64) for _ in range(2))

    def job(k: np.ndarray) -> Callable[[], None]:
        return lambda: sum((w * k).sum() for w in leaves).backward()

    run_together(job(k1), job(k2))
    for w in leaves:
        assert w.grad is not None and w.grad.shape == (5_000,) and w.grad.dtype == np.float64
        np.testing.assert_array_equal(w.grad, PASSES * k1 + PASSES * k2)


def test_two_threads_train_the_same_linear_layers():
    rng = np.random.default_rng(1)
    layers = [
        (
            Tensor(rng.standard_normal((64, 32)), requires_grad=True),
            Tensor(rng.standard_normal(64), requires_grad=True),
        )
        for _ in range(4)
    ]
    x1, x2 = (Tensor(rng.integers(-2, 3, (16, 32)).astype(np.float64)) for _ in range(2))

    def job(x: Tensor) -> Callable[[], None]:
        return lambda: sum((x @ weight.T + bias).sum() for weight, bias in layers).backward()

    run_together(job(x1), job(x2))
    # d/dW of sum(x @ W.T + b) is, in every row, the column sums of x; d/db is the batch size.
    column_sums = x1.data.sum(axis=0) + x2.data.sum(axis=0)
    for weight, bias in layers:
        np.testing.assert_array_equal(weight.grad, np.tile(PASSES * column_sums, (64, 1)))
        np.testing.assert_array_equal(bias.grad, np.full(64, PASSES * 2 * 16.0))
