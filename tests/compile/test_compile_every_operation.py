"""Every operation a Tensor offers, compiled, gives eager's bits: value and gradients. Most of them
are copied into the replay as statements (autograd_lite/inlining.py), so this checks each copy
against its own methods, one operation at a time, on values that reach their kinks and clamps."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Tensor

# Arrays an operation takes as a parameter: made once, as a trace needs (one made inside the
# function at each call would make compile run it eagerly, by design; so does gather, which builds
# its row index inside).
EVEN = np.arange(12).reshape(3, 4) % 2 == 0

ONE_INPUT = {
    "exp": lambda a: a.exp(),
    "log": lambda a: (a * a + 0.5).log(),
    "sqrt": lambda a: (a * a + 0.5).sqrt(),
    "abs": lambda a: a.abs(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "square": lambda a: a.square(),
    "reciprocal": lambda a: (a * a + 0.5).reciprocal(),
    "rsqrt": lambda a: (a * a + 0.5).rsqrt(),
    "log1p": lambda a: (a * a).log1p(),
    "expm1": lambda a: a.expm1(),
    "log2": lambda a: (a * a + 0.5).log2(),
    "log10": lambda a: (a * a + 0.5).log10(),
    "exp2": lambda a: a.exp2(),
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "erf": lambda a: a.erf(),
    "sign": lambda a: a.sign() * a,
    "pow": lambda a: a**3,
    "pow_zero": lambda a: a**0 * a,
    "neg": lambda a: -a,
    "leaky_relu": lambda a: a.leaky_relu(),
    "elu": lambda a: a.elu(),
    "selu": lambda a: a.selu(),
    "celu": lambda a: a.celu(),
    "hardtanh": lambda a: a.hardtanh(),
    "relu6": lambda a: (a * 4.0).relu6(),
    "hardsigmoid": lambda a: (a * 4.0).hardsigmoid(),
    "hardswish": lambda a: (a * 4.0).hardswish(),
    "gelu": lambda a: a.gelu(),
    "silu": lambda a: a.silu(),
    "mish": lambda a: a.mish(),
    "softplus": lambda a: a.softplus(),
    "softsign": lambda a: a.softsign(),
    "logsigmoid": lambda a: a.logsigmoid(),
    "clip": lambda a: a.clip(-0.5, 0.5),
    "sum": lambda a: a.sum(axis=0),
    "mean": lambda a: a.mean(axis=1, keepdims=True),
    "max": lambda a: a.max(axis=1),
    "min": lambda a: a.min(axis=0),
    "var": lambda a: a.var(axis=1),
    "std": lambda a: a.std(axis=0),
    "prod": lambda a: a.prod(axis=1),
    "logsumexp": lambda a: a.logsumexp(axis=1),
    "softmax": lambda a: a.softmax(axis=1),
    "log_softmax": lambda a: a.log_softmax(axis=0),
    "transpose": lambda a: a.transpose(),
    "swapaxes": lambda a: a.swapaxes(0, 1),
    "reshape": lambda a: a.reshape(-1),
    "flatten": lambda a: a.flatten(),
    "squeeze": lambda a: a.unsqueeze(0).squeeze(0),
    "expand": lambda a: a[:1].expand(3, 4),
    "broadcast_to": lambda a: a[:1].broadcast_to((3, 4)),
    "repeat": lambda a: a.repeat(2, 1),
    "tile": lambda a: a.tile((2, 1)),
    "flip": lambda a: a.flip(0),
    "index": lambda a: a[1:, ::2],
    "astype": lambda a: a.astype(np.float32) * 2.0,
}
TWO_INPUTS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "matmul": lambda a, b: a @ b.T,
    "pow": lambda a, b: (a * a + 0.5) ** b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "logaddexp": lambda a, b: a.logaddexp(b),
    "mod": lambda a, b: a % (b * b + 0.5),
    "where": lambda a, b: ag.where(EVEN, a, b),
    "cat": lambda a, b: ag.cat([a, b], axis=1),
    "stack": lambda a, b: ag.stack([a, b], axis=0),
}


def values(seed: int) -> np.ndarray:
    """3×4 values with ties, zeros and the usual kinks (0, ±1) among them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4))
    x[0, :2] = [0.0, 1.0]
    x[1, 2:] = [-1.0, -1.0]
    return x


def assert_replay_matches(loss_of, count: int) -> None:
    starts = [values(seed) for seed in range(count)]
    eager = [Tensor(s, requires_grad=True) for s in starts]
    ours = [Tensor(s, requires_grad=True) for s in starts]
    compiled = ag.compile(loss_of)
    weight = Tensor(np.random.default_rng(9).standard_normal(12))  # a loss that mixes entries
    for _ in range(4):  # two recorded calls, two replays
        expected, got = loss_of(*eager, weight), compiled(*ours, weight)
        assert expected.data.tobytes() == got.data.tobytes()
        expected.backward()
        got.backward()
        for p, q in zip(eager, ours, strict=True):
            assert p.grad.tobytes() == q.grad.tobytes()
    assert compiled.eager_reason is None, compiled.eager_reason


@pytest.mark.parametrize("name", ONE_INPUT)
def test_each_one_input_operation_compiled_gives_eagers_bits(name):
    op = ONE_INPUT[name]
    assert_replay_matches(lambda a, w: (op(a).reshape(-1)[:12] * w[: op(a).size]).sum(), 1)


@pytest.mark.parametrize("name", TWO_INPUTS)
def test_each_two_input_operation_compiled_gives_eagers_bits(name):
    op = TWO_INPUTS[name]
    assert_replay_matches(lambda a, b, w: (op(a, b).reshape(-1)[:12] * w[: op(a, b).size]).sum(), 2)
