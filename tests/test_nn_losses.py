"""Losses: hand formulas, finite differences, PyTorch, large logits, and bad-input errors."""

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd_lite import Tensor, gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def data(seed=0, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * 2
    probs = rng.uniform(0.05, 0.95, size=shape)
    targets = rng.uniform(size=shape)
    return logits, probs, targets


def reduce(values, reduction):
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_values_match_hand_formulas(reduction):
    logits, probs, targets = data()
    mse = nn.MSELoss(reduction)(Tensor(probs), targets).data
    np.testing.assert_allclose(mse, reduce((probs - targets) ** 2, reduction), rtol=1e-14)
    bce = nn.BCELoss(reduction)(Tensor(probs), targets).data
    by_hand = -(targets * np.log(probs) + (1 - targets) * np.log(1 - probs))
    np.testing.assert_allclose(bce, reduce(by_hand, reduction), rtol=1e-13)
    bcel = nn.BCEWithLogitsLoss(reduction)(Tensor(logits), targets).data
    sig = 1 / (1 + np.exp(-logits))
    by_hand = -(targets * np.log(sig) + (1 - targets) * np.log(1 - sig))
    np.testing.assert_allclose(bcel, reduce(by_hand, reduction), rtol=1e-12)
    labels = np.array([2, 0, 1, 2])
    ce = nn.CrossEntropyLoss(reduction)(Tensor(logits), labels).data
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ce, reduce(-log_probs[np.arange(4), labels], reduction), rtol=1e-13)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_every_loss(reduction):
    logits, probs, targets = data(1)
    labels = np.array([1, 1, 0, 2])
    cases = [
        (F.mse_loss, probs, targets),
        (F.binary_cross_entropy, probs, targets),
        (F.binary_cross_entropy_with_logits, logits, targets),
        (F.cross_entropy, logits, labels),
    ]
    for loss, x, y in cases[:3]:  # the target is differentiable too for the elementwise losses

        def fn(a, b, loss=loss):
            return loss(a, b, reduction=reduction)

        assert gradcheck(fn, Tensor(x, requires_grad=True), Tensor(y, requires_grad=True))
    # Labels go in through the closure: gradcheck makes every Tensor input float64.
    x = Tensor(logits, requires_grad=True)
    assert gradcheck(lambda a: F.cross_entropy(a, labels, reduction=reduction), x)


def test_mse_gradient_by_hand():
    _, probs, targets = data(2)
    x = Tensor(probs, requires_grad=True)
    F.mse_loss(x, targets).backward()
    np.testing.assert_allclose(x.grad, 2 * (probs - targets) / probs.size, rtol=1e-14)


def test_bce_with_logits_gradient_by_hand_including_zero():
    logits, _, targets = data(3)
    logits[0, 0] = 0.0  # the stable formula must still give σ(0) − y here
    x = Tensor(logits, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, targets, reduction="sum").backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp(-logits)) - targets, rtol=1e-13)


def test_cross_entropy_gradient_by_hand():
    logits, _, _ = data(4)
    labels = np.array([0, 2, 2, 1])
    x = Tensor(logits, requires_grad=True)
    F.cross_entropy(x, labels).backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad, (softmax - np.eye(3)[labels]) / 4, rtol=1e-13)


def test_large_logits_are_finite_and_exact():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]])
    x = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, np.array([2, 1]), reduction="none")
    np.testing.assert_allclose(loss.data, [2000.0, 0.0], atol=0)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]], atol=1e-300)

    x = Tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1000.0, 1000.0], atol=0)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0, -1.0], atol=1e-300)


def test_large_logits_gradcheck():
    logits = np.array([[1000.0, 0.5, -1000.0], [-999.0, 1000.0, 3.0]])
    assert gradcheck(
        lambda a: F.cross_entropy(a, np.array([0, 2])), Tensor(logits, requires_grad=True)
    )
    x = Tensor([1000.0, -1000.0, 0.0, 40.0], requires_grad=True)
    assert gradcheck(
        lambda a: F.binary_cross_entropy_with_logits(a, np.array([0.3, 0.7, 1.0, 0.0])), x
    )


