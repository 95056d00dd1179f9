"""Layers: ``Linear``, ``Identity`` and ``Flatten`` (the activation modules are in
``nn/activation.py``, and are importable from here too, where they used to live)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite import Tensor

from . import functional as F
from . import init
from .activation import ReLU, Sigmoid, Tanh  # noqa: F401 -- where they used to live
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias, with ``weight`` of shape (out_features, in_features) and ``bias``
    of shape (out_features,): PyTorch's layout, so state dicts load across.

    Both start uniform in [-1/√in_features, 1/√in_features], PyTorch's default. ``rng`` (a
    ``np.random.Generator``) makes that reproducible; without it the generator seeded by
    ``nn.manual_seed`` is used. ``dtype`` is float64 by default; float32 works too. Inputs that
    are not Tensors (arrays, lists) are converted to the layer's dtype.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        for label, size in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Linear: {label} must be a positive integer; got {size!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Linear: dtype must be floating point; got {dtype}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        bound = 1 / math.sqrt(self.in_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        init.uniform_(self.weight, -bound, bound, rng=rng)
        self.bias = None
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}) expects "
                f"inputs whose last dimension is {self.in_features}; got an input of shape "
                f"{x.shape}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged: a placeholder (e.g. for a removed layer); any arguments given
    to it are ignored, as in PyTorch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merges the axes ``start_dim`` to ``end_dim`` (inclusive) into one: (N, C, L) -> (N, C·L)
    with the defaults, which keep the batch axis."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        ndim = x.ndim
        start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + ndim if self.end_dim < 0 else self.end_dim
        if not (0 <= start < max(ndim, 1) and 0 <= end < max(ndim, 1)) or start > end:
            raise ValueError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) does not fit an "
                f"input of shape {x.shape} ({ndim} dimensions)"
            )
        if ndim == 0:
            return x.reshape(1)
        merged = math.prod(x.shape[start : end + 1])
        return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
