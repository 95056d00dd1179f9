"""The operations of issue 13 as cases, shared by tests/ops/test_new_ops_*.py.

Each case is written for this library and, where PyTorch spells it differently, for PyTorch
(``theirs(torch, *tensors)``; None means the same code runs on both). Each input is drawn from a
``Domain``: an interval, kept a margin away from the operation's kinks and jumps, so that central
differences (step 1e-6) never straddle one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite import Tensor


@dataclass(frozen=True)
class Domain:
    lo: float
    hi: float
    kinks: tuple[float, ...] = ()
    margin: float = 0.05


ANY = Domain(-2.0, 2.0)
POSITIVE = Domain(0.2, 3.0)
AWAY = Domain(-2.0, 2.0, (0.0,), 0.2)  # |x| ≥ 0.2


def sample(domain: Domain | np.ndarray, shape, rng: np.random.Generator, dtype=np.float64):
    """Values in ``domain`` (or the fixed array itself), at least ``margin`` from every kink."""
    if isinstance(domain, np.ndarray):
        return domain.astype(dtype)
    x = rng.uniform(domain.lo, domain.hi, shape)
    for _ in range(100):
        close = np.zeros(np.shape(x), dtype=bool)
        for k in domain.kinks:
            close |= np.abs(x - k) < domain.margin
        if not close.any():
            return np.asarray(x, dtype=dtype)
        x = np.where(close, rng.uniform(domain.lo, domain.hi, np.shape(x)), x)
    raise AssertionError(f"could not sample {domain} away from its kinks")


def leaf(array: np.ndarray) -> Tensor:
    return Tensor(np.asarray(array), requires_grad=True)


def F(torch: Any) -> Any:
    return torch.nn.functional


# ----- element-wise, one input: (ours, theirs, domain) ------------------------------------------
UNARY: dict[str, tuple[Callable, Callable | None, Domain]] = {
    "log1p": (lambda x: x.log1p(), None, Domain(-0.5, 2.0)),
    "expm1": (lambda x: x.expm1(), None, ANY),
    "log2": (lambda x: x.log2(), None, POSITIVE),
    "log10": (lambda x: x.log10(), None, POSITIVE),
    "exp2": (lambda x: x.exp2(), None, ANY),
    "square": (lambda x: x.square(), None, ANY),
    "reciprocal": (lambda x: x.reciprocal(), None, AWAY),
    "rsqrt": (lambda x: x.rsqrt(), None, POSITIVE),
    "sin": (lambda x: x.sin(), None, Domain(-4.0, 4.0)),
    "cos": (lambda x: x.cos(), None, Domain(-4.0, 4.0)),
    "erf": (lambda x: x.erf(), None, ANY),
    "sign": (lambda x: x.sign(), None, AWAY),
    "clip": (lambda x: x.clip(-0.5, 0.5), None, Domain(-2.0, 2.0, (-0.5, 0.5))),
    "clamp min": (lambda x: x.clamp(min=0.3), None, Domain(-2.0, 2.0, (0.3,))),
    "clamp max": (lambda x: x.clamp(max=-0.2), None, Domain(-2.0, 2.0, (-0.2,))),
    "leaky_relu": (lambda x: x.leaky_relu(), lambda T, x: F(T).leaky_relu(x), AWAY),
    "leaky_relu 0.2": (
        lambda x: x.leaky_relu(0.2),
        lambda T, x: F(T).leaky_relu(x, 0.2),
        AWAY,
    ),
    "elu": (lambda x: x.elu(), lambda T, x: F(T).elu(x), AWAY),
    "elu 1.5": (lambda x: x.elu(1.5), lambda T, x: F(T).elu(x, 1.5), AWAY),
    "selu": (lambda x: x.selu(), lambda T, x: F(T).selu(x), AWAY),
    "celu": (lambda x: x.celu(), lambda T, x: F(T).celu(x), AWAY),
    "celu 0.7": (lambda x: x.celu(0.7), lambda T, x: F(T).celu(x, 0.7), AWAY),
    "gelu": (lambda x: x.gelu(), lambda T, x: F(T).gelu(x), Domain(-4.0, 4.0)),
    "gelu tanh": (
        lambda x: x.gelu("tanh"),
        lambda T, x: F(T).gelu(x, approximate="tanh"),
        Domain(-4.0, 4.0),
    ),
    "silu": (lambda x: x.silu(), lambda T, x: F(T).silu(x), Domain(-5.0, 5.0)),
    "mish": (lambda x: x.mish(), lambda T, x: F(T).mish(x), Domain(-5.0, 5.0)),
    "softplus": (lambda x: x.softplus(), lambda T, x: F(T).softplus(x), Domain(-5.0, 5.0)),
    "softplus beta 2 threshold 3": (
        lambda x: x.softplus(2.0, 3.0),
        lambda T, x: F(T).softplus(x, beta=2.0, threshold=3.0),
        Domain(-3.0, 3.0, (1.5,)),
    ),
    "softsign": (lambda x: x.softsign(), lambda T, x: F(T).softsign(x), AWAY),
    "hardtanh": (
        lambda x: x.hardtanh(),
        lambda T, x: F(T).hardtanh(x),
        Domain(-2.0, 2.0, (-1.0, 1.0)),
    ),
    "hardtanh -0.5 0.7": (
        lambda x: x.hardtanh(-0.5, 0.7),
        lambda T, x: F(T).hardtanh(x, -0.5, 0.7),
        Domain(-2.0, 2.0, (-0.5, 0.7)),
    ),
    "relu6": (lambda x: x.relu6(), lambda T, x: F(T).relu6(x), Domain(-2.0, 8.0, (0.0, 6.0))),
    "hardsigmoid": (
        lambda x: x.hardsigmoid(),
        lambda T, x: F(T).hardsigmoid(x),
        Domain(-5.0, 5.0, (-3.0, 3.0)),
    ),
    "hardswish": (
        lambda x: x.hardswish(),
        lambda T, x: F(T).hardswish(x),
        Domain(-5.0, 5.0, (-3.0, 3.0)),
    ),
    "logsigmoid": (lambda x: x.logsigmoid(), lambda T, x: F(T).logsigmoid(x), Domain(-6.0, 6.0)),
}

# ----- element-wise, two inputs that broadcast: (ours, theirs, domain a, domain b) --------------
BINARY: dict[str, tuple[Callable, Callable | None, Domain, Domain]] = {
    "maximum": (lambda a, b: a.maximum(b), None, ANY, ANY),
    "minimum": (lambda a, b: ag.minimum(a, b), lambda T, a, b: T.minimum(a, b), ANY, ANY),
    "logaddexp": (lambda a, b: a.logaddexp(b), None, ANY, ANY),
    "maximum free": (lambda a, b: ag.maximum(a, b), lambda T, a, b: T.maximum(a, b), ANY, ANY),
}

BROADCAST_PAIRS = [
    ((3, 1), (4,)),
    ((2, 3, 4), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 1, 3), (1, 2, 1)),
]

# ----- reductions: ours(x, axis, keepdims), theirs(torch, x, axis, keepdims) ---------------------


def _all(x: Any, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _torch_prod(x: Any, axis: Any, keepdims: bool) -> Any:
    """torch.prod takes one int dim: reduce the axes one at a time, from the last."""
    axes = sorted((a % x.ndim for a in _all(x, axis)), reverse=True)
    for a in axes:
        x = x.prod(dim=a, keepdim=True)
    return x if keepdims else x.reshape([n for i, n in enumerate(x.shape) if i not in axes])


REDUCTIONS: dict[str, tuple[Callable, Callable, bool]] = {  # bool: needs distinct values
    "var": (
        lambda x, axis, keep: x.var(axis, keepdim=keep),
        lambda T, x, axis, keep: x.var(dim=axis, keepdim=keep),
        False,
    ),
    "var correction 0": (
        lambda x, axis, keep: x.var(axis, correction=0, keepdim=keep),
        lambda T, x, axis, keep: x.var(dim=axis, correction=0, keepdim=keep),
        False,
    ),
    "std": (
        lambda x, axis, keep: x.std(axis, keepdim=keep),
        lambda T, x, axis, keep: x.std(dim=axis, keepdim=keep),
        False,
    ),
    "std ddof 0": (
        lambda x, axis, keep: x.std(axis=axis, ddof=0, keepdims=keep),
        lambda T, x, axis, keep: x.std(dim=axis, correction=0, keepdim=keep),
        False,
    ),
    "prod": (
        lambda x, axis, keep: x.prod(axis, keep),
        lambda T, x, axis, keep: _torch_prod(x, axis, keep),
        False,
    ),
    "min": (
        lambda x, axis, keep: x.min(axis, keep),
        lambda T, x, axis, keep: T.amin(x, dim=_all(x, axis), keepdim=keep),
        True,
    ),
    "logsumexp": (
        lambda x, axis, keep: x.logsumexp(axis, keepdim=keep),
        lambda T, x, axis, keep: T.logsumexp(x, dim=_all(x, axis), keepdim=keep),
        False,
    ),
}
REDUCTION_AXES = [None, 0, -1, (0, 2), (-1, 1)]


def distinct(shape, rng: np.random.Generator) -> np.ndarray:
    """Values 0.3 apart in a random order: no ties, even after a finite-difference nudge."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 - 0.15 * n).reshape(shape)


