"""The Huber and smooth L1 losses as one operation each (nn/_huber.py): the same bits as the
composition they replace (kept below as the oracle), their derivatives (finite differences, by
hand, PyTorch, second order), and one node per loss. tests/compile/test_compile_losses.py checks
that a compiled step replays them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor, grad, gradcheck, gradgradcheck, no_grad, where
from nn._huber import Huber, SmoothL1

F = nn.functional
REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float16, np.float32, np.float64)


# ----- the oracle: the composition huber_loss and smooth_l1_loss were before -------------------
def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def huber_composition(input: Tensor, target: Tensor, reduction: str, delta: float) -> Tensor:
    d = input - target
    small = np.abs(d.data) < delta
    return _reduce(where(small, 0.5 * d * d, delta * (d.abs() - 0.5 * delta)), reduction)


def smooth_l1_composition(input: Tensor, target: Tensor, reduction: str, beta: float) -> Tensor:
    d = input - target
    small = np.abs(d.data) < beta
    return _reduce(where(small, 0.5 * d * d / beta, d.abs() - 0.5 * beta), reduction)


LOSSES = {
    "huber": (lambda a, b, r, k: F.huber_loss(a, b, reduction=r, delta=k), huber_composition),
    "smooth_l1": (
        lambda a, b, r, k: F.smooth_l1_loss(a, b, reduction=r, beta=k),
        smooth_l1_composition,
    ),
}


def special_pairs(dtype, width: float) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) whose differences sit on the kinks |d| = width (exactly, and one step to
    either side), at ±0, in the denormals, beyond overflow of d², and at ±inf."""
    info = np.finfo(dtype)
    w = dtype(width)
    d = [0.0, -0.0, w, -w, np.nextafter(w, dtype(0)), np.nextafter(w, dtype(np.inf))]
    d += [info.smallest_subnormal, -info.smallest_subnormal, info.tiny, 3 * info.smallest_subnormal]
    d += [info.max, -info.max, np.sqrt(info.max) * 2, np.inf, -np.inf, 0.3, -2.5, 1e-3]
    d = np.array(d, dtype)
    x = np.concatenate([d, d + dtype(1), np.full(4, w)]).astype(dtype)
    y = np.concatenate([np.zeros_like(d), np.ones_like(d), [0, -0.0, 2 * w, w]]).astype(dtype)
    return x, y


def bits(out: Tensor, *leaves: Tensor) -> list[bytes | None]:
    return [out.data.tobytes()] + [None if t.grad is None else t.grad.tobytes() for t in leaves]


def run(loss, x: np.ndarray, y: np.ndarray, reduction, width, g, target_grad, y_dtype=None):
    a = Tensor(x, requires_grad=True)
    b = Tensor(y, requires_grad=True, dtype=y_dtype) if target_grad else y
    with np.errstate(all="ignore"):  # inf - inf, 0·inf and overflow: the oracle's as well
        out = loss(a, b, reduction, width)
        out.backward(np.asarray(g, out.dtype))
    return bits(out, a, *([b] if target_grad else []))


def upstream(reduction: str, shape: tuple, seed: int) -> np.ndarray:
    """The gradient handed to backward: with ±0 and both signs, so that zero's sign shows."""
    rng = np.random.default_rng(seed)
    if reduction != "none":
        return np.array([1.0, -0.75, -0.0, 0.0, 3e-3][seed % 5])
    g = rng.standard_normal(shape)
    g.flat[::5], g.flat[1::7] = -0.0, 0.0
    return g


