"""Binary cross-entropy of probabilities as one operation (nn/_bce.py): the same bits as the
composition it replaces (kept below as the oracle), its derivatives (finite differences, by hand,
PyTorch, second order), one node per loss, and its checks of p and y, also in a compiled replay
(tests/compile/test_compile_losses.py checks that the replay gives eager's bits)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Tensor, grad, gradcheck, gradgradcheck, no_grad, where
from nn._bce import BinaryCrossEntropy

F = nn.functional
REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float16, np.float32, np.float64)


# ----- the oracle: the composition binary_cross_entropy was before -----------------------------
@functools.cache
def smallest_invertible(dtype):
    one, tiny = np.ones((), dtype), np.asarray(1 / np.finfo(dtype).max, dtype)
    with np.errstate(over="ignore", divide="ignore"):
        while not np.isfinite(one / tiny):
            tiny = np.nextafter(tiny, one)
    return np.asarray(tiny, dtype)


def clamped_log(p: Tensor) -> Tensor:
    with np.errstate(divide="ignore"):
        log_p = np.log(p.data)
    unclamped = log_p > -100
    tiny = smallest_invertible(p.dtype)
    exact = unclamped & (p.data >= tiny)
    logged = where(exact, where(exact, p, 1.0).log(), -100.0)
    saturated = unclamped & ~exact
    if not saturated.any():
        return logged
    held = (p - p.data) / tiny + np.where(saturated, log_p, 0.0).astype(p.dtype)
    return where(saturated, held, logged)


def as_operand(value, like: Tensor):
    """What binary_cross_entropy makes of a target or weight (_target_tensor)."""
    if value is None or (isinstance(value, Tensor) and value.requires_grad):
        return value
    return Tensor(value.data if isinstance(value, Tensor) else value, dtype=like.dtype)


def bce_composition(p: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    y, w = as_operand(target, p), as_operand(weight, p)
    loss = -(y * clamped_log(p) + (1 - y) * clamped_log(1 - p))
    loss = loss if w is None else loss * w
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def bce(p, target, weight=None, reduction="mean"):
    return F.binary_cross_entropy(p, target, weight, reduction=reduction)


# ----- data -------------------------------------------------------------------------------------
SOME = {  # two values of p among plain ones: which logs are clamped, which slopes held
    "zero": (0.0, 0.0),
    "one": (1.0, 1.0),
    "band": (1e-40, 3e-42),  # float32: held slopes, and nothing clamped
    "clamped": (1e-50, 1e-300),  # float64: clamped logs of p above tiny, and no 0
}


def probabilities(dtype, kind: str) -> np.ndarray:
    """p in [0, 1]: plain ones (no log clamped), with two of SOME among them, or "special": also
    0, 1, the last steps below 1, the clamp at log p = -100 (one step to either side), and the
    float32/float16 band below tiny where the slope is held."""
    rng = np.random.default_rng(2)
    p = rng.uniform(0.02, 0.98, 30)
    if kind in SOME:
        p[[3, 17]] = (1e-6, 6e-8) if kind == "band" and dtype == np.float16 else SOME[kind]
    if kind == "special":
        tiny, clamp = smallest_invertible(dtype), np.exp(np.float64(-100)).astype(dtype)
        below_one = [np.nextafter(dtype(1), dtype(0)), 1 - np.finfo(dtype).eps]
        edges = [0.0, -0.0, 1.0, *below_one, tiny, np.nextafter(tiny, dtype(0)), clamp]
        edges += [np.nextafter(clamp, dtype(1)), np.nextafter(clamp, dtype(0)), 1e-30, 1e-40]
        edges += list(np.geomspace(1e-45, 1e-5, 12)) + [np.finfo(dtype).smallest_subnormal]
        p = np.concatenate([edges, p])
    return p.astype(dtype)


def targets(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.uniform(size=n) < 0.3, rng.uniform(size=n), rng.integers(0, 2, n))


def upstream(reduction: str, shape: tuple, seed: int) -> np.ndarray:
    """The gradient handed to backward: with ±0 and both signs, so that zero's sign shows."""
    if reduction != "none":
        return np.array([1.0, -0.75, -0.0, 0.0, 3e-3][seed % 5])
    g = np.random.default_rng(seed).standard_normal(shape)
    g.flat[::5], g.flat[1::7] = -0.0, 0.0
    return g


