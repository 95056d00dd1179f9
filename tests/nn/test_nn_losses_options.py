"""The new losses and loss options: NLL, cross-entropy's weight / ignore_index / label_smoothing /
probability targets / (N, C, d1, ...), BCE weights, L1, smooth L1, Huber.

Reference values come from formulas written here in NumPy (float64), from central differences
(gradcheck), and from PyTorch where it is installed (values and gradients to 1e-10).
"""

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd_lite import Tensor, gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]


def log_softmax(x, axis=1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def case(seed=0, n=6, c=4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * 2
    labels = rng.integers(0, c, size=n)
    weight = rng.uniform(0.2, 2.0, size=c)
    return logits, labels, weight


# ----- formulas, without torch ------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_the_smoothed_weighted_formula(reduction, smoothing, weighted):
    logits, labels, weight = case()
    labels[1] = -100  # ignored
    c = logits.shape[1]
    w = weight if weighted else np.ones(c)
    keep = labels != -100
    q = (1 - smoothing) * np.eye(c)[np.where(keep, labels, 0)] + smoothing / c
    per_row = np.where(keep, -(w * log_softmax(logits) * q).sum(axis=1), 0.0)
    expected = {
        "none": per_row,
        "sum": per_row.sum(),
        "mean": per_row.sum() / w[labels[keep]].sum(),  # PyTorch: by the counted labels' weights
    }[reduction]
    got = F.cross_entropy(
        Tensor(logits),
        labels,
        weight if weighted else None,
        reduction=reduction,
        label_smoothing=smoothing,
    )
    np.testing.assert_allclose(got.data, expected, rtol=1e-13, atol=1e-15)


def test_ignored_labels_get_no_gradient_and_do_not_count_in_the_mean():
    logits, labels, _ = case(1)
    labels[[0, 3]] = 2
    x = Tensor(logits, requires_grad=True)
    F.cross_entropy(x, labels, ignore_index=2).backward()
    assert not x.grad[labels == 2].any()
    kept = labels != 2
    softmax = np.exp(log_softmax(logits))
    expected = (softmax - np.eye(4)[labels]) / kept.sum()
    np.testing.assert_allclose(x.grad[kept], expected[kept], rtol=1e-13)


def test_a_mean_over_nothing_is_an_error_not_nan():
    logits, labels, weight = case()
    everything_ignored = np.full_like(labels, -100)
    with pytest.raises(ValueError, match="ignore_index.*reduction='sum'"):
        F.cross_entropy(Tensor(logits), everything_ignored)
    with pytest.raises(ValueError, match="summed class weights"):
        F.nll_loss(Tensor(log_softmax(logits)), labels, np.zeros(4))
    assert F.cross_entropy(Tensor(logits), everything_ignored, reduction="sum").item() == 0.0
    with pytest.raises(ValueError, match="empty"):
        F.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, dtype=int))


def test_nll_loss_of_log_softmax_is_cross_entropy():
    logits, labels, weight = case(2)
    for kwargs in ({}, {"weight": weight}, {"ignore_index": int(labels[0])}):
        for reduction in REDUCTIONS:
            a = F.nll_loss(Tensor(log_softmax(logits)), labels, reduction=reduction, **kwargs)
            b = F.cross_entropy(Tensor(logits), labels, reduction=reduction, **kwargs)
            np.testing.assert_allclose(a.data, b.data, rtol=1e-14, atol=1e-15)
    picked = -log_softmax(logits)[np.arange(6), labels]
    module = nn.NLLLoss(weight=weight, reduction="none")
    np.testing.assert_allclose(module(log_softmax(logits), labels).data, weight[labels] * picked)


def test_spatial_inputs_are_rows_with_the_class_axis_second():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(2, 4, 3, 5))  # (N, C, d1, d2)
    labels = rng.integers(0, 4, size=(2, 3, 5))
    labels[0, 1, 2] = -100
    rows = logits.transpose(0, 2, 3, 1).reshape(-1, 4)
    for reduction in REDUCTIONS:
        spatial = F.cross_entropy(Tensor(logits), labels, reduction=reduction, label_smoothing=0.1)
        flat = F.cross_entropy(
            Tensor(rows), labels.reshape(-1), reduction=reduction, label_smoothing=0.1
        )
        expected = flat.data.reshape(labels.shape) if reduction == "none" else flat.data
        np.testing.assert_allclose(spatial.data, expected, rtol=1e-14)
    x = Tensor(logits, requires_grad=True)
    assert gradcheck(lambda a: F.cross_entropy(a, labels, label_smoothing=0.2), x)


