"""The reduction that ends a loss operation (``Huber``, ``SmoothL1``, ``BinaryCrossEntropy``):
taken inside the operation, one node fewer than a separate ``Mean`` or ``Sum``, and to the bit as
``Tensor.mean`` and ``Tensor.sum`` take it, forward and backward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.ops.reduce import numpy_mean


def reduce_losses(losses: np.ndarray, reduction: str) -> Any:
    """The mean, the sum, or (``"none"``) the elementwise losses themselves."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.add.reduce(losses, axis=None)
    return numpy_mean(losses)  # what the Mean operation computes


def spread(g: Any, reduction: str, size: int) -> Any:
    """Each element's share of the reduced loss's gradient ``g``: g/n for the mean, g for the sum,
    as Mean and Sum give it (0-d: the caller's arithmetic broadcasts it, to the same bits)."""
    return g / size if reduction == "mean" else g
