"""``Dropout``: a regulariser that is active in ``train()`` mode only."""

from __future__ import annotations

import numpy as np

from autograd_lite import Tensor

from . import functional as F
from .module import Module


class Dropout(Module):
    """During training, zero each element with probability ``p`` and scale the rest by
    1/(1 - p); in ``eval()`` mode, pass the input through unchanged.

    Scaling at training time (inverted dropout, PyTorch's choice) keeps each unit's expected
    value, so the trained model is evaluated as it is. ``rng`` (a ``np.random.Generator``)
    draws the masks; without it the generator seeded by ``nn.manual_seed`` is used, so a seeded
    run repeats exactly.
    """

    def __init__(
        self, p: float = 0.5, inplace: bool = False, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__()
        self.p = F._probability("Dropout", p)
        F._no_inplace("Dropout", inplace)
        self.inplace = False
        self.rng = rng

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