# ----- the same bits as the composition ---------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("width", [1.0, 0.5, 0.7, 3.0])
@pytest.mark.parametrize("target_grad", [False, True], ids=["target", "target_grad"])
def test_the_same_bits_as_the_composition(loss, dtype, reduction, width, target_grad):
    ours, oracle = LOSSES[loss]
    x, y = special_pairs(dtype, width)
    rng = np.random.default_rng(int(width * 10))
    x = np.concatenate([x, rng.standard_normal(40).astype(dtype) * 2])
    y = np.concatenate([y, rng.standard_normal(40).astype(dtype)])
    for seed in range(3):
        g = upstream(reduction, x.shape, seed)
        expected = run(oracle, x, y, reduction, width, g, target_grad)
        assert run(ours, x, y, reduction, width, g, target_grad) == expected


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_every_float16_difference_gives_the_compositions_bits(loss, reduction):
    ours, oracle = LOSSES[loss]
    every = np.arange(2**16, dtype=np.uint16).view(np.float16)
    x = every[~np.isnan(every)]
    y = np.zeros_like(x)
    for width in (1.0, 0.7):
        for seed in range(5):
            g = upstream(reduction, x.shape, seed)
            expected = run(oracle, x, y, reduction, width, g, True)
            assert run(ours, x, y, reduction, width, g, True) == expected


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "dtypes", [(np.float32, np.float64), (np.float64, np.float32), (np.float16, np.float32)]
)
def test_a_target_of_another_dtype_that_takes_a_gradient_gives_the_same_bits(loss, dtypes):
    ours, oracle = LOSSES[loss]
    x, y = special_pairs(dtypes[0], 0.7)
    y = y.astype(dtypes[1])
    for reduction in REDUCTIONS:
        g = upstream(reduction, x.shape, 1)
        expected = run(oracle, x, y, reduction, 0.7, g, True)
        assert run(ours, x, y, reduction, 0.7, g, True) == expected


