"""detect_anomaly(): stops at the operation that creates a NaN or inf, names it and the user's line.

The expected line numbers are found in this file's own text (the marker comments), not written
down, so moving a test does not break it and a wrong line does.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import Tensor, detect_anomaly, is_anomaly_enabled

SOURCE = Path(__file__).read_text(encoding="utf-8").splitlines()


def line_of(marker: str) -> str:
    """``file:line`` of the one line of this file that ends with the comment ``# <marker>``."""
    (number,) = [i for i, text in enumerate(SOURCE, 1) if text.rstrip().endswith(f"# {marker}")]
    return f"{__file__}:{number}"


def test_sqrt_of_a_negative_names_the_line_that_made_it_not_the_sqrt_after_it():
    x = Tensor([1.0, 3.0, 2.5], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with detect_anomaly():
            y = (x - 2).sqrt()  # first sqrt
            y.sqrt()  # second sqrt
    message = str(info.value)
    assert "'Sqrt' created 1 NaN and 0 infinite of 3 elements in forward" in message
    assert f"created at {line_of('first sqrt')}: y = (x - 2).sqrt()" in message
    assert line_of("second sqrt") not in message
    assert "(3,) float64" in message


def test_log_of_a_negative_stops_before_a_nan_loss_exists():
    x = Tensor([0.5, 2.0], requires_grad=True)
    loss = None
    with pytest.raises(FloatingPointError, match=r"'Log' created 2 NaN .* in forward") as info:
        with detect_anomaly():
            loss = (-x).log().sum()  # the log
    assert loss is None  # the NaN loss never came to be
    assert line_of("the log") in str(info.value)


def test_a_float32_matmul_that_overflows_is_named():
    a = Tensor(np.full((2, 3), 3e19, dtype=np.float32), requires_grad=True)
    b = Tensor(np.full((3, 2), 2e19, dtype=np.float32))
    with pytest.raises(FloatingPointError) as info:
        with detect_anomaly():
            (a @ b).sum()  # the matmul
    message = str(info.value)
    assert "'MatMul' created 0 NaN and 4 infinite of 4 elements in forward" in message
    assert "(2, 3) float32, (3, 2) float32" in message and "overflow" in message
    assert line_of("the matmul") in message


def test_in_backward_it_names_the_operation_and_the_forward_line():
    w = Tensor([0.0, 4.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with detect_anomaly():
            loss = w.sqrt().sum()  # sqrt at zero
            loss.backward()  # d√w/dw = 1/(2√w) is infinite at 0
    message = str(info.value)
    assert "'Sqrt' created 0 NaN and 1 infinite of 2 elements in backward" in message
    assert line_of("sqrt at zero") in message
    assert w.grad is None  # nothing half-accumulated


def test_a_nan_that_only_flows_through_is_blamed_on_no_operation():
    x = Tensor([np.nan, 1.0], requires_grad=True)
    with detect_anomaly():
        y = ((x * 2.0 + 1.0).exp() - 3.0).tanh()  # every operation passes the NaN along
        assert np.isnan(y.data[0]) and not np.isnan(y.data[1])
    w = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        out = (w * 3.0).exp()
        out.backward(np.array([np.nan, 1.0]))  # a NaN gradient given, carried back
    assert np.isnan(w.grad[0]) and w.grad[1] == pytest.approx(3 * np.exp(6.0))


def test_a_nan_loss_never_passes_silently():
    x = Tensor([np.nan, 1.0], requires_grad=True)
    loss = (x * 2.0).sum()
    with pytest.raises(FloatingPointError, match=r"backward\(\) from a loss of nan"):
        loss.backward()


def test_decorator_form():
    @detect_anomaly()
    def step(x):
        assert is_anomaly_enabled()
        return (x - 10.0).log()  # in the decorated function

    with pytest.raises(FloatingPointError, match="'Log' created") as info:
        step(Tensor([1.0], requires_grad=True))
    assert line_of("in the decorated function") in str(info.value)
    assert not is_anomaly_enabled()


@detect_anomaly()
def batches():
    for value in (4.0, -4.0):
        yield Tensor([value], requires_grad=True).sqrt()  # in the generator


def test_generator_form_checks_the_generators_body():
    steps = batches()
    try:
        assert next(steps).data[0] == 2.0
        with pytest.raises(FloatingPointError, match="'Sqrt' created 1 NaN") as info:
            next(steps)
        assert line_of("in the generator") in str(info.value)
    finally:
        steps.close()
    assert not is_anomaly_enabled()


def test_generator_form_does_not_check_the_caller_between_steps():
    steps = batches()
    try:
        next(steps)
        assert not is_anomaly_enabled()  # the caller's own code runs unchecked
    finally:
        steps.close()


def test_outside_the_block_nothing_is_checked_and_numpys_settings_come_back():
    before = np.geterr()
    with detect_anomaly():
        assert is_anomaly_enabled()
        assert np.geterr()["invalid"] == "raise" and np.geterr()["under"] == "ignore"
    assert np.geterr() == before and not is_anomaly_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = Tensor([-1.0], requires_grad=True).sqrt()  # NaN, and no error outside the block
    assert np.isnan(y.data[0])
    assert getattr(y._ctx, "site", None) is None  # no line recorded outside the block


def test_nested_blocks_restore_the_outer_one():
    with detect_anomaly():
        with detect_anomaly():
            pass
        assert is_anomaly_enabled()
        with pytest.raises(FloatingPointError):
            Tensor([-1.0], requires_grad=True).log()
    assert not is_anomaly_enabled()
