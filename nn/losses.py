"""Loss modules: thin wrappers over ``nn.functional`` that remember the reduction."""

from __future__ import annotations

from typing import Any

from autograd_lite import Tensor

from . import functional as F
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


class MSELoss(_Loss):
    """Mean (or sum) of squared errors; input and target shapes must match exactly."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] against targets in [0, 1].

    Each log is clamped at -100 (PyTorch's rule) and the gradient is finite wherever the loss is,
    float32 included; see ``nn.functional.binary_cross_entropy`` for where it is not exact.
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, reduction=self.reduction)