def run(loss, p, y, w, reduction, g, y_grad: bool, w_grad: bool) -> list:
    """Bytes of the loss and of every gradient, p, y and w as Tensors (y, w taking a gradient
    when asked, and then keeping their own dtype)."""
    a = Tensor(p, requires_grad=True)
    b = Tensor(y, requires_grad=True) if y_grad else y
    c = Tensor(w, requires_grad=True) if w_grad and w is not None else w
    with np.errstate(all="ignore"):
        out = loss(a, b, c, reduction)
        out.backward(np.asarray(g, out.dtype))
    leaves = [t for t in (a, b, c) if isinstance(t, Tensor)]
    return [out.data.tobytes(), out.dtype] + [(t.grad.tobytes(), t.grad.dtype) for t in leaves]


# ----- the same bits as the composition ---------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "constant", "grad"])
@pytest.mark.parametrize("y_grad", [False, True], ids=["target", "target_grad"])
@pytest.mark.parametrize("kind", ["special", "plain", *SOME])
def test_the_same_bits_as_the_composition(dtype, reduction, weight, y_grad, kind):
    p = probabilities(dtype, kind)
    y = targets(len(p), 3).astype(dtype)
    w = None if weight is None else np.random.default_rng(4).uniform(0, 2, len(p)).astype(dtype)
    for seed in range(3):
        g = upstream(reduction, p.shape, seed)
        expected = run(bce_composition, p, y, w, reduction, g, y_grad, weight == "grad")
        assert run(bce, p, y, w, reduction, g, y_grad, weight == "grad") == expected


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_every_float16_probability_gives_the_compositions_bits(reduction):
    every = np.arange(2**16, dtype=np.uint16).view(np.float16)
    p = every[(every >= 0) & (every <= 1)]
    for target in (0.0, 1.0, 0.3):
        y = np.full(p.shape, target, np.float16)
        for seed in range(3):
            g = upstream(reduction, p.shape, seed)
            expected = run(bce_composition, p, y, None, reduction, g, True, False)
            assert run(bce, p, y, None, reduction, g, True, False) == expected


@pytest.mark.parametrize(
    "dtypes",
    [(np.float32, np.float64, np.float64), (np.float64, np.float32, np.float16),
     (np.float16, np.float32, np.float64), (np.float32, np.float32, np.float64)],
    ids=lambda d: "-".join(t.__name__ for t in d),
)  # fmt: skip
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_a_target_and_weight_of_other_dtypes_that_take_gradients_give_the_same_bits(
    dtypes, reduction
):
    p = probabilities(dtypes[0], "special")
    y, w = targets(len(p), 5).astype(dtypes[1]), np.linspace(0, 2, 3).astype(dtypes[2])
    p, y = p[: len(p) // 3 * 3].reshape(-1, 3), y[: len(p) // 3 * 3].reshape(-1, 3)
    for seed in range(3):
        g = upstream(reduction, p.shape, seed)
        expected = run(bce_composition, p, y, w, reduction, g, True, True)  # w broadcast over rows
        assert run(bce, p, y, w, reduction, g, True, True) == expected


@pytest.mark.parametrize("kind", ["special", "plain"])
def test_a_strided_input_gives_the_same_bits(kind):
    """p as a transposed view (forward gets a strided array): the operation's log of p itself,
    where every log is exact, is only used on a contiguous p."""
    p = probabilities(np.float32, kind)[:30].reshape(2, 15)
    y = targets(30, 6).astype(np.float32).reshape(15, 2)

    def transposed(loss):
        a = Tensor(p, requires_grad=True)
        out = loss(a.T, y, None, "sum")
        out.backward()
        return [out.data.tobytes(), a.grad.tobytes()]

    assert transposed(bce) == transposed(bce_composition)


# ----- the derivative ---------------------------------------------------------------------------
def inside(seed: int, shape=(4, 3)) -> tuple[Tensor, Tensor, Tensor]:
    """float64 p, y and w that take gradients, p away from 0 and 1 (no log clamped)."""
    rng = np.random.default_rng(seed)
    p, y, w = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape), rng.uniform(0.5, 2, shape)
    return tuple(Tensor(a, requires_grad=True) for a in (p, y, w))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_first_and_second_derivatives_against_finite_differences(reduction, weighted):
    p, y, w = inside(1)
    extra = (w,) if weighted else ()
    assert gradcheck(lambda a, b, *c: bce(a, b, *c, reduction=reduction), p, y, *extra)
    assert gradgradcheck(lambda a, b, *c: bce(a, b, *c, reduction=reduction), p, y, *extra)
    labels = np.array([[0.0, 1, 1], [1, 0, 0], [0, 0, 1], [1, 1, 0]])  # the usual constant target
    assert gradgradcheck(lambda a: bce(a, labels, reduction=reduction), p)