# ----- the derivative ---------------------------------------------------------------------------
def away_from_the_kinks(seed: int, width: float) -> tuple[Tensor, Tensor]:
    """float64 input and target whose differences keep 0.05 away from ±width."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((4, 5))
    d = rng.uniform(0.05, 2 * width - 0.05, (4, 5))
    d = np.where(d < width, d - 0.0, d + 0.1) * rng.choice([-1.0, 1.0], (4, 5))
    return Tensor(y + d, requires_grad=True), Tensor(y, requires_grad=True)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_first_and_second_derivatives_against_finite_differences(loss, reduction):
    ours, _ = LOSSES[loss]
    x, y = away_from_the_kinks(3, 0.8)
    assert gradcheck(lambda a, b: ours(a, b, reduction, 0.8), x, y)
    assert gradgradcheck(lambda a, b: ours(a, b, reduction, 0.8), x, y)
    constant = Tensor(y.data)  # the usual target: a constant
    assert gradgradcheck(lambda a: ours(a, constant, reduction, 0.8), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("width", [0.5, 1.0, 2.0])
def test_gradients_are_the_hand_derived_ones_kinks_included(reduction, width):
    rng = np.random.default_rng(5)
    y = np.round(rng.standard_normal(30) * 4) / 4  # quarters: x - y is exact
    d = np.concatenate([[0.0, width, -width], np.round(rng.standard_normal(27) * 8) / 8])
    g = rng.standard_normal(30) if reduction == "none" else np.array(1.5)
    scale = 1 / 30 if reduction == "mean" else 1.0
    # ∂/∂d: d where |d| < δ, else δ·sign d (at |d| = δ the linear side); smooth L1 is Huber / β
    huber_slope = np.where(np.abs(d) < width, d, width * np.sign(d)) * g * scale
    for fn, slope in ((F.huber_loss, huber_slope), (F.smooth_l1_loss, huber_slope / width)):
        x, t = Tensor(y + d, requires_grad=True), Tensor(y, requires_grad=True)
        keyword = "delta" if fn is F.huber_loss else "beta"
        fn(x, t, reduction=reduction, **{keyword: width}).backward(g)
        np.testing.assert_allclose(x.grad, slope, rtol=1e-15, atol=0)
        np.testing.assert_allclose(t.grad, -slope, rtol=1e-15, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_value_and_gradients_match_pytorch(reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, y = away_from_the_kinks(7, 1.3)
    kink = np.array([0.0, 1.3, -1.3, 5.0])  # PyTorch's side at the kink is ours
    x = Tensor(np.concatenate([x.data.ravel(), y.data.ravel()[:4] + kink]), requires_grad=True)
    y = Tensor(np.concatenate([y.data.ravel(), y.data.ravel()[:4]]), requires_grad=True)
    pairs = [
        (lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=1.3),
         lambda a, b: tf.huber_loss(a, b, reduction=reduction, delta=1.3)),
        (lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=1.3),
         lambda a, b: tf.smooth_l1_loss(a, b, reduction=reduction, beta=1.3)),
    ]  # fmt: skip
    for ours, theirs in pairs:
        a, b = (Tensor(t.data, requires_grad=True) for t in (x, y))
        ta, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, y))
        out, tout = ours(a, b), theirs(ta, tb)
        g = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(g)
        tout.backward(torch.tensor(g))
        close = {"rtol": 1e-13, "atol": 1e-15}
        np.testing.assert_allclose(out.data, tout.detach().numpy(), **close)
        np.testing.assert_allclose(a.grad, ta.grad.numpy(), **close)
        np.testing.assert_allclose(b.grad, tb.grad.numpy(), **close)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: t.__name__)
def test_a_recorded_backward_gives_the_plain_ones_bits(dtype):
    """grad(create_graph=True) runs backward on Tensors, with d recomputed from x and y."""
    x, y = special_pairs(dtype, 0.6)
    x, y = x[np.isfinite(x - y)], y[np.isfinite(x - y)]
    for fn in (Huber, SmoothL1):
        width = {"delta": 0.6} if fn is Huber else {"beta": 0.6}
        for reduction in REDUCTIONS:
            a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
            with np.errstate(over="ignore"):
                out = fn.apply(a, b, reduction=reduction, **width)
                g = np.ones(out.shape, dtype)
                gx, gy = grad(out, [a, b], g, create_graph=True)
                out.backward(g)
            assert gx.data.tobytes() == a.grad.tobytes() and gy.data.tobytes() == b.grad.tobytes()


# ----- the graph ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_each_loss_is_one_node_named_as_pytorch_names_it(reduction):
    x, y = Tensor(np.ones((4, 3)), requires_grad=True), np.zeros((4, 3))
    for module, name in (
        (nn.HuberLoss(reduction), "Huber"),
        (nn.SmoothL1Loss(reduction), "SmoothL1"),
    ):
        loss = module(x, y)
        assert loss._ctx.name == name
        assert [t._ctx for t in loss._ctx.inputs] == [None, None]  # x and the target: leaves
    assert F.smooth_l1_loss(x, y, beta=0.0)._ctx.name == "Mean"  # β = 0: the L1 loss, as before


@pytest.mark.parametrize("loss", LOSSES)
def test_explain_follows_each_element_through_the_operation(loss):
    ours, _ = LOSSES[loss]
    x = Tensor(np.array([[0.2, 1.7, -0.5], [3.0, -0.9, 0.0]]), requires_grad=True)
    y = Tensor(np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.0]]), requires_grad=True)
    out = ours(x, y, "mean", 0.9)
    out.backward(retain_graph=True)
    for t in (x, y):
        for index in np.ndindex(t.shape):
            assert ag.explain(out, t, index=index).value == pytest.approx(t.grad[index], rel=1e-12)
    assert "where |d| <" in str(ag.explain(out, x, index=(0, 0)))


def test_an_input_changed_in_place_after_forward_is_allowed_as_before():
    """The composition saved d, not x or y: so does the operation (a parameter fed straight to
    the loss may be updated before backward, and the gradient is that of the forward's values)."""
    x = Tensor(np.array([0.5, 3.0]), requires_grad=True)
    loss = F.huber_loss(x, np.zeros(2), reduction="sum")
    with no_grad():
        x -= 1.0  # an in-place change: the version check would refuse it if x had been saved
    loss.backward()
    np.testing.assert_array_equal(x.grad, [0.5, 1.0])


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_detect_anomaly_lets_a_difference_beyond_the_overflow_of_its_square_through(loss, dtype):
    """Beyond the overflow of d² (float16 at |d| > 362) the loss is the finite linear piece: the
    square nobody uses is neither a warning nor an error of detect_anomaly."""
    big = np.sqrt(np.finfo(dtype).max) * 4  # d² overflows; δ(|d| − δ/2) does not
    x = np.array([big, 0.5, -big, 2.0], dtype=dtype)
    ours = LOSSES[loss][0]

    def value_and_grad() -> tuple[np.ndarray, np.ndarray]:
        t = Tensor(x, requires_grad=True)
        z = ours(t, Tensor(np.zeros_like(x)), "sum", 1.0)
        z.backward()
        return z.data, t.grad

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "overflow encountered in multiply"
        plain = value_and_grad()
    with ag.detect_anomaly():
        checked = value_and_grad()
    assert np.isfinite(plain[0])
    for a, b in zip(plain, checked, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(plain[1], np.array([1.0, 0.5, -1.0, 1.0], dtype=dtype))
