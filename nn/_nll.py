"""The negative log-likelihood of class labels as one operation, written as a user would write a
``Function``: what ``nll_loss`` and ``cross_entropy`` compute from log-probabilities when the
classes carry no weights.

One operation rather than indexing, a mask and a mean, for two reasons: a step has three fewer
nodes to record and take back, and everything that depends on the labels' values (which rows
count, whether a label is out of range, how many rows the mean divides by) happens inside it, so
``autograd_lite.compile`` replays a step that calls it with each call's own labels, checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import Function
from autograd_lite.array_namespace import array_namespace
from autograd_lite.ops.reduce import numpy_mean


class NllLoss(Function):
    """z = −(1/n) Σᵢ X[i, yᵢ] over the n rows i whose label yᵢ is not ignore_index.   ∂L/∂X = −G/n
    at each (i, yᵢ) that counts, 0 elsewhere.

    X holds log-probabilities of shape (M, C), y integer class labels of shape (M,). That is the
    'mean'; 'sum' leaves out the 1/n (∂L/∂X = −G there), 'none' keeps −X[i, yᵢ] per row (0 on an
    ignored row; ∂L/∂X[i, yᵢ] = −Gᵢ). PyTorch names its node NllLossBackward.
    """

    own_messages = True  # the checks in forward name the loss and what to do

    def forward(self, x, labels, name, ignore_index, reduction):
        classes = x.shape[1]
        if (
            len(labels)
            and not 0 <= ignore_index < classes
            and np.minimum.reduce(labels) >= 0
            and np.maximum.reduce(labels) < classes
        ):  # the usual batch, told cheaply: every label is a class, so none is ignore_index
            everything = True
        else:
            check_label_range(name, labels, classes, ignore_index)
            keep = labels != ignore_index
            everything = bool(keep.all())
        safe = labels if everything else np.where(keep, labels, 0)  # masked out below
        losses = -x[np.arange(len(labels)), safe]
        if not everything:
            losses = np.where(keep, losses, 0.0)
        count = len(labels) if everything else int(np.count_nonzero(keep))
        if reduction == "none":
            z = losses
        elif reduction == "sum":
            z = np.add.reduce(losses)
        elif count == 0:
            raise ValueError(
                f"{name}: reduction='mean' divides by the number of labels that count, and that "
                "is 0 here (every label is ignore_index, or the batch is empty). Skip this batch, "
                "or use reduction='sum'"
            )
        elif everything:  # as Tensor.mean would, to the bit
            z = numpy_mean(losses)
        else:  # as Tensor.sum / n would, to the bit
            z = np.add.reduce(losses) / float(count)
        self.save(safe, None if everything else keep, count, x.shape, reduction)
        return z

    def backward(self, g):
        safe, keep, count, shape, reduction = self.saved
        xp = array_namespace(g)
        rows = len(safe)
        if reduction == "none":
            per_row = -g
        else:
            per_row = xp.broadcast_to(-g / count if reduction == "mean" else -g, (rows,))
        if keep is not None:
            per_row = per_row * keep
        return xp.index_add(per_row, shape, (np.arange(rows), safe)), None


def check_label_range(name: str, labels: np.ndarray, classes: int, ignore_index: Any) -> None:
    """Raise unless every label is a class in [0, classes) or ``ignore_index``."""
    bad = ((labels < 0) | (labels >= classes)) & (labels != ignore_index)
    if bad.any():
        raise ValueError(
            f"{name}: labels must be in [0, {classes}) for {classes} classes (or equal "
            f"ignore_index={ignore_index}); got {labels[bad][:5].tolist()}"
        )
