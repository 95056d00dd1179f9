"""The loss functions of ``nn.functional`` (re-exported there), with PyTorch's signatures.

Every loss checks its arguments before computing anything: input and target shapes must match
exactly (nothing is broadcast silently), and an input or target holding NaN is a ``ValueError``
(a NaN loss would only make every gradient NaN; the cause is upstream, e.g. a learning rate that
is too large). A target that does not require grad is converted to the input's dtype, so a float32
model's loss stays float32 when given float64 or integer targets. Per-class or per-element
``weight`` and ``pos_weight`` are the exception to "no broadcasting": they are meant to broadcast
to the input's shape (never to grow it), as in PyTorch.

Losses take ``reduction="mean"`` (default), ``"sum"`` or ``"none"``. Where PyTorch's mean would be
0/0 (every target equal to ``ignore_index``, an empty batch, or class weights summing to 0) the
mean is a ``ValueError`` instead of NaN; ``"sum"`` gives 0 there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite import Tensor, where

from ._bce import BinaryCrossEntropy
from ._huber import Huber, SmoothL1
from ._nll import NllLoss, check_label_range

REDUCTIONS = ("mean", "sum", "none")


# ----- regression losses ----------------------------------------------------------------------
def mse_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)², reduced; shapes must match exactly."""
    input, target = _check_pair("mse_loss", input, target, reduction)
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """Absolute error |input - target|; its gradient is sign(input - target), 0 where equal."""
    input, target = _check_pair("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(
    input: Tensor, target: Any, *, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """0.5 d²/β where |d| < β, else |d| - 0.5 β, for d = input - target (β = 0: the L1 loss).

    Quadratic near 0 so the gradient shrinks as the error does, linear beyond β so outliers pull
    with at most slope 1. Equals ``huber_loss(..., delta=β) / β``.
    """
    name = "smooth_l1_loss"
    beta = _nonnegative(name, "beta", beta)
    input, target = _check_pair(name, input, target, reduction)
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    return SmoothL1.apply(input, target, beta=beta, reduction=reduction)  # one operation: _huber.py


def huber_loss(
    input: Tensor, target: Any, *, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """0.5 d² where |d| < δ, else δ (|d| - 0.5 δ), for d = input - target; δ > 0."""
    name = "huber_loss"
    delta = _nonnegative(name, "delta", delta)
    if delta == 0:
        raise ValueError(f"{name}: delta must be > 0; got {delta}. Use l1_loss for delta -> 0")
    input, target = _check_pair(name, input, target, reduction)
    return Huber.apply(input, target, delta=delta, reduction=reduction)  # one operation: _huber.py


# ----- binary classification ------------------------------------------------------------------
def binary_cross_entropy(
    input: Tensor, target: Any, weight: Any = None, *, reduction: str = "mean"
) -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)) for probabilities p = ``input`` and targets y in [0, 1].

    Each log is clamped at -100, as PyTorch does, so p = 0 or 1 gives a finite loss. The
    gradient is that of the clamped function: 0 where a log is clamped (PyTorch instead returns
    (p - y) / max(p (1 - p), 1e-12) there, up to 1e12), and elsewhere the exact -y/p + (1-y)/(1-p)
    wherever 1/p is finite in the input's dtype.

    One band is neither. A float32 p below 2.9e-39 (a denormal: ``sigmoid`` gives one for logits
    between about -100 and -88.7) has log p > -100, so it is not clamped, but 1/p overflows, so
    the exact gradient would be -inf, and through sigmoid inf or NaN for the weights: one SGD step
    would ruin the model. There the slope of log p is held at the largest finite one (see
    ``ClampedLog`` in _bce.py): the gradient stays finite and points the right way, but through
    sigmoid it is small (about -3.4e38 · y · σ(x) instead of σ(x) - y). For logits that large use
    ``binary_cross_entropy_with_logits``, which is exact everywhere. float64 has no such band
    (its clamp at -100 comes long before 1/p overflows); float16 has one below 1.5e-5.

    A target outside [0, 1] is a ``ValueError``: the loss is then no cross-entropy, and its
    minimum is at a clamp instead of at p = y. ``weight`` (optional) multiplies each element's
    loss and broadcasts to the input's shape.
    """
    name = "binary_cross_entropy"
    p, y = _check_pair(name, input, target, reduction)
    w = _broadcast_weight(name, "weight", weight, p)
    operands = (p, y) if w is None else (p, y, w)
    # One operation (_bce.py), which checks p and y: a compiled replay checks each call's too
    return BinaryCrossEntropy.apply(*operands, name=name, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of sigmoid(x) for logits x, without forming sigmoid(x):
    -w (pw · y log σ(x) + (1 - y) log(1 - σ(x))).

    Without ``pos_weight`` this is softplus(x) - x y; with it (1 - y) x + (1 + (pw - 1) y)
    softplus(-x), PyTorch's form. softplus is evaluated so that no exponential overflows: finite
    and exact at |x| = 1000. ``pos_weight`` (e.g. one per class, shape (C,)) weighs the positive
    term: #negatives / #positives balances a rare class. ``weight`` multiplies each element's
    loss. Both broadcast to the input's shape.
    """
    name = "binary_cross_entropy_with_logits"
    x, y = _check_pair(name, input, target, reduction)
    w = _broadcast_weight(name, "weight", weight, x)
    pw = _broadcast_weight(name, "pos_weight", pos_weight, x)
    if pw is None:
        loss = _softplus(x) - x * y
    else:
        loss = (1 - y) * x + ((pw - 1) * y + 1) * _softplus(-x)
    return _reduce(loss if w is None else loss * w, reduction)


