"""``Embedding``: a table of learned vectors looked up by integer index (words, categories)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import Tensor, no_grad

from . import functional as F
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """``weight`` of shape (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch;
    ``embedding(indices)`` has shape indices.shape + (embedding_dim,).

    ``padding_idx`` (optional, negative counts from the end) names a row that starts at zero and
    gets no gradient: the vector for "no token" stays zero while the rest train. ``rng`` makes the
    initialisation reproducible (else ``nn.manual_seed``'s generator); ``dtype`` float64 default.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        for label, size in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Embedding: {label} must be a positive integer; got {size!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be in [-{num_embeddings}, {num_embeddings}); "
                    f"got {padding_idx}"
                )
            padding_idx = int(padding_idx) % num_embeddings
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Embedding: dtype must be floating point; got {dtype}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
        init.normal_(self.weight, rng=rng)
        if padding_idx is not None:
            with no_grad():
                self.weight[padding_idx] = 0.0

    def forward(self, indices: Any) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