def test_probability_targets_and_their_mean_over_samples():
    logits, labels, weight = case(4)
    one_hot = np.eye(4)[labels]
    # A one-hot probability target is the class label, except that with class weights the mean
    # divides by the number of samples (PyTorch's rule), not by the summed weights.
    np.testing.assert_allclose(
        F.cross_entropy(Tensor(logits), one_hot).data, F.cross_entropy(Tensor(logits), labels).data
    )
    weighted = F.cross_entropy(Tensor(logits), one_hot, weight).item()
    by_label = F.cross_entropy(Tensor(logits), labels, weight, reduction="sum").item()
    assert weighted == pytest.approx(by_label / 6, rel=1e-14)
    soft = np.random.default_rng(5).dirichlet(np.ones(4), size=6)
    expected = -(soft * 0.7 + 0.3 / 4) * log_softmax(logits)
    got = F.cross_entropy(Tensor(logits), soft, reduction="none", label_smoothing=0.3)
    np.testing.assert_allclose(got.data, expected.sum(axis=1), rtol=1e-13)
    x, y = Tensor(logits, requires_grad=True), Tensor(soft, requires_grad=True)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight, label_smoothing=0.1), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_pos_weight_and_weight_formula(reduction):
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(5, 3)) * 3, rng.uniform(size=(5, 3))
    pos_weight, weight = np.array([0.5, 2.0, 4.0]), rng.uniform(0.5, 1.5, size=(5, 1))
    sig = 1 / (1 + np.exp(-x))
    per = -weight * (pos_weight * y * np.log(sig) + (1 - y) * np.log(1 - sig))
    expected = {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
    module = nn.BCEWithLogitsLoss(weight, reduction=reduction, pos_weight=pos_weight)
    np.testing.assert_allclose(module(Tensor(x), y).data, expected, rtol=1e-12)
    tensors = [Tensor(a, requires_grad=True) for a in (x, y, pos_weight, weight)]
    assert gradcheck(
        lambda a, b, pw, w: F.binary_cross_entropy_with_logits(
            a, b, w, reduction=reduction, pos_weight=pw
        ),
        *tensors,
    )
    # BCELoss's weight is the same per-element factor, on probabilities.
    by_prob = nn.BCELoss(weight, reduction=reduction)(Tensor(sig), y)
    by_logit = F.binary_cross_entropy_with_logits(Tensor(x), y, weight, reduction=reduction)
    np.testing.assert_allclose(by_prob.data, by_logit.data, rtol=1e-12)


def test_l1_smooth_l1_and_huber_by_hand_at_their_kinks():
    target = np.zeros(7)
    d = np.array([-3.0, -1.0, -0.4, 0.0, 0.4, 1.0, 3.0])  # |d| = 1 = beta is on the linear side
    x = Tensor(d, requires_grad=True)
    F.l1_loss(x, target, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, np.sign(d))  # 0 at d = 0
    for beta in (1.0, 0.5):
        x = Tensor(d, requires_grad=True)
        loss = F.smooth_l1_loss(x, target, reduction="none", beta=beta)
        quadratic = np.abs(d) < beta
        expected = np.where(quadratic, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta)
        np.testing.assert_allclose(loss.data, expected, rtol=1e-15)
        loss.sum().backward()
        np.testing.assert_allclose(x.grad, np.where(quadratic, d / beta, np.sign(d)), rtol=1e-15)
        huber = F.huber_loss(Tensor(d), target, reduction="none", delta=beta).data
        np.testing.assert_allclose(huber, beta * expected, rtol=1e-15)
    beta_zero = F.smooth_l1_loss(Tensor(d), target, reduction="none", beta=0.0).data
    np.testing.assert_array_equal(beta_zero, np.abs(d))
    assert nn.HuberLoss("sum", delta=2.0)(Tensor(d), target).item() == pytest.approx(
        np.sum(np.where(np.abs(d) < 2, 0.5 * d**2, 2 * (np.abs(d) - 1))), rel=1e-15
    )
    assert nn.SmoothL1Loss(beta=0.5)(Tensor(d), target).item() == pytest.approx(
        np.mean(np.where(np.abs(d) < 0.5, d**2, np.abs(d) - 0.25)), rel=1e-15
    )
    assert nn.L1Loss()(Tensor(d), target).item() == pytest.approx(np.abs(d).mean(), rel=1e-15)


def test_second_derivatives_of_the_new_losses():
    logits, labels, weight = case(7, n=3, c=3)
    x = Tensor(logits, requires_grad=True)
    assert gradgradcheck(lambda a: F.cross_entropy(a, labels, weight, label_smoothing=0.2), x)
    y = np.random.default_rng(8).uniform(size=(3, 3))
    assert gradgradcheck(
        lambda a: F.binary_cross_entropy_with_logits(a, y, pos_weight=np.array([1.0, 2.0, 3.0])),
        x,
    )
    assert gradgradcheck(lambda a: F.huber_loss(a, y, delta=0.5), x)


# ----- edges: large logits, float32, errors ----------------------------------------------------
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_options_are_finite_at_logit_1000(dtype):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], dtype)
    labels = np.array([1, 0])
    soft = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], dtype)
    weight = np.array([1.0, 2.0, 0.5])
    for loss_fn in (
        lambda a: F.cross_entropy(a, labels, weight, label_smoothing=0.1),
        lambda a: F.cross_entropy(a, soft, weight, label_smoothing=0.1),
        lambda a: F.nll_loss(a.log_softmax(axis=1), labels, weight),
        lambda a: F.binary_cross_entropy_with_logits(a, soft, weight, pos_weight=weight),
    ):
        x = Tensor(logits, requires_grad=True)
        loss = loss_fn(x)
        assert np.isfinite(loss.data).all() and loss.dtype == dtype
        loss.backward()
        assert np.isfinite(x.grad).all() and x.grad.dtype == dtype


