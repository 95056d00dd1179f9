"""Issue 9, point 3: grad mode belongs to the thread.

A validation thread under ``no_grad`` must not change what a training thread records, and two
threads entering and leaving ``no_grad`` out of order must not leave recording off for everyone.
Every interleaving here is forced with events, so each test checks one exact schedule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_lite
from autograd_lite import Tensor, enable_grad, no_grad

TIMEOUT = 10.0  # seconds; only reached if a schedule deadlocks, which is then a failure


def records() -> bool:
    """Whether an operation run in the calling thread is recorded: what grad mode means."""
    return (Tensor([1.0], requires_grad=True) * 2).requires_grad


@pytest.fixture(autouse=True)
def recording_restored():
    """A process-wide grad mode that a failing test leaves off would fail unrelated tests too."""
    yield
    if not records():
        enable_grad().__enter__()


class Worker(threading.Thread):
    """A thread that keeps what its function returned or raised, for the main thread to check."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn, self.result, self.error = fn, None, None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as err:  # re-raised in the main thread by outcome()
            self.error = err

    def outcome(self) -> Any:
        self.join(TIMEOUT)
        assert not self.is_alive(), "the thread did not finish: the schedule deadlocked"
        if self.error is not None:
            raise self.error
        return self.result


def wait(event: threading.Event) -> None:
    assert event.wait(TIMEOUT), "an event of the forced schedule never came"


def test_validation_thread_under_no_grad_does_not_cut_the_training_graph():
    inside, release = threading.Event(), threading.Event()
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)

    def validate() -> tuple[bool, bool]:
        with no_grad():
            inside.set()
            wait(release)
            return autograd_lite.is_grad_enabled(), (w * 2).requires_grad

    worker = Worker(validate)
    worker.start()
    try:
        wait(inside)  # the validation thread is inside no_grad from here on
        assert autograd_lite.is_grad_enabled()
        h = w * w
        assert h.requires_grad and not h.is_leaf
        h.sum().backward()
    finally:
        release.set()
    assert worker.outcome() == (False, False)
    np.testing.assert_array_equal(w.grad, [2.0, 4.0, 6.0])


def _own_with_block(fn: Callable[[], bool]) -> bool:
    with no_grad():
        return fn()


@pytest.mark.parametrize("shared", [False, True], ids=["own with-blocks", "one @no_grad() fn"])
def test_interleaved_no_grad_threads_leave_recording_on(shared):
    """A enters, B enters, A exits, B exits: the order that left recording off process-wide."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    # A decorated function called from both threads shares one no_grad instance between them.
    enter = no_grad()(lambda fn: fn()) if shared else _own_with_block

    def signal_then_wait(mine: threading.Event, other: threading.Event) -> bool:
        mine.set()
        wait(other)
        return records()  # still inside this thread's no_grad, whatever the other did

    def a() -> bool:
        seen = enter(lambda: signal_then_wait(a_in, b_in))
        a_out.set()
        return seen

    def b() -> bool:
        wait(a_in)
        return enter(lambda: signal_then_wait(b_in, a_out))

    workers = [Worker(a), Worker(b)]
    for worker in workers:
        worker.start()
    assert [worker.outcome() for worker in workers] == [False, False]
    assert autograd_lite.is_grad_enabled() and records()


def test_a_new_thread_starts_with_grad_enabled_and_reads_its_own_mode():
    with no_grad():
        worker = Worker(lambda: (autograd_lite.is_grad_enabled(), records()))
        worker.start()
        seen = worker.outcome()
        assert not autograd_lite.is_grad_enabled() and not records()
    assert seen == (True, True)
    assert autograd_lite.is_grad_enabled()


def test_enable_grad_inside_no_grad_is_per_thread():
    inside, main_in = threading.Event(), threading.Event()
    w = Tensor([1.0, 2.0], requires_grad=True)

    def trainer() -> tuple[bool, bool, bool]:
        with no_grad():
            with enable_grad():
                inside.set()
                wait(main_in)  # the main thread now sits inside its own no_grad
                on = records()
                y = w * 2
            off_again = not records()
        return on, y.requires_grad, off_again

    worker = Worker(trainer)
    worker.start()
    wait(inside)
    with no_grad():
        main_in.set()
        result = worker.outcome()  # the trainer runs to its end while we are in no_grad
        main_off = not records()
    assert result == (True, True, True)
    assert main_off and records()


def test_no_grad_on_a_generator_function_covers_its_body():
    @no_grad()
    def batches(n: int):
        for _ in range(n):
            yield records()

    seen = []
    for recorded in batches(3):
        seen.append(recorded)
        assert records()  # between next() calls the caller keeps its own mode
    assert seen == [False, False, False]

    gen = batches(3)
    assert next(gen) is False
    assert records()
    gen.close()  # a generator left half-way leaves nothing switched off
    assert records()
