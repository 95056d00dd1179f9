"""Loss modules: thin wrappers over ``nn.functional`` that remember their options.

Class weights (``weight``, ``pos_weight``) are buffers, as in PyTorch: they are in the state dict
under the same names and move with the module, but no optimizer updates them.
"""

from __future__ import annotations

from typing import Any

from autograd_lite import Tensor

from . import functional as F
from ._loss_functions import _nonnegative
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {F.REDUCTIONS}; got {reduction!r}"
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    """A loss whose first argument is ``weight``, as in PyTorch. A string there is taken as the
    reduction, which earlier versions of nn had first (``nn.CrossEntropyLoss("sum")``)."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        if isinstance(weight, str):
            if reduction != "mean":
                raise TypeError(
                    f"{type(self).__name__}: got two reductions, {weight!r} and {reduction!r}"
                )
            weight, reduction = None, weight
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))


def _buffer(value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value)


class MSELoss(_Loss):
    """Mean (or sum) of squared errors; input and target shapes must match exactly."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean (or sum) of absolute errors; shapes must match exactly."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error / (2β) below |error| = ``beta``, absolute error - β/2 above (β = 0: L1)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = _nonnegative("SmoothL1Loss", "beta", beta)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error / 2 below |error| = ``delta``, δ(|error| - δ/2) above; δ > 0."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        delta = _nonnegative("HuberLoss", "delta", delta)
        if delta == 0:
            raise ValueError("HuberLoss: delta must be > 0; use L1Loss for delta -> 0")
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] against targets in [0, 1].

    Each log is clamped at -100 (PyTorch's rule) and the gradient is finite wherever the loss is,
    float32 included; see ``nn.functional.binary_cross_entropy`` for where it is not exact.
    ``weight`` multiplies each element's loss (it broadcasts to the input's shape).
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits; ``pos_weight``
    weighs the positive term (one per class for multi-label targets), ``weight`` each element."""

    def __init__(
        self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None
    ) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C[, d1, ...]) against integer labels
    (N[, d1, ...]); ``weight`` per class, ``ignore_index`` for labels that do not count."""

    def __init__(
        self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C[, d1, ...]) against integer labels (N[, d1, ...])
    or class probabilities of the logits' shape; ``weight`` per class, ``ignore_index``,
    ``label_smoothing``. See ``nn.functional.cross_entropy``."""

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )
