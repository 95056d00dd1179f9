"""``SGD``: stochastic gradient descent with ``torch.optim.SGD``'s options and numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autograd_lite import Tensor, no_grad

from .optimizer import Optimizer, _Required, check_flag, check_nonnegative, required


class SGD(Optimizer):
    """``torch.optim.SGD``'s rule, per parameter with gradient g (−g with ``maximize``):
    g ← g + weight_decay · p; with momentum, the buffer b ← momentum · b + (1 − dampening) · g
    (b = g on the first step) and g ← g + momentum · b with ``nesterov``, else g ← b;
    then p ← p − lr · g. The state entry is ``momentum_buffer`` (only with momentum).

    ``lr`` has no default, as the API contract says; it may be left out only if every group
    gives its own.
    """

    _state_arrays = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float | _Required = required,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        self._check_group(defaults, "SGD")
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        for key in ("lr", "momentum", "dampening", "weight_decay"):
            check_nonnegative(group, key, where)
        for key in ("nesterov", "maximize"):
            check_flag(group, key, where)
        if group["nesterov"] is True and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"{where}: Nesterov momentum needs momentum > 0 and dampening = 0; got momentum "
                f"{group['momentum']!r}, dampening {group['dampening']!r}"
            )

    def _entry_keys(self, group: dict[str, Any]) -> list[str]:
        return ["momentum_buffer"] if group["momentum"] else []

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        with no_grad():
            for group in self.param_groups:
                lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d = -p.grad if group["maximize"] else p.grad
                    if group["weight_decay"]:
                        d = d + group["weight_decay"] * p.data
                    if momentum:
                        state = self.state.setdefault(p, {})
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = state["momentum_buffer"] = d.copy()
                        else:
                            buf *= momentum
                            buf += (1 - dampening) * d if dampening else d
                        d = d + momentum * buf if group["nesterov"] else buf
                    # The update is computed first and subtracted in place: the same bits as
                    # `p.data -= lr * d`, and the subtraction bumps p's version.
                    p.sub_(lr * d)
