"""Initialisers that fill a Tensor's data in place and return it, as ``torch.nn.init`` does.

The fill goes through ``copy_`` under ``no_grad()``: the array stays the same object and the
tensor's version is bumped, as for any in-place change made through the library.

Each keeps the tensor's dtype and takes an optional ``rng`` (a ``np.random.Generator``) for
reproducible runs; without one, the module's default generator is used (reseed it with
``nn.manual_seed``). Fans follow PyTorch: for a weight of shape (out, in, *kernel),
fan_in = in · prod(kernel) and fan_out = out · prod(kernel).
"""

from __future__ import annotations

import math

import numpy as np

from autograd_lite import Tensor, no_grad

_default_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator used when no ``rng`` is given (layers' default initialisation too)."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for a nonlinearity (e.g. 5/3 for tanh, √2 for relu)."""
    gains = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2.0), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in gains:
        raise ValueError(
            f"calculate_gain: unknown nonlinearity {nonlinearity!r}; "
            f"choose from {sorted([*gains, 'leaky_relu'])}"
        )
    return gains[nonlinearity]


def _fans(t: Tensor, name: str) -> tuple[int, int]:
    if t.ndim < 2:
        raise ValueError(
            f"{name}: fan_in and fan_out need a tensor of at least 2 dimensions (a weight of "
            f"shape (out, in, ...)); got shape {t.shape}. Use uniform_ or zeros_ for biases"
        )
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fill(t: Tensor, values: np.ndarray | float) -> Tensor:
    # Through copy_ (cast to the tensor's dtype, same array) so that the tensor's version moves
    # and a graph that saved the old values refuses to backpropagate through them.
    with no_grad():
        return t.copy_(values)


def _check(t: object, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expected a Tensor (e.g. layer.weight); got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: the tensor must be floating point; got dtype {t.dtype}")


def uniform_(
    t: Tensor, a: float = 0.0, b: float = 1.0, rng: np.random.Generator | None = None
) -> Tensor:
    """Fill ``t`` with draws from U(a, b)."""
    _check(t, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b; got a={a}, b={b}")
    rng = _default_rng if rng is None else rng
    return _fill(t, rng.uniform(a, b, size=t.shape))


def normal_(
    t: Tensor, mean: float = 0.0, std: float = 1.0, rng: np.random.Generator | None = None
) -> Tensor:
    """Fill ``t`` with draws from N(mean, std²) (``nn.Embedding``'s default initialisation)."""
    _check(t, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_: need std >= 0; got std={std}")
    rng = _default_rng if rng is None else rng
    return _fill(t, rng.normal(mean, std, size=t.shape))


def constant_(t: Tensor, val: float) -> Tensor:
    """Fill ``t`` with ``val``."""
    _check(t, "constant_")
    return _fill(t, val)


def zeros_(t: Tensor) -> Tensor:
    """Fill ``t`` with zeros."""
    _check(t, "zeros_")
    return _fill(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fill ``t`` with ones."""
    _check(t, "ones_")
    return _fill(t, 1.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0, rng: np.random.Generator | None = None) -> Tensor:
    """Glorot: U(-b, b) with b = gain · √(6 / (fan_in + fan_out))."""
    _check(t, "xavier_uniform_")
    fan_in, fan_out = _fans(t, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, rng=rng)


def kaiming_uniform_(
    t: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | None = None,
) -> Tensor:
    """He: U(-b, b) with b = gain · √(3 / fan); with the defaults b = √(6 / fan_in)."""
    _check(t, "kaiming_uniform_")
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming_uniform_: mode must be 'fan_in' or 'fan_out'; got {mode!r}")
    fan_in, fan_out = _fans(t, "kaiming_uniform_")
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound, rng=rng)
