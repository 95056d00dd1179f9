"""Activation modules: each applies its ``nn.functional`` function elementwise (``Softmax`` and
``LogSoftmax`` along one axis). They hold no parameters; their options show in ``repr``."""

from __future__ import annotations

from autograd_lite import Tensor

from . import functional as F
from .module import Module


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class _AlongDim(Module):
    """Base of Softmax and LogSoftmax: the axis has no default, because PyTorch's implicit
    choice (axis 0 for 1-D and 3-D inputs, 1 otherwise) is deprecated and easy to get wrong."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is None:
            raise TypeError(
                f"{type(self).__name__} needs the axis to normalise over: "
                f"nn.{type(self).__name__}(dim=-1) for the last one (class scores of (N, C): "
                f"dim=1 or -1)"
            )
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"{type(self).__name__}: dim must be an int; got {dim!r}")
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """e^x / Σ e^x along ``dim``: each slice becomes a probability distribution."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, dim=self.dim)


class LogSoftmax(_AlongDim):
    """x - log Σ e^x along ``dim``, computed stably (pair it with ``nn.NLLLoss``)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, dim=self.dim)
