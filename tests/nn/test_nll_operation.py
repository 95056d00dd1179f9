"""The unweighted negative log-likelihood as one operation (nn/_nll.py): its derivative three
ways where it can be, the graph it makes, and its checks of the labels (a compiled step relies on
them: tests/compile/test_compile_losses.py)."""

from __future__ import annotations

import numpy as np
import pytest

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