# ----- multi-class classification -------------------------------------------------------------
def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """-w[y] · input[n, y] for log-probabilities ``input`` of shape (N, C) or (N, C, d1, ...) and
    integer class labels ``target`` of shape (N,) or (N, d1, ...).

    ``weight`` (shape (C,)) weighs each class; labels equal to ``ignore_index`` count for nothing.
    The mean divides by the summed weights of the labels that count (by their number without
    ``weight``), as PyTorch does. Feed it ``log_softmax`` of logits, or use ``cross_entropy``.
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    logp = _class_input(name, input)
    w = _class_weight(name, weight, logp)
    labels = _class_labels(name, logp, target, ignore_index, ranged=w is None)
    return _nll(name, logp, labels, w, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits of shape (N, C) or (N, C, d1, ...) (classes on axis 1).

    ``target`` is either integer class labels of shape (N,) or (N, d1, ...), or class
    probabilities of the logits' own shape (float; e.g. soft labels from mixup or distillation).
    ``weight`` (shape (C,)) weighs each class; ``ignore_index`` drops labels (class labels only);
    ``label_smoothing`` ε mixes the target with the uniform distribution: (1 - ε) target + ε/C.
    PyTorch's formulas, including how the mean is normalised: by the summed weights of the counted
    labels for class labels, by the number of samples N·d1·... for probabilities.

    Computed with log_softmax (a shifted log-sum-exp), so |logit| = 1000 is finite and exact.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    logits = _class_input(name, input)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError(f"{name}: label_smoothing must be a number; got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1]; got {label_smoothing}")
    w = _class_weight(name, weight, logits)
    c = logits.shape[1]
    eps = float(label_smoothing)
    w_axis = None if w is None else w.reshape((1, c) + (1,) * (logits.ndim - 2))
    if _is_probability_target(target, logits):
        if ignore_index >= 0:
            raise ValueError(
                f"{name}: ignore_index={ignore_index} works with class labels only; with "
                f"probability targets give the ignored samples a zero target row instead"
            )
        y = _target_tensor(target, logits)
        _check_no_nan(name, "target", y.data)
        if eps:
            y = y * (1 - eps) + eps / c
        terms = logits.log_softmax(axis=1) * y
        if w_axis is not None:
            terms = terms * w_axis
        if reduction == "none":
            return -terms.sum(axis=1)
        if reduction == "sum":
            return -terms.sum()
        samples = logits.size // c
        if samples == 0:
            raise ValueError(f"{name}: the mean over an empty batch is undefined; use 'sum'")
        return -terms.sum() / samples
    labels = _class_labels(name, logits, target, ignore_index, ranged=w is None)
    logp = logits.log_softmax(axis=1)
    nll = _nll(name, logp, labels, w, ignore_index, reduction)
    if not eps:
        return nll
    # The uniform part, -Σ_c w_c log p_c / C per sample, normalised as the nll part is.
    keep = labels != ignore_index
    smooth = -(logp if w_axis is None else logp * w_axis).sum(axis=1)
    # Masked even when every label counts: compile cannot see a branch on the labels' values, but
    # it sees a mask that differs between calls, and then runs the step eagerly rather than
    # replaying one batch's mask (and denominator) on another.
    smooth = where(keep, smooth, 0.0)
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        smooth = smooth.sum() / _mean_denominator(name, labels, keep, w)
    return (1 - eps) * nll + smooth * (eps / c)


def _nll(
    name: str, logp: Tensor, labels: np.ndarray, w: Tensor | None, ignore: int, reduction: str
) -> Tensor:
    c = logp.shape[1]
    flat = logp if logp.ndim == 2 else _classes_last(logp).reshape(-1, c)
    y = labels if labels.ndim == 1 else labels.reshape(-1)  # the caller's array itself, if it can
    if w is None:  # one operation (see _nll.py): compile replays it with each call's labels
        loss = NllLoss.apply(flat, y, name=name, ignore_index=ignore, reduction=reduction)
        return loss.reshape(labels.shape) if reduction == "none" and labels.ndim != 1 else loss
    # Class weights: composed of operations, so that a weight that requires grad gets one.
    keep = y != ignore
    everything = bool(keep.all())
    safe = y if everything else np.where(keep, y, 0)  # any valid class: its value is masked out
    loss = -flat[np.arange(y.size), safe] * w[safe]
    if not everything:
        loss = where(keep, loss, 0.0)
    if reduction == "none":
        return loss.reshape(labels.shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / _mean_denominator(name, y, keep, w)


def _mean_denominator(name: str, labels: np.ndarray, keep: np.ndarray, w: Tensor | None) -> Any:
    """What PyTorch's mean divides by: Σ w[y] over the labels that count (their number
    without weights). 0 would make the loss NaN, so it is refused."""
    keep = keep.reshape(-1)
    if w is None:
        total: Any = float(keep.sum())
    else:
        picked = w[np.where(keep, labels.reshape(-1), 0)]
        total = (picked if keep.all() else where(keep, picked, 0.0)).sum()
    value = float(total.data if isinstance(total, Tensor) else total)
    if value == 0:
        raise ValueError(
            f"{name}: reduction='mean' divides by "
            + ("the number of labels that count" if w is None else "their summed class weights")
            + " and that is 0 here (every label is ignore_index, the batch is empty, or the "
            "weights of the present classes are 0). Skip this batch, or use reduction='sum'"
        )
    return total


def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N, d1, ..., C)."""
    return x.transpose(0, *range(2, x.ndim), 1)


