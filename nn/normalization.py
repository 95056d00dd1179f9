"""``LayerNorm`` and ``BatchNorm1d``: PyTorch's layers, parameters and state-dict names."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import Tensor, no_grad

from . import functional as F
from .module import Module, Parameter


def _float_dtype(name: str, dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{name}: dtype must be floating point; got {dtype}")
    return dtype


def _as_input(x: Any, dtype: np.dtype) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, dtype=dtype)


class LayerNorm(Module):
    """Normalise each sample over its last dimensions ``normalized_shape`` to mean 0 and
    variance 1, then scale by ``weight`` (ones) and shift by ``bias`` (zeros), both of shape
    ``normalized_shape`` when ``elementwise_affine``. Independent of the batch, so training and
    evaluation compute the same thing.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.normalized_shape = F._shape_tuple("LayerNorm", normalized_shape)
        self.eps = _positive_eps("LayerNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        self._dtype = _float_dtype("LayerNorm", dtype)
        self.weight = self.bias = None
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, self._dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, self._dtype))

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x, self._dtype)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class BatchNorm1d(Module):
    """Normalise each of ``num_features`` channels of (N, C) or (N, C, L) inputs.

    In ``train()`` mode with the batch's statistics, while updating the buffers ``running_mean``
    (zeros) and ``running_var`` (ones) by r ← (1 − momentum) r + momentum · batch value (the
    unbiased variance), and counting ``num_batches_tracked``; ``momentum=None`` averages all
    batches so far equally (factor 1/num_batches_tracked). In ``eval()`` mode with the running
    statistics. Without ``track_running_stats`` there are no buffers and the batch's statistics
    are used in both modes. ``affine`` adds ``weight`` (ones) and, unless ``bias=False``,
    ``bias`` (zeros). The buffers are in the state dict under PyTorch's names, so
    ``load_state_dict`` works across.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise ValueError(f"BatchNorm1d: num_features must be an int; got {num_features!r}")
        if num_features < 1:
            raise ValueError(f"BatchNorm1d: num_features must be >= 1; got {num_features}")
        if momentum is not None and (
            isinstance(momentum, bool)
            or not isinstance(momentum, (int, float))
            or not 0 <= momentum <= 1
        ):
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None; got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = _positive_eps("BatchNorm1d", eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self._dtype = _float_dtype("BatchNorm1d", dtype)
        self.weight = self.bias = None
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, self._dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.num_features, self._dtype))
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, self._dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, self._dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x, self._dtype)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects inputs of shape (N, "
                f"{self.num_features}) or (N, {self.num_features}, L); got shape {x.shape}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / int(self.num_batches_tracked.data)
        # The batch's statistics when training, or when there are no running ones to use.
        use_batch = self.training or self.running_mean is None
        update = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


def _positive_eps(name: str, eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"{name}: eps must be a number > 0; got {eps!r}")
    return float(eps)