def test_bce_clamps_each_log_at_minus_100():
    p = Tensor([0.0, 1.0, 0.0, 1.0, 1e-50], requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0, 100.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))
    # Where a log is clamped the loss is flat, so its gradient there is 0; elsewhere 1/(1 - p).
    np.testing.assert_array_equal(p.grad, [0.0, 0.0, 1.0, -1.0, 0.0])


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    logits, probs, targets = data(5, shape=(6, 4))
    logits[0, 0], logits[1, 2] = 1000.0, -1000.0
    labels = np.array([0, 3, 2, 1, 0, 3])
    cases = [
        (F.mse_loss, tf.mse_loss, probs, targets),
        (F.binary_cross_entropy, tf.binary_cross_entropy, probs, targets),
        (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, logits, targets),
        (F.cross_entropy, tf.cross_entropy, logits, labels),
    ]
    for ours, theirs, x, y in cases:
        for reduction in REDUCTIONS:
            a = Tensor(x, requires_grad=True)
            b = torch.tensor(x, requires_grad=True)
            out_a = ours(a, y, reduction=reduction)
            out_b = theirs(b, torch.from_numpy(y), reduction=reduction)
            np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-12, atol=1e-12)
            weights = np.random.default_rng(0).uniform(0.5, 1.5, size=out_a.shape)
            (out_a * weights).sum().backward()
            (out_b * torch.from_numpy(weights)).sum().backward()
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_bce_at_0_and_1_matches_torch_value():
    torch = pytest.importorskip("torch")
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3])
    ours = F.binary_cross_entropy(Tensor(p), y, reduction="none").data
    theirs = torch.nn.functional.binary_cross_entropy(
        torch.from_numpy(p), torch.from_numpy(y), reduction="none"
    )
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-15)


@pytest.mark.parametrize(
    "loss", [F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits]
)
def test_shape_mismatch_is_an_error_not_a_broadcast(loss):
    x = Tensor(np.full((4, 1), 0.5), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\).*match exactly"):
        loss(x, np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        loss(x, np.ones((1, 4)))


def test_cross_entropy_label_errors():
    logits = Tensor(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        F.cross_entropy(logits, np.array([[0], [1], [2]]))
    with pytest.raises(ValueError, match=r"\[0, 4\).*\[4\]"):
        F.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"\[-1\]"):
        F.cross_entropy(logits, [0, -1, 1])
    with pytest.raises(ValueError, match=r"\(N, C\).*\(4,\)"):
        F.cross_entropy(Tensor(np.zeros(4)), np.array([1]))
    F.cross_entropy(logits, Tensor(np.array([0, 1, 3])))  # labels may come as an integer Tensor


def test_nan_input_is_a_clear_error():
    x = np.full((2, 3), 0.5)
    x[1, 2] = np.nan
    for loss, target in [
        (F.mse_loss, np.zeros((2, 3))),
        (F.binary_cross_entropy, np.zeros((2, 3))),
        (F.binary_cross_entropy_with_logits, np.zeros((2, 3))),
        (F.cross_entropy, np.array([0, 1])),
    ]:
        with pytest.raises(ValueError, match=r"NaN.*\(1, 2\)"):
            loss(Tensor(x), target)
    with pytest.raises(ValueError, match="target contains NaN"):
        F.mse_loss(Tensor(np.zeros(2)), np.array([0.0, np.nan]))


def test_other_bad_inputs():
    with pytest.raises(ValueError, match=r"\[0, 1\].*sigmoid"):
        F.binary_cross_entropy(Tensor([0.5, 1.5]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(Tensor(np.zeros((1, 2))), [0], reduction="max")
    with pytest.raises(TypeError, match="floating"):
        F.mse_loss(Tensor(np.array([1, 2])), np.array([1.0, 2.0]))


def test_float32_losses_stay_float32():
    x = Tensor(np.array([[0.2, 0.7]], dtype=np.float32), requires_grad=True)
    for loss in (
        F.mse_loss(x, np.array([[0.0, 1.0]])),
        F.binary_cross_entropy(x, np.array([[0, 1]])),
        F.binary_cross_entropy_with_logits(x, np.array([[0.0, 1.0]])),
        F.cross_entropy(x, np.array([1])),
    ):
        assert loss.dtype == np.float32
        loss.backward()
        assert x.grad.dtype == np.float32
