"""``RMSprop`` and ``Adagrad``: per-element step sizes from running squared gradients, with
``torch.optim``'s options, state names and numbers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autograd_lite import Tensor, no_grad

from .optimizer import Optimizer, check_flag, check_nonnegative


class RMSprop(Optimizer):
    """``torch.optim.RMSprop``'s rule, per parameter with gradient g (−g with ``maximize``):
    g ← g + weight_decay · p,  s ← α s + (1 − α) g²;  with ``centered`` also the mean gradient
    ḡ ← α ḡ + (1 − α) g and a = √(s − ḡ²) + eps (the variance), else a = √s + eps;
    with ``momentum`` μ the buffer b ← μ b + g / a and p ← p − lr · b, else p ← p − lr · g / a.
    State entries: ``step``, ``square_avg`` (s), ``momentum_buffer`` (b, with momentum > 0) and
    ``grad_avg`` (ḡ, with ``centered``).
    """

    _state_arrays = ("square_avg", "momentum_buffer", "grad_avg")
    _state_counts = ("step",)

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        self._check_group(defaults, "RMSprop")
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        for key in ("lr", "momentum", "alpha", "eps", "weight_decay"):
            check_nonnegative(group, key, where)
        if group["alpha"] > 1:
            raise ValueError(
                f"{where}: alpha (the smoothing constant) must be in [0, 1]; got {group['alpha']}"
            )
        for key in ("centered", "maximize"):
            check_flag(group, key, where)

    def _entry_keys(self, group: dict[str, Any]) -> list[str]:
        keys = ["step", "square_avg"]
        keys += ["momentum_buffer"] if group["momentum"] > 0 else []
        return keys + (["grad_avg"] if group["centered"] else [])

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        with no_grad():
            for group in self.param_groups:
                alpha, momentum = group["alpha"], group["momentum"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if group["maximize"] else p.grad
                    state = self.state.get(p)
                    if not state:
                        state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p.data)}
                        if momentum > 0:
                            state["momentum_buffer"] = np.zeros_like(p.data)
                        if group["centered"]:
                            state["grad_avg"] = np.zeros_like(p.data)
                    state["step"] += 1
                    if group["weight_decay"]:
                        g = g + group["weight_decay"] * p.data
                    square_avg = state["square_avg"]
                    square_avg *= alpha
                    square_avg += (1 - alpha) * (g * g)
                    if group["centered"]:
                        grad_avg = state["grad_avg"]
                        grad_avg += (1 - alpha) * (g - grad_avg)  # torch's lerp towards g
                        avg = np.sqrt(square_avg - grad_avg * grad_avg)
                    else:
                        avg = np.sqrt(square_avg)
                    avg += group["eps"]
                    if momentum > 0:
                        buf = state["momentum_buffer"]
                        buf *= momentum
                        buf += g / avg
                        p.sub_(group["lr"] * buf)
                    else:
                        p.sub_(group["lr"] * (g / avg))


class Adagrad(Optimizer):
    """``torch.optim.Adagrad``'s rule, step t = 1, 2, ..., gradient g (−g with ``maximize``):
    g ← g + weight_decay · p,  s ← s + g²,  p ← p − lr / (1 + (t − 1) lr_decay) · g / (√s + eps).
    Every parameter's state starts at construction, as in PyTorch: ``step`` 0 and ``sum`` (s)
    filled with ``initial_accumulator_value``.
    """

    _state_arrays = ("sum",)
    _state_counts = ("step",)

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        self._check_group(defaults, "Adagrad")
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        for key in ("lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value"):
            check_nonnegative(group, key, where)
        check_flag(group, "maximize", where)

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = {
                "step": 0,
                "sum": np.full_like(p.data, group["initial_accumulator_value"]),
            }

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if group["maximize"] else p.grad
                    state = self.state.get(p)
                    if not state:  # e.g. after loading a state dict that had no entry for p
                        value = group["initial_accumulator_value"]
                        state = self.state[p] = {"step": 0, "sum": np.full_like(p.data, value)}
                    state["step"] += 1
                    if group["weight_decay"]:
                        g = g + group["weight_decay"] * p.data
                    clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                    state["sum"] += g * g
                    std = np.sqrt(state["sum"]) + group["eps"]
                    p.sub_(clr * (g / std))
