"""``Module``, ``Parameter`` and ``Sequential``: the containers every layer and model is built from.

A module finds its parameters and sub-modules by looking at its own attributes (in the order they
were first assigned), including lists, tuples and dicts of them, so no registration call is needed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd_lite import Tensor


class Parameter(Tensor):
    """A Tensor that a ``Module`` owns and an optimizer updates: ``requires_grad`` is always True.

    Like ``Tensor(data)``, it copies its data; the data must be floating point.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` could not match, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclasses set attributes in ``__init__`` and define
    ``forward``; calling the module calls ``forward``.

    Parameters are the attributes that are ``Parameter`` objects, sub-modules the ones that are
    ``Module`` objects; both are also found inside list, tuple and dict attributes (named
    ``attr.0``, ``attr.key``). Plain Tensors, even with ``requires_grad=True``, are not parameters,
    as in PyTorch: wrap them in ``Parameter``.
    """

    training = True  # a class default, so a subclass that skips super().__init__() still works

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(): define forward(self, x) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----- discovery --------------------------------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Parameter | Module]]:
        """(local name, value) of every own parameter and direct sub-module, in attribute order."""
        for attr, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield attr, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Module)):
                        yield f"{attr}.{i}", item
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, (Parameter, Module)):
                        yield f"{attr}.{key}", item

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of each direct sub-module, each module once."""
        seen: set[int] = set()
        for name, value in self._members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module (name ``prefix``) and every module inside it,
        parents before children (PyTorch's order). A module shared by two parents is listed
        once unless ``remove_duplicate=False``."""
        seen: set[int] = set()
        # Explicit stack of (name, module, ids on the path), so a cycle cannot recurse forever.
        stack: list[tuple[str, Module, frozenset[int]]] = [(prefix, self, frozenset())]
        while stack:
            name, module, path = stack.pop()
            if id(module) in path or (remove_duplicate and id(module) in seen):
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (_join(name, child_name), child, path | {id(module)})
                for child_name, child in module._members()
                if isinstance(child, Module)
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), e.g. ``0.weight`` or ``hidden.bias``.

        PyTorch's order: a module's own parameters in the order they were assigned, then those
        of each sub-module in turn. A parameter shared by two modules comes once unless
        ``remove_duplicate=False``.
        """
        seen: set[int] = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, value in module._members():
                if not isinstance(value, Parameter):
                    continue
                if remove_duplicate and id(value) in seen:
                    continue
                seen.add(id(value))
                yield _join(module_name, name), value

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each once, in ``named_parameters`` order."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    # ----- training ---------------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None, as PyTorch does."""
        for parameter in self.parameters():
            parameter.grad = None

    def train(self, mode: bool = True) -> Module:
        """Put this module and all inside it in training mode (``.training``); returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Put this module and all inside it in evaluation mode; same as ``train(False)``."""
        return self.train(False)

    # ----- state ------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An ordered dict from each parameter's dotted name to a copy of its array."""
        return OrderedDict(
            (name, parameter.data.copy())
            for name, parameter in self.named_parameters(remove_duplicate=False)
        )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters of the same names, in place.

        Values may be NumPy arrays or anything ``np.asarray`` accepts (e.g. torch tensors); they
        are cast to each parameter's dtype. Everything is checked before anything is copied, so
        on any error the module is left unchanged: a missing or (with ``strict``) unexpected key
        is a ``KeyError``, a shape mismatch a ``ValueError``, each naming the key.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict expects a mapping from names to arrays (e.g. model.state_dict() "
                f"or nn.load(path)); got {type(state_dict).__name__}"
            )
        own = OrderedDict(self.named_parameters(remove_duplicate=False))
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if strict and missing:
            raise KeyError(
                f"load_state_dict: missing key(s) {missing} for {type(self).__name__}; the model "
                f"expects {list(own)}. Pass strict=False to load the rest."
            )
        if strict and unexpected:
            raise KeyError(
                f"load_state_dict: unexpected key(s) {unexpected}: {type(self).__name__} has no "
                f"parameters of those names; it expects {list(own)}. Pass strict=False to ignore."
            )
        arrays = {}
        for name, parameter in own.items():
            if name not in state_dict:
                continue
            array = _as_numeric_array(state_dict[name], name)
            if array.shape != parameter.shape:
                raise ValueError(
                    f"load_state_dict: shape mismatch for key {name!r}: the state dict has shape "
                    f"{array.shape} but the parameter has shape {parameter.shape}"
                )
            arrays[name] = array
        from autograd_lite import no_grad  # here: the rest of this module records as usual

        # In place through copy_: optimizers keep holding the same Parameter, and its version
        # moves, so a graph recorded before the load refuses a backward through the old values.
        with no_grad():
            for name, array in arrays.items():
                own[name].copy_(array)
        return IncompatibleKeys(missing, unexpected)

    # ----- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """What goes inside the parentheses of this module's repr (e.g. the sizes)."""
        return ""

    def __repr__(self) -> str:
        lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self.named_children()
        ]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "".join(f"\n  {line}" for line in ([extra] if extra else []) + lines)
        return f"{type(self).__name__}({body}\n)"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Sub-modules are named ``0``, ``1``, ... (or by the keys of a single ordered dict argument),
    so parameter names read ``0.weight``, as in PyTorch. Indexable, sliceable, iterable.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            named = list(modules[0].items())
        else:
            named = [(str(i), module) for i, module in enumerate(modules)]
        self._names: list[str] = []
        for name, module in named:
            self._add(name, module)

    def _add(self, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential takes nn.Module objects; entry {name!r} is {type(module).__name__}. "
                f"Wrap a function in a Module subclass, or use nn.Tanh() rather than nn.Tanh"
            )
        if not isinstance(name, str) or not name or "." in name or name in vars(self):
            raise ValueError(f"Sequential: bad or repeated module name {name!r}")
        setattr(self, name, module)
        self._names.append(name)

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns self."""
        self._add(str(len(self._names)), module)
        return self

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[Module]:
        return iter([getattr(self, name) for name in self._names])

    def __getitem__(self, index: int | slice) -> Any:
        layers = list(self)
        if isinstance(index, slice):
            return Sequential(*layers[index])
        try:
            return layers[index]
        except IndexError:
            raise IndexError(
                f"Sequential index {index} is out of range for {len(layers)} modules"
            ) from None


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _as_numeric_array(value: Any, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = np.asarray(value)
    except Exception as err:  # e.g. a torch tensor that requires grad
        raise TypeError(
            f"load_state_dict: the value for key {key!r} is not convertible to a NumPy array "
            f"({err}); pass arrays (detach torch tensors first)"
        ) from None
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"load_state_dict: the value for key {key!r} has dtype {array.dtype}; expected numbers"
        )
    return array
