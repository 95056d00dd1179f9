"""``Adam`` and ``AdamW``, with ``torch.optim``'s options and numbers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd_lite import Tensor, no_grad

from .optimizer import Optimizer, check_flag, check_nonnegative


class Adam(Optimizer):
    """``torch.optim.Adam``'s rule, step t = 1, 2, ..., gradient g (−g with ``maximize``):
    g ← g + weight_decay · p (with ``decoupled_weight_decay`` instead p ← p (1 − lr · weight_decay),
    AdamW's rule),  m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
    with ``amsgrad`` v̂ ← max(v̂, v) replaces v below,
    p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps).
    State entries: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), and ``max_exp_avg_sq`` (v̂).
    """

    _state_arrays = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _state_counts = ("step",)
    _decoupled = False  # AdamW's default and requirement

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        self._check_group(defaults, self._name)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        for key in ("lr", "eps", "weight_decay"):
            check_nonnegative(group, key, where)
        group.setdefault("decoupled_weight_decay", self._decoupled)  # older state dicts lack it
        for key in ("amsgrad", "maximize", "decoupled_weight_decay"):
            check_flag(group, key, where)
        if self._decoupled and not group["decoupled_weight_decay"]:
            raise ValueError(f"{where}: AdamW always decouples weight decay; use Adam otherwise")
        betas = group["betas"]
        ok = isinstance(betas, (tuple, list)) and len(betas) == 2
        ok = ok and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in betas)
        if not ok or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{where}: betas must be two numbers in [0, 1); got {betas!r}")
        group["betas"] = (float(betas[0]), float(betas[1]))

    def _entry_keys(self, group: dict[str, Any]) -> list[str]:
        keys = ["step", "exp_avg", "exp_avg_sq"]
        return keys + ["max_exp_avg_sq"] if group["amsgrad"] else keys

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        with no_grad():
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if group["maximize"] else p.grad
                    state = self.state.get(p)
                    if not state:
                        state = self.state[p] = {
                            "step": 0,
                            "exp_avg": np.zeros_like(p.data),
                            "exp_avg_sq": np.zeros_like(p.data),
                        }
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = np.zeros_like(p.data)
                    state["step"] += 1
                    if group["weight_decay"] and group["decoupled_weight_decay"]:
                        p.mul_(1 - group["lr"] * group["weight_decay"])
                    elif group["weight_decay"]:
                        g = g + group["weight_decay"] * p.data
                    m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
                    m += (1 - beta1) * (g - m)  # = β₁m + (1 − β₁)g, written as torch's lerp
                    v *= beta2
                    v += (1 - beta2) * (g * g)
                    if group["amsgrad"]:
                        v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    step_size = group["lr"] / (1 - beta1**t)
                    denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
                    p.sub_(step_size * (m / denom))  # computed, then subtracted: the old bits


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), ``torch.optim.AdamW``'s rule:
    each step first shrinks p ← p (1 − lr · weight_decay), then takes the Adam step with the
    plain gradient. Unlike Adam's ``weight_decay`` (an L2 term added to the gradient, which the
    adaptive scaling then divides away for parameters with large gradients), every weight decays
    at the same rate. ``weight_decay`` defaults to 0.01, as in PyTorch.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
