"""Issue 9, point 7: every loss's gradient is finite wherever its value is, float32 included.

The reference gradients come from closed forms evaluated in float64, and from PyTorch where it is
installed. Any RuntimeWarning (overflow in a divide, invalid value) fails the test: sloppy numerics
show up as warnings long before they show up as wrong numbers.
"""

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd_lite import Tensor

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]
TARGETS = [0.0, 1.0, 0.3, 0.5]
SPECIAL = np.array([88, 89, 95, 100, 103, 104, 710, 745], dtype=float)
LOGITS = np.unique(np.concatenate([np.linspace(-1000, 1000, 2001), SPECIAL, -SPECIAL]))


def smallest_invertible(dtype):
    """The smallest positive number of ``dtype`` whose reciprocal is finite, by bisection over
    the bit patterns of the positive floats (which are ordered as the integers are)."""
    bits = np.dtype(f"u{np.dtype(dtype).itemsize}")
    one = np.ones((), dtype)
    low, high = 1, int(one.view(bits))  # 1/smallest_subnormal overflows, 1/1 does not
    with np.errstate(over="ignore", divide="ignore"):
        while high - low > 1:
            mid = (low + high) // 2
            if np.isfinite(one / np.asarray(mid, bits).view(dtype)):
                high = mid
            else:
                low = mid
    return np.asarray(high, bits).view(dtype)


def sigmoid64(x):
    return np.exp(-np.logaddexp(0.0, -x))


def backward(out):
    """Backward from a loss as a user would: a unit gradient for each element of reduction none."""
    out.backward(np.ones(out.shape) if out.ndim else None)


# ----- the user's story -----------------------------------------------------------------------
def test_sigmoid_then_bce_at_logit_minus_95_leaves_float32_weights_finite_after_sgd():
    model = nn.Sequential(nn.Linear(1, 1, dtype=np.float32), nn.Sigmoid())
    model.load_state_dict(
        {"0.weight": np.array([[1.0]], np.float32), "0.bias": np.array([0.0], np.float32)}
    )
    x = np.array([[-95.0]], np.float32)
    y = np.array([[1.0]], np.float32)
    loss_fn = nn.BCELoss()
    opt = nn.optim.SGD(model.parameters(), lr=1.0)
    loss = loss_fn(model(x), y)
    assert np.isclose(loss.item(), 95.0, rtol=1e-6)  # -log σ(-95) = 95 + log(1 + e^-95)
    loss.backward()
    weight, bias = model[0].weight, model[0].bias
    assert np.isfinite(weight.grad).all() and np.isfinite(bias.grad).all()
    # The logit must rise towards the target: dL/dlogit < 0, so dL/db < 0 and dL/dw = -95 dL/db.
    assert bias.grad[0] < 0
    assert weight.grad[0, 0] == pytest.approx(-95 * bias.grad[0], rel=1e-6)
    opt.step()
    assert np.isfinite(weight.data).all() and np.isfinite(bias.data).all()
    assert loss_fn(model(x), y).item() < loss.item()


