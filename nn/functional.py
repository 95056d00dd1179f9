"""Activations and losses as functions of Tensors, as in ``torch.nn.functional``.

Every loss checks its arguments before computing anything: input and target shapes must match
exactly (nothing is broadcast silently), and an input or target holding NaN is a ``ValueError``
(a NaN loss would only make every gradient NaN; the cause is upstream, e.g. a learning rate that
is too large). A target that does not require grad is converted to the input's dtype, so a float32
model's loss stays float32 when given float64 or integer targets.

Losses take ``reduction="mean"`` (default), ``"sum"`` or ``"none"`` (the elementwise losses).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from autograd_lite import Tensor, where

REDUCTIONS = ("mean", "sum", "none")


# ----- activations ----------------------------------------------------------------------------
def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^(-x)), elementwise; stable for large |x|."""
    return _tensor(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    """tanh(x), elementwise."""
    return _tensor(x, "tanh").tanh()


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise (gradient 0 at x = 0, as PyTorch)."""
    return _tensor(x, "relu").relu()


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``dim``."""
    return _tensor(x, "softmax").softmax(axis=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - log(sum(e^x)) along ``dim``, computed stably (finite at |x| = 1000)."""
    return _tensor(x, "log_softmax").log_softmax(axis=dim)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with ``weight`` of shape (out, in) as in PyTorch."""
    x = _tensor(x, "linear")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: the input's last dimension must be in_features = {weight.shape[1]}; got an "
            f"input of shape {x.shape}"
        )
    y = x @ weight.T
    return y if bias is None else y + bias


# ----- losses ---------------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)², reduced; shapes must match exactly."""
    input, target = _check_pair("mse_loss", input, target, reduction)
    return _reduce((input - target) ** 2, reduction)


def binary_cross_entropy(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p = ``input`` and targets y in [0, 1].

    Each log is clamped at -100, as PyTorch does, so p = 0 or 1 gives a finite loss. The
    gradient is that of the clamped function: 0 where a log is clamped (PyTorch instead returns
    (p - y) / max(p (1 - p), 1e-12) there, up to 1e12), and elsewhere the exact -y/p + (1-y)/(1-p)
    wherever 1/p is finite in the input's dtype.

    One band is neither. A float32 p below 2.9e-39 (a denormal: ``sigmoid`` gives one for logits
    between about -100 and -88.7) has log p > -100, so it is not clamped, but 1/p overflows, so
    the exact gradient would be -inf, and through sigmoid inf or NaN for the weights: one SGD step
    would ruin the model. There the slope of log p is held at the largest finite one (see
    ``_clamped_log``): the gradient stays finite and points the right way, but through sigmoid it
    is small (about -3.4e38 · y · σ(x) instead of σ(x) - y). For logits that large use
    ``binary_cross_entropy_with_logits``, which is exact everywhere. float64 has no such band
    (its clamp at -100 comes long before 1/p overflows); float16 has one below 1.5e-5.

    A target outside [0, 1] is a ``ValueError``: the loss is then no cross-entropy, and its
    minimum is at a clamp instead of at p = y.
    """
    p, y = _check_pair("binary_cross_entropy", input, target, reduction)
    if p.size and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1]; got values from "
            f"{p.data.min()} to {p.data.max()}. Apply sigmoid first, or use "
            f"binary_cross_entropy_with_logits on the raw scores"
        )
    outside = (y.data < 0) | (y.data > 1)
    if outside.any():
        first = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"binary_cross_entropy: target must hold probabilities in [0, 1]; got "
            f"{y.data[outside][:5].tolist()} (first at index {first}). Use 0/1 labels or soft "
            f"labels between them"
        )
    loss = -(y * _clamped_log(p) + (1 - y) * _clamped_log(1 - p))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, *, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of sigmoid(x) for logits x, without forming sigmoid(x).

    Uses -(y log σ(x) + (1 - y) log(1 - σ(x))) = softplus(x) - x y, with softplus evaluated so
    that no exponential overflows: finite and exact at |x| = 1000.
    """
    x, y = _check_pair("binary_cross_entropy_with_logits", input, target, reduction)
    return _reduce(_softplus(x) - x * y, reduction)


def cross_entropy(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """-log softmax(logits)[label] for logits of shape (N, C) and integer labels of shape (N,).

    Computed with log_softmax (a shifted log-sum-exp), so |logit| = 1000 is finite and exact.
    """
    name = "cross_entropy"
    logits = _tensor(input, name)
    _check_reduction(name, reduction)
    if logits.ndim != 2:
        raise ValueError(
            f"{name}: logits must have shape (N, C) (a batch of N rows of C class scores); got "
            f"shape {logits.shape}. For a single sample use logits.reshape(1, -1)"
        )
    n, c = logits.shape
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must hold integer class labels in [0, {c}); got dtype {labels.dtype}. "
            f"Convert labels stored as floats with labels.astype(int); one-hot targets with "
            f"labels.argmax(axis=1)"
        )
    if labels.shape != (n,):
        raise ValueError(
            f"{name}: target must have shape (N,) = ({n},), one label per row of the logits of "
            f"shape {logits.shape}; got shape {labels.shape}"
        )
    if n and (labels.min() < 0 or labels.max() >= c):
        bad = labels[(labels < 0) | (labels >= c)]
        raise ValueError(
            f"{name}: labels must be in [0, {c}) for {c} classes; got {bad[:5].tolist()}"
        )
    _check_no_nan(name, "input", logits.data)
    picked = logits.log_softmax(axis=1)[np.arange(n), labels]
    return _reduce(-picked, reduction)


# ----- helpers --------------------------------------------------------------------------------
def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) with e^(-|x|) only; gradient σ(x) everywhere, x = 0 included."""
    positive = x.data > 0
    x_pos = where(positive, x, 0.0)
    x_neg = where(positive, 0.0, x)
    # Two branches joined by where (not relu + abs), so the gradient at x = 0 is σ(0) = 1/2.
    return where(positive, x_pos + (1 + (-x_pos).exp()).log(), (1 + x_neg.exp()).log())


def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100), with a gradient that is finite wherever the value is.

    Three regions. Clamped (log p <= -100, p = 0 included): the constant -100, gradient 0.
    Exact (p >= ``_smallest_invertible``, so 1/p is finite): ``p.log()``, whose backward g/p is
    the true gradient, the same bits as before. Between them, a band only dtypes narrower than
    float64 have: the value is still log p exactly, but the slope is 1/``_smallest_invertible``,
    the largest finite one, so that the gradient is finite for |g| <= 1 (a mean or sum of
    losses). Keeping g/p wherever it alone is finite (|g| < 1 lets it go below tiny) would need
    the saturation inside backward: a change to the Log operation, or a BCE operation of its own.
    """
    with np.errstate(divide="ignore"):
        log_p = np.log(p.data)
    unclamped = log_p > -100
    tiny = _smallest_invertible(p.dtype)
    exact = unclamped & (p.data >= tiny)
    # The inner where keeps 0 (log 0 = -inf, then 0/0 in backward) and tiny p out of Log.
    logged = where(exact, where(exact, p, 1.0).log(), -100.0)
    saturated = unclamped & ~exact
    if not saturated.any():
        return logged
    # (p - p.data) is exactly 0 but carries p's gradient; dividing it by tiny sets the slope.
    held = (p - p.data) / tiny + np.where(saturated, log_p, 0.0).astype(p.dtype)
    return where(saturated, held, logged)


@functools.cache
def _smallest_invertible(dtype: np.dtype) -> np.ndarray:
    """The smallest positive number of ``dtype`` whose reciprocal is finite (float32: 2.9e-39)."""
    one, tiny = np.ones((), dtype), np.asarray(1 / np.finfo(dtype).max, dtype)
    with np.errstate(over="ignore", divide="ignore"):
        while not np.isfinite(one / tiny):  # 1/max rounds to a denormal one step too small
            tiny = np.nextafter(tiny, one)
    return np.asarray(tiny, dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}; got {reduction!r}")


def _tensor(x: Any, name: str) -> Tensor:
    """``x`` itself if a Tensor, else a constant Tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_no_nan(name: str, which: str, array: np.ndarray) -> None:
    if array.dtype.kind == "f" and np.isnan(array).any():
        where_nan = tuple(int(i) for i in np.argwhere(np.isnan(array))[0])
        raise ValueError(
            f"{name}: the {which} contains NaN (first at index {where_nan}). The loss would be "
            f"NaN and every gradient with it; look upstream for a learning rate that is too "
            f"large, a log or division by zero, or NaN in the data"
        )


def _check_pair(name: str, input: Any, target: Any, reduction: str) -> tuple[Tensor, Tensor]:
    """Input and target as Tensors of the same shape (and dtype, for a constant target)."""
    _check_reduction(name, reduction)
    input = _tensor(input, name)
    if input.dtype.kind != "f":
        raise TypeError(
            f"{name}: input must be floating point; got dtype {input.dtype}. Convert it with "
            f"Tensor(x, dtype=np.float64)"
        )
    if not (isinstance(target, Tensor) and target.requires_grad):
        target = Tensor(target.data if isinstance(target, Tensor) else target, dtype=input.dtype)
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: input has shape {input.shape} but target has shape {target.shape}; they "
            f"must match exactly (losses do not broadcast, which would silently pair every "
            f"prediction with every target). Reshape one of them, e.g. "
            f"target.reshape{input.shape}"
        )
    _check_no_nan(name, "input", input.data)
    _check_no_nan(name, "target", target.data)
    return input, target