# ----- everything else, explicit: name -> (ours, theirs, [(domain or array, shape)]) ------------
GATHER_1 = np.array([[0, 0, 2, 1], [2, 2, 2, 0]])
GATHER_0 = np.array([[1, 0, 1], [1, 1, 0]])
MOD_Y = np.array([0.7, -1.1, 1.9, -0.45])
MOD_X = MOD_Y * np.array([[2.3, -0.4, 1.7, 0.6], [-3.8, 0.25, -1.5, 4.1], [0.5, 1.35, -0.7, 2.2]])


def _index(T: Any, array: np.ndarray) -> Any:
    return T.as_tensor(array)


@dataclass
class Case:
    ours: Callable
    theirs: Callable | None
    inputs: list = field(default_factory=list)  # (domain or fixed array, shape)


EXPLICIT: dict[str, Case] = {
    "mod broadcast": Case(lambda a, b: a % b, None, [(MOD_X, None), (MOD_Y, None)]),
    "rmod number % tensor": Case(
        lambda b: 2.5 % b, None, [(np.array([0.7, 1.1, 1.9, -0.9]), None)]
    ),
    "remainder": Case(lambda a, b: a.remainder(b), None, [(MOD_X[0], None), (MOD_Y, None)]),
    "clamp tensor bounds": Case(
        lambda x, lo, hi: x.clamp(lo, hi),
        None,
        [(ANY, (3, 4)), (Domain(-1.5, -0.1), (4,)), (Domain(0.1, 1.5), (3, 1))],
    ),
    "prod with one zero": Case(
        lambda x: x.prod(1), None, [(np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5]]), None)]
    ),
    "prod with two zeros": Case(
        lambda x: x.prod(), None, [(np.array([[2.0, 0.0, 3.0], [0.0, -2.0, 0.5]]), None)]
    ),
    "squeeze all": Case(lambda x: x.squeeze(), None, [(ANY, (2, 1, 3, 1))]),
    "squeeze dim": Case(lambda x: x.squeeze(1), None, [(ANY, (2, 1, 3, 1))]),
    "squeeze a dim that is not 1": Case(lambda x: x.squeeze(0), None, [(ANY, (2, 1, 3))]),
    "squeeze dims": Case(lambda x: x.squeeze((1, -1)), None, [(ANY, (2, 1, 3, 1))]),
    "unsqueeze 0": Case(lambda x: x.unsqueeze(0), None, [(ANY, (2, 3))]),
    "unsqueeze -1": Case(lambda x: x.unsqueeze(-1), None, [(ANY, (2, 3))]),
    "flatten": Case(lambda x: x.flatten(), None, [(ANY, (2, 3, 2))]),
    "flatten 1": Case(lambda x: x.flatten(1), None, [(ANY, (2, 3, 2))]),
    "flatten 0 1": Case(lambda x: x.flatten(0, 1), None, [(ANY, (2, 3, 2))]),
    "view": Case(lambda x: x.view(-1, 4), None, [(ANY, (2, 3, 2))]),
    "permute": Case(lambda x: x.permute(2, 0, 1), None, [(ANY, (2, 3, 4))]),
    "expand": Case(lambda x: x.expand(2, 3, 4), None, [(ANY, (3, 1))]),
    "expand -1": Case(lambda x: x.expand(2, -1, 4), None, [(ANY, (3, 1))]),
    "repeat": Case(lambda x: x.repeat(2, 1, 3), None, [(ANY, (2, 3))]),
    "repeat same ndim": Case(lambda x: x.repeat(3, 2), None, [(ANY, (2, 3))]),
    "tile fewer reps": Case(lambda x: x.tile(2), None, [(ANY, (2, 3))]),
    "tile more reps": Case(lambda x: x.tile((2, 1, 2)), None, [(ANY, (2, 3))]),
    "flip 0": Case(lambda x: x.flip(0), None, [(ANY, (3, 4))]),
    "flip (0, 2)": Case(lambda x: x.flip((0, 2)), None, [(ANY, (2, 3, 2))]),
    "gather dim 1": Case(
        lambda x: x.gather(1, GATHER_1),
        lambda T, x: x.gather(1, _index(T, GATHER_1)),
        [(ANY, (2, 3))],
    ),
    "gather dim 0": Case(
        lambda x: x.gather(0, GATHER_0),
        lambda T, x: x.gather(0, _index(T, GATHER_0)),
        [(ANY, (2, 4))],
    ),
    "cat": Case(
        lambda a, b: ag.cat([a, b], dim=1),
        lambda T, a, b: T.cat([a, b], dim=1),
        [(ANY, (2, 1)), (ANY, (2, 3))],
    ),
    "add/mul/pow aliases": Case(
        lambda a, b: a.add(b).mul(b).pow(2).sub(a).div(b), None, [(ANY, (2, 3)), (AWAY, (3,))]
    ),
}
