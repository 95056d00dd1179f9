"""Learning-rate schedules, as in ``torch.optim.lr_scheduler``: ``StepLR``, ``ExponentialLR``,
``CosineAnnealingLR`` and ``LambdaLR``.

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups. Call
``scheduler.step()`` once per epoch, after that epoch's ``optimizer.step()`` calls; creating
the scheduler already sets the learning rates of epoch 0. Each uses PyTorch's formulas, including
its recursive ones (each step multiplies the current ``lr``, so a change made to ``group["lr"]``
from outside carries on); ``step(epoch)`` jumps to ``epoch`` with the closed form instead.

``state_dict()`` holds the schedule's settings, ``base_lrs``, ``last_epoch``, ``_step_count`` and
``_last_lr``, under PyTorch's names, so a state dict loads into the PyTorch scheduler and back.
It does not hold the learning rates themselves: they live in the optimizer's state dict, so save
both (``{"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), ...}``).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Mapping
from typing import Any

from .optimizer import Optimizer

# Attributes of PyTorch's schedulers that its state dicts carry but that are not state.
_TORCH_FLAGS = ("_get_lr_called_within_step", "_is_initial")
_COMMON = ("base_lrs", "last_epoch", "_step_count", "_last_lr")


class LRScheduler:
    """Base class: subclasses define ``get_lr()`` (the recursion, from the current ``lr``) and may
    define ``_get_closed_form_lr()`` (from ``base_lrs`` and ``last_epoch``)."""

    _settings: tuple[str, ...] = ()  # the subclass's options, saved in the state dict
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} needs an nn.optim optimizer; got {type(optimizer).__name__}"
            )
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{type(self).__name__}: last_epoch must be an int >= -1")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', needed to "
                        f"resume at last_epoch={last_epoch}. Load the optimizer's state dict "
                        f"first, or create the scheduler with last_epoch=-1 and load its state "
                        f"dict"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True  # the first step sets epoch 0's rates without a decay
        try:
            self.step()
        finally:
            del self._is_initial

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group as the last ``step()`` set it."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``) and set every group's ``lr``."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
                raise ValueError(f"{type(self).__name__}.step: epoch must be an int >= 0")
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # ----- state dicts ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Settings and progress as plain data (lists copied), PyTorch's keys."""
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in vars(self).items()
            if key in self._settings or key in _COMMON
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take the settings and progress from ``state_dict`` (ours or a PyTorch scheduler's)."""
        state = self._checked(state_dict)
        for key, value in state.items():
            setattr(self, key, list(value) if isinstance(value, (list, tuple)) else value)

    def _checked(self, state_dict: Mapping[str, Any], extra: tuple[str, ...] = ()) -> dict:
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name}: expected a dict from scheduler.state_dict()")
        known = (*self._settings, *_COMMON)
        unknown = [k for k in state_dict if k not in known and k not in _TORCH_FLAGS + extra]
        missing = [k for k in _COMMON if k not in state_dict]
        if unknown or missing:
            raise ValueError(
                f"{name}: the state dict does not fit a {type(self).__name__} (unknown keys "
                f"{unknown}, missing keys {missing}); is it another scheduler's?"
            )
        groups = len(self.optimizer.param_groups)
        for key in ("base_lrs", "_last_lr"):
            if len(state_dict[key]) != groups:
                raise ValueError(
                    f"{name}: {key} has {len(state_dict[key])} entries but the optimizer has "
                    f"{groups} parameter groups"
                )
        return {k: state_dict[k] for k in known if k in state_dict}


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊epoch / step_size⌋: multiply by ``gamma`` every ``step_size``
    epochs."""

    _settings = ("step_size", "gamma")

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int; got {step_size!r}")
        self.step_size = step_size
        self.gamma = _nonnegative("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = base_lr · gamma^epoch: multiply by ``gamma`` every epoch."""

    _settings = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _nonnegative("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr − eta_min) (1 + cos(π · epoch / T_max)) / 2: half a cosine from
    base_lr down to ``eta_min`` over ``T_max`` epochs (and back up over the next T_max, as
    PyTorch's, if stepped further).

    Computed as PyTorch does, by the recursion lr ← eta_min + (lr − eta_min) · (1 + cos(π t /
    T_max)) / (1 + cos(π (t − 1) / T_max)), which equals the closed form when nothing else
    changes ``lr``.
    """

    _settings = ("T_max", "eta_min")

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int; got {T_max!r}")
        self.T_max = T_max
        self.eta_min = _nonnegative("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, t_max, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and t > 0:  # resumed at last_epoch > 0: the closed form
            return self._get_closed_form_lr()
        if (t - 1 - t_max) % (2 * t_max) == 0:  # at the bottom: the ratio below would be 0/0
            return [
                lr + (base - low) * (1 - math.cos(math.pi / t_max)) / 2
                for base, lr in zip(self.base_lrs, self._current(), strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
        return [ratio * (lr - low) + low for lr in self._current()]

    def _get_closed_form_lr(self) -> list[float]:
        t, t_max, low = self.last_epoch, self.T_max, self.eta_min
        return [
            low + (base - low) * (1 + math.cos(math.pi * t / t_max)) / 2 for base in self.base_lrs
        ]


class LambdaLR(LRScheduler):
    """lr = base_lr · lr_lambda(epoch), with one function for all groups or a list of one per
    group (e.g. a linear warm-up: ``lambda e: min(1.0, (e + 1) / 5)``).

    The state dict cannot hold functions: its ``lr_lambdas`` entry has None for each plain
    function and the attributes (``__dict__``) of each callable object, as in PyTorch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        groups = len(getattr(optimizer, "param_groups", []))
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(
                    f"LambdaLR: expected {groups} lr_lambdas (one per parameter group); got "
                    f"{len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        if not all(callable(f) for f in self.lr_lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch (or a list)")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base * factor(self.last_epoch)
            for factor, base in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(f, types.FunctionType) else dict(vars(f)) for f in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        state = self._checked(state_dict, extra=("lr_lambdas",))
        saved = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas))
        if len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"LambdaLR.load_state_dict: {len(saved)} lr_lambdas saved for "
                f"{len(self.lr_lambdas)} here"
            )
        for key, value in state.items():
            setattr(self, key, list(value) if isinstance(value, (list, tuple)) else value)
        for f, attributes in zip(self.lr_lambdas, saved, strict=True):
            if attributes is not None:
                vars(f).update(attributes)


def _nonnegative(name: str, label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name}: {label} must be a number >= 0; got {value!r}")
    return float(value)
