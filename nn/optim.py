"""Optimizers with ``torch.optim``'s update rules: ``SGD`` (with momentum) and ``Adam``.

``step()`` updates each parameter's ``.data`` in place (the Parameter objects stay the same) and
skips parameters whose ``.grad`` is None; ``zero_grad()`` sets every ``.grad`` to None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_lite import Tensor


class Optimizer:
    """Base class: holds the parameters (any iterable, e.g. ``model.parameters()``)."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "optimizer: params must be an iterable of Tensors (e.g. model.parameters()); got a "
                "single Tensor: wrap it in a list"
            )
        self.params: list[Tensor] = []
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer: parameter {i} is {type(p).__name__}, not a Tensor")
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(
                    f"optimizer: parameter {i} (shape {p.shape}) must be a leaf Tensor with "
                    f"requires_grad=True, such as an nn.Parameter"
                )
            if id(p) not in seen:  # a parameter listed twice would be updated twice
                seen.add(id(p))
                self.params.append(p)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None, as PyTorch does."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError


def _check_nonnegative(name: str, value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name}: {what} must be a number >= 0; got {value!r}")
    return float(value)


class SGD(Optimizer):
    """p ← p − lr · d, where d = g without momentum, and with momentum the buffer
    b ← momentum · b + g (b = g on the first step), d = b: ``torch.optim.SGD``'s rule."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _check_nonnegative("SGD", lr, "lr")
        self.momentum = _check_nonnegative("SGD", momentum, "momentum")
        self.momentum_buffers: dict[int, np.ndarray] = {}

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for p in self.params:
            if p.grad is None:
                continue
            d = p.grad
            if self.momentum:
                buf = self.momentum_buffers.get(id(p))
                if buf is None:
                    buf = self.momentum_buffers[id(p)] = d.copy()
                else:
                    buf *= self.momentum
                    buf += d
                d = buf
            p.data -= self.lr * d


class Adam(Optimizer):
    """``torch.optim.Adam``'s rule, step t = 1, 2, ...:
    m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
    p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr = _check_nonnegative("Adam", lr, "lr")
        self.eps = _check_nonnegative("Adam", eps, "eps")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1); got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.state: dict[int, dict] = {}

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        beta1, beta2 = self.betas
        for p in self.params:
            if p.grad is None:
                continue
            g = p.grad
            state = self.state.get(id(p))
            if state is None:
                state = self.state[id(p)] = {
                    "step": 0,
                    "exp_avg": np.zeros_like(p.data),
                    "exp_avg_sq": np.zeros_like(p.data),
                }
            state["step"] += 1
            m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
            m += (1 - beta1) * (g - m)  # = β₁m + (1 − β₁)g, written as torch's lerp
            v *= beta2
            v += (1 - beta2) * (g * g)
            step_size = self.lr / (1 - beta1**t)
            denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + self.eps
            p.data -= step_size * (m / denom)