# ----- the sweep: every loss, dtype, reduction and target, |logit| up to 1000 -------------------
ELEMENTWISE = {
    "sigmoid+bce": lambda x, y, r: F.binary_cross_entropy(x.sigmoid(), y, reduction=r),
    "bce_with_logits": lambda x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
    "mse": lambda x, y, r: F.mse_loss(x, y, reduction=r),
    "sigmoid+mse": lambda x, y, r: F.mse_loss(x.sigmoid(), y, reduction=r),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_losses_are_finite_with_finite_gradients(name, dtype, reduction):
    for target in TARGETS:
        x = Tensor(LOGITS.astype(dtype), requires_grad=True)
        y = Tensor(np.full(LOGITS.shape, target, dtype), requires_grad=True)
        out = ELEMENTWISE[name](x, y, reduction)
        assert np.isfinite(out.data).all(), (name, target)
        backward(out)
        assert np.isfinite(x.grad).all(), (name, target, LOGITS[~np.isfinite(x.grad)][:5])
        assert np.isfinite(y.grad).all(), (name, target, LOGITS[~np.isfinite(y.grad)][:5])
        if name == "sigmoid+bce":
            # Finite is not enough: the gradient must push the logit the right way. Below -100 a
            # log is clamped and for a soft target the clamped loss has its own (tiny) slope.
            unclamped = np.abs(LOGITS) < 100
            direction = x.grad[unclamped] * (sigmoid64(LOGITS[unclamped]) - target)
            assert np.all(direction >= 0), (name, target)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_is_finite_with_finite_gradients(dtype, reduction):
    logits = np.stack([LOGITS, -LOGITS, np.zeros_like(LOGITS), LOGITS / 2], axis=1)
    for shift in range(4):  # every class as the label against every pattern of logits
        x = Tensor(logits.astype(dtype), requires_grad=True)
        labels = (np.arange(len(LOGITS)) + shift) % 4
        out = F.cross_entropy(x, labels, reduction=reduction)
        assert np.isfinite(out.data).all()
        backward(out)
        assert np.isfinite(x.grad).all()


# ----- BCE on probabilities: exact where 1/p is finite, the largest finite slope below --------
def probabilities(dtype):
    """p from the clamp at log p = -100 up to 1/2, and from 1/2 up to 1, both ends included."""
    low = np.geomspace(np.exp(-99.9), 0.5, 400)
    denormal = np.geomspace(np.exp(-99.9), 1e-37, 100)  # float32's band where 1/p overflows
    high = 1 - np.geomspace(np.finfo(dtype).eps / 2, 0.5, 100)
    return np.unique(np.concatenate([low, denormal, high, [0.0, 1.0]]).astype(dtype))


def closed_form(p, y):
    """∂/∂p of -(y log p + (1 - y) log(1 - p)), and a bound on the rounding of our two-term form."""
    p = p.astype(np.float64)
    exact = (p - y) / (p * (1 - p))
    terms = y / p + (1 - y) / (1 - p)  # -y/p + (1-y)/(1-p) cancels: its error scales with these
    return exact, terms


@pytest.mark.parametrize("target", TARGETS)
def test_bce_gradient_matches_the_closed_form_in_float64(target):
    p = probabilities(np.float64)
    inside = (p > 0) & (p < 1)  # at 0 and 1 a log is clamped and the gradient is 0, tested below
    x = Tensor(p, requires_grad=True)
    F.binary_cross_entropy(x, np.full(p.shape, target), reduction="sum").backward()
    exact, terms = closed_form(p[inside], target)
    # float64 has no band where the slope is held: 1/p < 2.7e43 all the way to the clamp.
    assert np.abs(exact).max() < 1e44
    assert np.all(np.abs(x.grad[inside] - exact) <= 4 * np.finfo(np.float64).eps * terms)


@pytest.mark.parametrize("target", TARGETS)
def test_bce_gradient_in_float32_is_exact_where_representable_and_saturates_below(target):
    p = probabilities(np.float32)
    x = Tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(x, np.full(p.shape, target), reduction="none")
    assert np.isfinite(loss.data).all()
    loss.backward(np.ones(p.shape, np.float32))
    assert np.isfinite(x.grad).all()
    tiny = smallest_invertible(np.float32)
    exact_band = (p >= tiny) & (p < 1)
    exact, terms = closed_form(p[exact_band], float(np.float32(target)))  # y as the loss sees it
    eps32 = float(np.finfo(np.float32).eps)
    assert np.all(np.abs(x.grad[exact_band] - exact) <= 4 * eps32 * terms)
    # Below tiny, 1/p is not a float32: the y/p term is held at y/tiny, the largest finite slope.
    saturated = (p > 0) & (p < tiny)
    assert saturated.sum() > 50  # the band the issue is about is really exercised
    largest = float(np.finfo(np.float32).max)
    expected = -target * largest + (1 - target)
    np.testing.assert_allclose(x.grad[saturated], expected, rtol=1e-6)


def test_bce_clamped_logs_keep_gradient_zero_in_float32():
    p = Tensor(np.array([0.0, 1.0, 1e-45], np.float32), requires_grad=True)  # log(1e-45) < -100
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 100.0])
    loss.sum().backward()
    np.testing.assert_array_equal(p.grad, [0.0, 0.0, 0.0])


# ----- BCE targets --------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [1.5, -0.2, 2.0])
def test_bce_target_outside_0_1_is_a_value_error_naming_range_and_values(bad):
    target = np.array([[0.0, 1.0], [bad, 0.5]])
    for call in (F.binary_cross_entropy, lambda p, y: nn.BCELoss()(p, y)):
        with pytest.raises(ValueError, match=rf"target.*\[0, 1\].*{bad}.*\(1, 0\)"):
            call(Tensor(np.full((2, 2), 0.5)), target)


def test_bce_targets_at_exactly_0_and_1_and_between_are_accepted():
    y = np.array([0.0, 1.0, 0.25])
    assert np.isfinite(F.binary_cross_entropy(Tensor([0.1, 0.9, 0.5]), y).item())


# ----- PyTorch, where installed, in the normal range ------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", TARGETS)
def test_sigmoid_then_bce_matches_torch_in_the_normal_range(dtype, target):
    torch = pytest.importorskip("torch")
    # Within ±25, p(1 - p) > 1e-12, so torch's own clamp of the denominator is not involved.
    logits = np.linspace(-25, 25, 201).astype(dtype)
    y = np.full(logits.shape, target, dtype)
    ours = Tensor(logits, requires_grad=True)
    F.binary_cross_entropy(ours.sigmoid(), y, reduction="sum").backward()
    theirs = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(
        theirs.sigmoid(), torch.from_numpy(y), reduction="sum"
    ).backward()
    eps = float(np.finfo(dtype).eps)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=8 * eps, atol=8 * eps)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_losses_match_torch_over_the_whole_sweep(dtype):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    eps = float(np.finfo(dtype).eps)
    for target in TARGETS:
        y = np.full(LOGITS.shape, target, dtype)
        for ours_fn, theirs_fn in [
            (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits),
            (F.mse_loss, tf.mse_loss),
        ]:
            ours = Tensor(LOGITS.astype(dtype), requires_grad=True)
            ours_fn(ours, y, reduction="sum").backward()
            theirs = torch.tensor(LOGITS.astype(dtype), requires_grad=True)
            theirs_fn(theirs, torch.from_numpy(y), reduction="sum").backward()
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=8 * eps, atol=8 * eps)
    logits = np.stack([LOGITS, -LOGITS, np.zeros_like(LOGITS)], axis=1).astype(dtype)
    labels = np.arange(len(LOGITS)) % 3
    ours = Tensor(logits, requires_grad=True)
    F.cross_entropy(ours, labels, reduction="sum").backward()
    theirs = torch.tensor(logits, requires_grad=True)
    tf.cross_entropy(theirs, torch.from_numpy(labels), reduction="sum").backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=8 * eps, atol=8 * eps)