def _class_input(name: str, input: Any) -> Tensor:
    x = _tensor(input, name)
    if x.ndim < 2:
        raise ValueError(
            f"{name}: input must have shape (N, C) (a batch of N rows of C class scores) or "
            f"(N, C, d1, ...); got shape {x.shape}. For a single sample use x.reshape(1, -1)"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point; got dtype {x.dtype}")
    _check_no_nan(name, "input", x.data)
    return x


def _is_probability_target(target: Any, logits: Tensor) -> bool:
    array = target.data if isinstance(target, Tensor) else np.asarray(target)
    return array.dtype.kind == "f" and array.shape == logits.shape


def _class_labels(
    name: str, x: Tensor, target: Any, ignore_index: int, ranged: bool = False
) -> np.ndarray:
    """``target`` as an array of class labels, checked; ``ranged``: their values are checked by
    the operation they go to (NllLoss), at every call, compiled or not."""
    c = x.shape[1]
    expected = x.shape[:1] + x.shape[2:]
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must hold integer class labels in [0, {c}) of shape {expected}, or "
            f"class probabilities of the input's shape {x.shape}; got dtype {labels.dtype} and "
            f"shape {labels.shape}. Convert labels stored as floats with labels.astype(int); "
            f"one-hot targets with labels.argmax(axis=1)"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{name}: ignore_index must be an int; got {ignore_index!r}")
    if labels.shape != expected:
        raise ValueError(
            f"{name}: target must have shape (N,) = ({expected[0]},) for input of shape (N, C), "
            f"or (N, d1, ...) = {expected} in general: one label per position of the input of "
            f"shape {x.shape} except its class axis 1; got shape {labels.shape}"
        )
    if not ranged:
        check_label_range(name, labels, c, ignore_index)
    return labels


def _class_weight(name: str, weight: Any, x: Tensor) -> Tensor | None:
    if weight is None:
        return None
    w = _target_tensor(weight, x)
    c = x.shape[1]
    if w.shape != (c,):
        raise ValueError(
            f"{name}: weight must have shape (C,) = ({c},), one weight per class; got shape "
            f"{w.shape}"
        )
    _check_no_nan(name, "weight", w.data)
    return w


def _broadcast_weight(name: str, label: str, weight: Any, x: Tensor) -> Tensor | None:
    if weight is None:
        return None
    w = _target_tensor(weight, x)
    try:
        fits = np.broadcast_shapes(w.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: {label} of shape {w.shape} does not broadcast to the input's shape "
            f"{x.shape}; give one value per element, or per class (shape {x.shape[-1:]} for "
            f"classes on the last axis)"
        )
    _check_no_nan(name, label, w.data)
    return w


# ----- helpers --------------------------------------------------------------------------------
def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) = max(x, 0) + log1p(e^(-|x|)), exact for every x (no linear cut-off, unlike
    the activation's default threshold); gradient σ(x) everywhere, x = 0 included. One operation
    with no mask from the values, so a compiled step replays it."""
    return x.softplus(threshold=math.inf)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}; got {reduction!r}")


def _nonnegative(name: str, label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name}: {label} must be a number >= 0; got {value!r}")
    return float(value)


def _tensor(x: Any, name: str) -> Tensor:
    """``x`` itself if a Tensor, else a constant Tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _target_tensor(value: Any, like: Tensor) -> Tensor:
    """``value`` as a Tensor of ``like``'s dtype, unless it is a Tensor that requires grad (kept
    as it is, so that its gradient flows)."""
    if isinstance(value, Tensor) and value.requires_grad:
        return value
    return Tensor(value.data if isinstance(value, Tensor) else value, dtype=like.dtype)


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
    target = _target_tensor(target, input)
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