def test_second_derivatives_where_a_log_is_clamped_or_its_slope_held():
    """Recorded backward keeps the clamped log's shape: a clamped log is constant (no second
    derivative), a held slope is constant too; p·(1 − p) at the others."""
    p = Tensor(np.array([0.0, 1.0, 1e-40, 0.25], np.float32), requires_grad=True)
    y = np.array([1.0, 0.0, 1.0, 0.5])
    (gp,) = grad(bce(p, y, reduction="sum"), [p], create_graph=True)
    (gpp,) = grad(gp.sum(), [p])
    expected_first = [0.0, 0.0, -1 / float(smallest_invertible(np.float32)), -2 + 2 / 3]
    np.testing.assert_allclose(gp.data, expected_first, rtol=1e-6)
    np.testing.assert_allclose(gpp.data, [0.0, 0.0, 0.0, 0.5 / 0.25**2 + 0.5 / 0.75**2], rtol=1e-6)
    # ∂/∂y = −(clog p − clog(1 − p)), whose slope in p is −clog′(p) − 1/(1 − p)
    y = Tensor(y.astype(np.float32), requires_grad=True)
    (gy,) = grad(bce(p, y, reduction="sum"), [y], create_graph=True)
    (gyp,) = grad(gy.sum(), [p])
    p.grad = None
    bce(p, y, reduction="sum").backward()  # the recorded backward's values are the plain one's
    assert gy.data.tobytes() == y.grad.tobytes() and gp.data.tobytes() == p.grad.tobytes()
    # at p = 0 the clamped log p is flat and log(1 − p) has slope −1; at p = 1 the other way round
    expected = [-1.0, -1.0, expected_first[2], -1 / 0.25 - 1 / 0.75]
    np.testing.assert_allclose(gyp.data, expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("kind", ["special", "plain"])
def test_a_recorded_backward_gives_the_plain_ones_bits(dtype, kind):
    """grad(create_graph=True) runs backward on Tensors, the clamped logs rebuilt from p."""
    p = probabilities(dtype, kind)
    y, w = targets(len(p), 7).astype(dtype), np.linspace(0.5, 2, len(p)).astype(dtype)
    for reduction in REDUCTIONS:
        a, b, c = (Tensor(t, requires_grad=True) for t in (p, y, w))
        with np.errstate(all="ignore"):
            out = bce(a, b, c, reduction)
            g = np.full(out.shape, 0.5, dtype)
            recorded = grad(out, [a, b, c], g, create_graph=True)
            out.backward(g)
        assert [t.data.tobytes() for t in recorded] == [t.grad.tobytes() for t in (a, b, c)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradients_are_the_hand_derived_ones(reduction):
    p, y, w = inside(2, (12,))
    g = np.random.default_rng(3).standard_normal(12) if reduction == "none" else np.array(0.7)
    loss = bce(p, y, w, reduction)
    loss.backward(g)
    a, b, c = p.data, y.data, w.data
    scale = g / 12 if reduction == "mean" else g
    losses = -c * (b * np.log(a) + (1 - b) * np.log(1 - a))
    tight = {"rtol": 1e-13, "atol": 0}
    np.testing.assert_allclose(p.grad, scale * c * (-b / a + (1 - b) / (1 - a)), **tight)
    np.testing.assert_allclose(y.grad, -scale * c * (np.log(a) - np.log(1 - a)), **tight)
    np.testing.assert_allclose(w.grad, scale * losses / c, **tight)
    value = {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]
    np.testing.assert_allclose(loss.data, value, **tight)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_value_and_gradients_match_pytorch(reduction):
    torch = pytest.importorskip("torch")
    p, y, w = inside(4, (5, 3))
    p = Tensor(np.concatenate([p.data, [[0.0, 1.0, 0.5]]]), requires_grad=True)  # clamped logs
    y = Tensor(np.concatenate([y.data, [[0.0, 1.0, 0.3]]]), requires_grad=True)
    w = np.linspace(0.5, 2, 3)  # PyTorch takes no gradient for the weight
    out = bce(p, y, w, reduction)
    tp, ty = (torch.tensor(t.data, requires_grad=True) for t in (p, y))
    tout = torch.nn.functional.binary_cross_entropy(tp, ty, torch.tensor(w), reduction=reduction)
    g = np.random.default_rng(5).standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    close = {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **close)
    np.testing.assert_allclose(p.grad[:5], tp.grad.numpy()[:5], **close)
    np.testing.assert_allclose(y.grad[:5], ty.grad.numpy()[:5], **close)
    # p = 0 and 1 (y = p): PyTorch's ∂/∂p is (p − y)/max(p(1 − p), 1e-12) = 0 and its ∂/∂y the
    # unclamped log's ±inf. Ours are the clamped function's: a clamped log is flat, so only the
    # other term is left, ±w·g (for y = p = 0, (1 − y)/(1 − p) = 1), and ∂/∂y is ±100·w·g
    scale = {"mean": g / 18, "sum": g, "none": g[5, :2] if g.ndim else g}[reduction]
    np.testing.assert_allclose(p.grad[5, :2], scale * w[:2] * [1, -1], rtol=1e-15)
    np.testing.assert_allclose(y.grad[5, :2], scale * w[:2] * [100, -100], rtol=1e-15)
    assert np.isinf(ty.grad.numpy()[5, :2]).all()


# ----- the graph ---------------------------------------------------------------------------------
@pytest.mark.parametrize("weight", [None, np.array([1.0, 2.0, 3.0])])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_the_loss_is_one_node_named_as_pytorch_names_it(weight, reduction):
    p = Tensor(np.full((4, 3), 0.5), requires_grad=True)
    loss = nn.BCELoss(weight, reduction=reduction)(p, np.zeros((4, 3)))
    assert loss._ctx.name == "BinaryCrossEntropy"
    assert all(t._ctx is None for t in loss._ctx.inputs)  # p, the target, the weight: leaves
    assert len(loss._ctx.inputs) == (2 if weight is None else 3)


def test_explain_follows_each_element_through_the_operation():
    """explain traces which elements depend on which with a NaN run through forward: a NaN p is
    therefore neither clamped nor held (as through the composition's frozen masks), and its
    derivatives are the operation's docstring formulas, with the gradient's numbers."""
    p = Tensor(np.array([[0.2, 0.7, 0.0], [0.9, 1.0, 0.4]]), requires_grad=True)
    y = Tensor(np.array([[0.0, 1, 1], [1, 0, 0.3]]), requires_grad=True)
    w = Tensor(np.array([1.0, 2.0, 0.5]), requires_grad=True)
    loss = bce(p, y, w)
    loss.backward(retain_graph=True)
    for t in (p, y):
        for index in np.ndindex(t.shape):
            assert ag.explain(loss, t, index=index).value == pytest.approx(t.grad[index], rel=1e-12)
    for index in range(3):
        assert ag.explain(loss, w, index=index).value == pytest.approx(w.grad[index], rel=1e-12)
    assert "(1 − t1)·clog′(1 − t0)" in str(ag.explain(loss, p, index=(0, 1)))


def test_an_input_changed_in_place_after_forward_is_allowed_as_before():
    """The composition saved no array of p: neither does the operation (a target or weight that
    takes a gradient is saved by both)."""
    p = Tensor(np.array([0.5, 0.25]), requires_grad=True)
    loss = bce(p, np.array([1.0, 0.0]), reduction="sum")
    with no_grad():
        p -= 0.1
    loss.backward()
    np.testing.assert_allclose(p.grad, [-2.0, 4 / 3], rtol=1e-15)


# ----- the checks of p and y, eager and in a compiled replay ------------------------------------
BAD = {
    "p": (
        np.array([[0.5, 1.5], [0.2, -0.25]]),
        np.array([[1.0, 0.0], [0.0, 1.0]]),
        "binary_cross_entropy: input must hold probabilities in [0, 1]; got values from -0.25 to "
        "1.5. Apply sigmoid first, or use binary_cross_entropy_with_logits on the raw scores",
    ),
    "y": (
        np.array([[0.5, 0.5], [0.2, 0.7]]),
        np.array([[1.0, 0.0], [2.0, -1.0]]),
        "binary_cross_entropy: target must hold probabilities in [0, 1]; got [2.0, -1.0] (first "
        "at index (1, 0)). Use 0/1 labels or soft labels between them",
    ),
}


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_probability_is_refused_with_the_message_it_always_had(bad):
    p, y, message = BAD[bad]
    for target in (y, Tensor(y, requires_grad=True)):
        with pytest.raises(ValueError) as caught:
            bce(Tensor(p, requires_grad=True), target)
        assert str(caught.value) == message
        assert caught.value.__context__ is None  # not "during handling of another exception"
    with pytest.raises(ValueError) as caught:  # the operation's own check says the same, as it is
        BinaryCrossEntropy.apply(Tensor(p), Tensor(y), name="binary_cross_entropy", reduction="sum")
    assert str(caught.value) == message


@pytest.mark.parametrize("bad", BAD)
def test_a_compiled_replay_checks_each_calls_probabilities(bad):
    model = nn.Sequential(nn.Linear(3, 2, rng=np.random.default_rng(0)))
    loss_fn = nn.BCELoss()

    def step(x: np.ndarray, squash: np.ndarray, y: np.ndarray) -> Tensor:
        return loss_fn(model(Tensor(x)).sigmoid() * squash, y)  # squash > 1: p outside [0, 1]

    compiled = ag.compile(step)
    p, y, message = BAD[bad]
    x, ones = np.ones((2, 3)), np.ones((2, 2))
    good = np.array([[1.0, 0.0], [0.5, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager
        for _ in range(3):  # two recorded calls, then a replay
            compiled(x, ones, good).backward()
        assert len(compiled.traces) == 1 and compiled.eager_reason is None
        squash = ones * 3 if bad == "p" else ones
        target = good if bad == "p" else y
        with pytest.raises(ValueError) as caught:
            compiled(x, squash, target)
        if bad == "p":  # the values depend on the model
            assert str(caught.value).startswith(message.split(";")[0] + "; got values from")
        else:
            assert str(caught.value) == message
        with pytest.raises(ValueError) as eager:
            step(x, squash, target)
        assert str(caught.value) == str(eager.value)
        assert np.isfinite(compiled(x, ones, good).item())  # the trace still replays
    assert compiled.eager_reason is None
