"""The tutorials' 2-2-2 worked example must come out of the engine, figure for figure."""

import numpy as np
import pytest

from autograd_lite import Tensor, no_grad

X = np.array([0.05, 0.10])
T = np.array([0.01, 0.99])


def make_weights():
    w_hidden = Tensor([[0.15, 0.20], [0.25, 0.30]], requires_grad=True)
    w_output = Tensor([[0.40, 0.45], [0.50, 0.55]], requires_grad=True)
    return w_hidden, w_output


def total_error(w_hidden, w_output):
    out_h = (w_hidden @ X + 0.35).sigmoid()
    out_o = (w_output @ out_h + 0.60).sigmoid()
    return (0.5 * (T - out_o) ** 2).sum()


def sgd_step(w_hidden, w_output, lr=0.5):
    w_hidden.zero_grad()
    w_output.zero_grad()
    error = total_error(w_hidden, w_output)
    error.backward()
    with no_grad():
        w_hidden.data -= lr * w_hidden.grad
        w_output.data -= lr * w_output.grad
    return error.item()


def test_error_before_update():
    assert total_error(*make_weights()).item() == pytest.approx(0.298371109, abs=5e-10)


def test_weights_after_one_step():
    w_hidden, w_output = make_weights()
    sgd_step(w_hidden, w_output)
    np.testing.assert_allclose(
        w_output.data.ravel(), [0.35891648, 0.408666186, 0.511301270, 0.561370121], atol=5e-9
    )
    np.testing.assert_allclose(
        w_hidden.data.ravel(), [0.149780716, 0.19956143, 0.24975114, 0.29950229], atol=5e-9
    )
    assert total_error(w_hidden, w_output).item() == pytest.approx(0.2910277737, abs=5e-11)


def test_error_after_10000_steps():
    w_hidden, w_output = make_weights()
    for _ in range(10_000):
        sgd_step(w_hidden, w_output)
    assert total_error(w_hidden, w_output).item() == pytest.approx(3.5101878e-05, rel=1e-7)
