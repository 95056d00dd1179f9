"""``Optimizer``: parameter groups, per-parameter state and state dicts, as in ``torch.optim``.

State lives in ``opt.state``, a dict keyed by the parameter Tensor itself (Tensors hash by
identity), so it follows the parameter through ``copy.deepcopy((model, opt))`` and pickling, and a
new parameter can never inherit a dead one's moments (as it could with ``id(p)`` keys).

``state_dict()`` is plain data in PyTorch's layout: ``{"state": {index: {...}}, "param_groups":
[{hyperparameters..., "params": [index, ...]}]}``, parameters numbered in order across groups, so
it can be saved with ``nn.save`` and loaded into a fresh optimizer over an equal model.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autograd_lite import Tensor


class _Required:
    """The default of a hyperparameter that every group must give when the optimizer does not."""

    def __repr__(self) -> str:
        return "<required>"


required = _Required()


class Optimizer:
    """Base class: ``params`` is an iterable of Tensors (e.g. ``model.parameters()``) or of group
    dicts ``{"params": [...], "lr": ...}``; a group's missing hyperparameters come from
    ``defaults``. Subclasses define ``step()``, ``_check_group`` and ``_state_arrays``."""

    _state_arrays: tuple[str, ...] = ()  # state entries that are arrays of the parameter's shape
    _state_counts: tuple[str, ...] = ()  # state entries that are counts (ints >= 0)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, Mapping)):
            raise TypeError(
                f"{self._name}: params must be an iterable of Tensors (e.g. model.parameters()) "
                f"or of parameter-group dicts; got a single {type(params).__name__}: wrap it in a "
                f"list"
            )
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: optimizer got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a layer to fine-tune)."""
        where = f"{self._name}: parameter group {len(self.param_groups)}"
        if not isinstance(param_group, Mapping):
            raise TypeError(
                f"{where} is a {type(param_group).__name__}; pass either Tensors or dicts such as "
                f'{{"params": [...], "lr": 0.1}}, not a mix'
            )
        if "params" not in param_group:
            raise ValueError(f'{where} has no "params" entry')
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{where}: params is a set, whose order changes from run to run; pass a list"
            )
        params = list(params)
        unique: list[Tensor] = []
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: parameter {i} is {type(p).__name__}, not a Tensor")
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(
                    f"{where}: parameter {i} (shape {p.shape}) must be a leaf Tensor with "
                    f"requires_grad=True, such as an nn.Parameter"
                )
            if id(p) not in seen:  # a parameter listed twice would be updated twice
                seen.add(id(p))
                unique.append(p)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if not taken.isdisjoint(seen):
            raise ValueError(
                f"{where}: some parameters appear in more than one parameter group; give each "
                f"parameter to one group only"
            )
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{where} does not give {key!r}, and the optimizer has no default: pass "
                    f"{key}=... to {self._name}() or put {key!r} in every group"
                )
            group.setdefault(key, default)
        group["params"] = unique
        self._check_group(group, where)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        """Validate (and normalise, e.g. betas to a tuple of floats) a group's hyperparameters."""

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None, as PyTorch does."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    # ----- state dicts ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The state and hyperparameters as plain data (arrays copied, parameters numbered)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: v.copy() if isinstance(v, np.ndarray) else v
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take state and hyperparameters from ``state_dict`` (e.g. from ``nn.load``).

        The groups must match this optimizer's in number and size; state arrays must have their
        parameter's shape and are copied (cast to its dtype), so later changes to ``state_dict``
        do not reach the optimizer. The group dicts stay the same objects (updated in place), so
        code holding ``opt.param_groups[i]`` keeps seeing the live values. Everything is checked
        before anything changes: on any error (a ``ValueError`` naming the entry) the optimizer is
        left as it was.
        """
        what = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            found = list(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
            raise ValueError(
                f"{what}: expected a dict with the keys 'state' and 'param_groups' (from "
                f"optimizer.state_dict()); got {found}"
            )
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, Mapping):
            raise ValueError(f"{what}: 'param_groups' must be a list and 'state' a dict")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{what}: the state dict has {len(saved_groups)} parameter groups but this "
                f"optimizer has {len(self.param_groups)}"
            )
        params: list[tuple[Tensor, dict[str, Any]]] = []  # each parameter with its new group
        new_groups = []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            where = f"{what}: parameter group {g}"
            if not isinstance(saved, Mapping) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(f'{where} must be a dict with a "params" list')
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{where} has {len(saved['params'])} parameters in the state dict but "
                    f"{len(group['params'])} in this optimizer"
                )
            new = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            new["params"] = group["params"]
            self._check_group(new, where)
            new_groups.append(new)
            params.extend((p, new) for p in group["params"])
        new_state = {}
        for key, entry in saved_state.items():
            try:
                i = operator.index(key)
            except TypeError:
                raise ValueError(f"{what}: state key {key!r} is not a parameter index") from None
            if not 0 <= i < len(params):
                raise ValueError(
                    f"{what}: state key {i} is out of range: this optimizer has {len(params)} "
                    f"parameters"
                )
            p, group = params[i]
            new_state[p] = self._load_entry(entry, p, group, f"{what}: state[{i}]")
        for group, new in zip(self.param_groups, new_groups, strict=True):
            group.update(new)
        self.state = new_state

    def _load_entry(
        self, entry: Any, p: Tensor, group: dict[str, Any], where: str
    ) -> dict[str, Any]:
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be a dict; got {type(entry).__name__}")
        known = (*self._state_arrays, *self._state_counts)
        unknown = [k for k in entry if k not in known]
        if unknown:
            raise ValueError(
                f"{where} has entries {unknown} that {self._name} does not keep (it keeps "
                f"{list(known)}); is it another optimizer's state dict?"
            )
        loaded: dict[str, Any] = {}
        for key, value in entry.items():
            if key in self._state_counts:
                loaded[key] = _count(value, f"{where}[{key!r}]")
                continue
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.dtype.kind not in "biuf":
                raise ValueError(f"{where}[{key!r}] has dtype {array.dtype}; expected numbers")
            if array.shape != p.shape:
                raise ValueError(
                    f"{where}[{key!r}] has shape {array.shape} but its parameter has shape "
                    f"{p.shape}"
                )
            loaded[key] = array.astype(p.dtype, copy=True)
        missing = [k for k in self._entry_keys(group) if k not in loaded]
        if loaded and missing:
            raise ValueError(f"{where} lacks the entries {missing} that {self._name} needs")
        return loaded

    def _entry_keys(self, group: dict[str, Any]) -> list[str]:
        """The entries that a non-empty state entry must have under ``group``'s settings."""
        return [*self._state_arrays, *self._state_counts]


def _count(value: Any, where: str) -> int:
    count = np.asarray(value)  # an int, or torch's 0-d step tensor as an array
    if count.shape == () and count.dtype.kind in "iuf" and np.isfinite(count):
        if count >= 0 and count == int(count):
            return int(count)
    raise ValueError(f"{where} must be a whole number >= 0; got {value!r}")


def check_nonnegative(group: dict[str, Any], key: str, where: str) -> None:
    """Require ``group[key]`` to be a real number >= 0, and store it as a float."""
    value = group[key]
    if value is required:  # checked per group, once the groups are known
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{where}: {key} must be a number >= 0; got {value!r}")
    group[key] = float(value)


def check_flag(group: dict[str, Any], key: str, where: str) -> None:
    """Require ``group[key]`` to be a bool: a string such as "False" would read as true."""
    if not isinstance(group[key], (bool, np.bool_)):
        raise ValueError(f"{where}: {key} must be True or False; got {group[key]!r}")
    group[key] = bool(group[key])