def test_float32_stays_float32_for_the_regression_losses():
    x = Tensor(np.array([0.5, -2.0], np.float32), requires_grad=True)
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        loss = fn(x, [0.0, 0.0])
        assert loss.dtype == np.float32
        loss.backward()
        assert x.grad.dtype == np.float32


def test_bad_options_are_clear_errors():
    logits, labels, weight = case()
    x = Tensor(logits)
    with pytest.raises(ValueError, match=r"weight must have shape \(C,\) = \(4,\).*\(3,\)"):
        F.cross_entropy(x, labels, weight[:3])
    with pytest.raises(ValueError, match="weight contains NaN"):
        F.cross_entropy(x, labels, np.array([1.0, np.nan, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(x, labels, label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index=1 works with class labels only"):
        F.cross_entropy(x, np.full((6, 4), 0.25), ignore_index=1)
    with pytest.raises(ValueError, match=r"\[0, 4\).*ignore_index=-100.*\[7\]"):
        F.nll_loss(x, np.array([0, 1, 2, 3, 7, 0]))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\).*\(6, 4\)"):
        F.binary_cross_entropy_with_logits(x, np.zeros((6, 4)), pos_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 6, 4\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, np.zeros((6, 4)), np.ones((2, 6, 4)))
    with pytest.raises(ValueError, match="beta must be a number >= 0"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="delta must be > 0"):
        F.huber_loss(x, np.zeros((6, 4)), delta=0.0)
    with pytest.raises(ValueError, match="match exactly"):
        F.l1_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match=r"NaN.*\(0, 1\)"):
        F.huber_loss(Tensor([[0.0, np.nan]]), [[0.0, 0.0]])
    with pytest.raises(TypeError, match="two reductions"):
        nn.BCELoss("sum", reduction="none")
    assert nn.CrossEntropyLoss("sum").reduction == "sum"  # the earlier positional reduction


# ----- modules: options, buffers, PyTorch ------------------------------------------------------
def test_loss_modules_keep_weights_as_buffers():
    _, _, weight = case()
    ce = nn.CrossEntropyLoss(weight, ignore_index=3, label_smoothing=0.1)
    assert list(ce.state_dict()) == ["weight"] and list(ce.parameters()) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=[1.0, 3.0])
    assert list(bce.state_dict()) == ["pos_weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(9)
    logits = rng.normal(size=(5, 4, 3)) * 3
    labels = rng.integers(0, 4, size=(5, 3))
    labels[0, 0] = 2
    soft = rng.dirichlet(np.ones(4), size=(5, 3)).transpose(0, 2, 1)
    weight = rng.uniform(0.2, 2.0, size=4)
    x2, y2 = rng.normal(size=(5, 4)) * 4, rng.uniform(size=(5, 4))
    x2[0, :] = y2[0, :] + np.array([0.0, 1.0, -0.5, 1e-3])  # both sides of the kinks
    t = torch.from_numpy
    cases = []
    for smoothing in (0.0, 0.2):
        for w in (None, weight):
            tw = None if w is None else t(w)
            for ignore in (-100, 2):
                cases.append((
                    lambda a, r, w=w, s=smoothing, i=ignore: F.cross_entropy(
                        a, labels, w, ignore_index=i, reduction=r, label_smoothing=s),
                    lambda b, r, w=tw, s=smoothing, i=ignore: tf.cross_entropy(
                        b, t(labels), w, ignore_index=i, reduction=r, label_smoothing=s),
                    logits,
                ))  # fmt: skip
            cases.append((
                lambda a, r, w=w, s=smoothing: F.cross_entropy(
                    a, soft, w, reduction=r, label_smoothing=s),
                lambda b, r, w=tw, s=smoothing: tf.cross_entropy(
                    b, t(soft), w, reduction=r, label_smoothing=s),
                logits,
            ))  # fmt: skip
    logp = log_softmax(logits)
    cases += [
        (lambda a, r: F.nll_loss(a, labels, weight, ignore_index=1, reduction=r),
         lambda b, r: tf.nll_loss(b, t(labels), t(weight), ignore_index=1, reduction=r), logp),
        (lambda a, r: F.binary_cross_entropy_with_logits(
            a, y2, y2 + 0.5, reduction=r, pos_weight=weight),
         lambda b, r: tf.binary_cross_entropy_with_logits(
            b, t(y2), t(y2 + 0.5), reduction=r, pos_weight=t(weight)), x2),
        (lambda a, r: F.l1_loss(a, y2, reduction=r),
         lambda b, r: tf.l1_loss(b, t(y2), reduction=r), x2),
    ]  # fmt: skip
    for beta in (0.0, 0.5, 1.0):
        cases.append((
            lambda a, r, k=beta: F.smooth_l1_loss(a, y2, reduction=r, beta=k),
            lambda b, r, k=beta: tf.smooth_l1_loss(b, t(y2), reduction=r, beta=k),
            x2,
        ))  # fmt: skip
        if beta:
            cases.append((
                lambda a, r, k=beta: F.huber_loss(a, y2, reduction=r, delta=k),
                lambda b, r, k=beta: tf.huber_loss(b, t(y2), reduction=r, delta=k),
                x2,
            ))  # fmt: skip
    for ours, theirs, x in cases:
        for reduction in REDUCTIONS:
            a = Tensor(x, requires_grad=True)
            b = torch.tensor(x, requires_grad=True)
            out_a, out_b = ours(a, reduction), theirs(b, reduction)
            np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-10, atol=1e-12)
            g = rng.uniform(0.5, 1.5, size=out_a.shape)
            (out_a * g).sum().backward()
            (out_b * t(g)).sum().backward()
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_loss_module_state_dicts_load_into_torch():
    torch = pytest.importorskip("torch")
    _, _, weight = case()
    pairs = [
        (
            nn.CrossEntropyLoss(weight),
            torch.nn.CrossEntropyLoss(torch.zeros(4, dtype=torch.float64)),
        ),
        (nn.NLLLoss(weight), torch.nn.NLLLoss(torch.zeros(4, dtype=torch.float64))),
        (
            nn.BCEWithLogitsLoss(weight, pos_weight=2 * weight),
            torch.nn.BCEWithLogitsLoss(
                torch.zeros(4, dtype=torch.float64), pos_weight=torch.zeros(4, dtype=torch.float64)
            ),
        ),
    ]
    for ours, theirs in pairs:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(value.numpy(), ours.state_dict()[key])
