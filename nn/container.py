"""``ModuleList`` and ``ModuleDict``: sub-modules held by position or by key, as in PyTorch.

A plain Python list of layers already works as an attribute (``Module`` looks inside lists), but
these containers can also be indexed, extended and handed around as modules, and their entries are
named ``0``, ``1``, ... or by key in parameter names and state dicts (``blocks.0.weight``), exactly
as PyTorch names them, so checkpoints line up. Neither has a ``forward``: the parent module
decides how its entries are called.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module


class ModuleList(Module):
    """Modules in a list: ``ModuleList([a, b])[1] is b``; ``append``, ``extend``, ``insert``,
    slicing (a new ``ModuleList`` of the same modules), ``del``, ``len`` and iteration."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if modules is not None:
            self.extend(modules)

    def _entries(self) -> list[Module]:
        own = vars(self)
        return [own[str(i)] for i in range(self._size)]

    def _rebuild(self, modules: list[Module]) -> None:
        # Entries are attributes "0", "1", ...; rewriting all of them keeps the attribute order
        # (which fixes the parameter order) equal to the list order after an insert or a delete.
        for i in range(self._size):
            delattr(self, str(i))
        object.__setattr__(self, "_size", 0)
        for module in modules:
            self.append(module)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(): it only holds modules. Call its entries in your own "
            "module's forward (for layer in self.layers: x = layer(x)), or use nn.Sequential"
        )

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        _check_module(module, f"ModuleList entry {self._size}")
        setattr(self, str(self._size), module)
        object.__setattr__(self, "_size", self._size + 1)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of ``modules``; returns self."""
        if isinstance(modules, Module) and not hasattr(modules, "__iter__"):
            raise TypeError("ModuleList.extend takes an iterable of modules; use append for one")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        _check_module(module, f"ModuleList entry {index}")
        modules = self._entries()
        modules.insert(index, module)
        self._rebuild(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Module]:
        return iter(self._entries())

    def __getitem__(self, index: int | slice) -> Any:
        modules = self._entries()
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[self._position(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        _check_module(module, f"ModuleList entry {index}")
        setattr(self, str(self._position(index)), module)

    def __delitem__(self, index: int | slice) -> None:
        modules = self._entries()
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._position(index)]
        self._rebuild(modules)

    def _position(self, index: Any) -> int:
        if isinstance(index, bool) or not hasattr(index, "__index__"):
            raise TypeError(f"ModuleList indices are integers or slices; got {index!r}")
        i = index.__index__()
        if not -self._size <= i < self._size:
            raise IndexError(f"ModuleList index {i} is out of range for {self._size} modules")
        return i % self._size

    def __repr__(self) -> str:
        # PyTorch's: runs of equal entries collapse to "(0-2): 3 x Linear(...)".
        reprs = [repr(module) for module in self]
        if not reprs:
            return "ModuleList()"
        runs: list[list[Any]] = []  # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for first, last, text in runs:
            head = f"({first}): " if first == last else f"({first}-{last}): {last - first + 1} x "
            lines.append((head + text).replace("\n", "\n  "))
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """Modules by name, in insertion order: ``ModuleDict({"encoder": a, "head": b})["head"]``.

    Keys are names in parameter paths (``heads.cls.weight``), so they are non-empty strings without
    ``.``, and may not hide a Module attribute or method (``"training"``, ``"forward"``).
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        object.__setattr__(self, "_keys", [])
        if modules is not None:
            self.update(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleDict has no forward(): it only holds modules. Call its entries in your own "
            "module's forward (self.heads[name](x))"
        )

    def __getitem__(self, key: str) -> Module:
        if key not in self._keys:
            raise KeyError(f"ModuleDict has no key {key!r}; its keys are {self._keys}")
        return vars(self)[key]

    def __setitem__(self, key: str, module: Module) -> None:
        _check_module(module, f"ModuleDict entry {key!r}")
        if key not in self._keys:
            self.add_module(key, module)  # checks the name
            self._keys.append(key)
        else:
            setattr(self, key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 -- the KeyError that names the keys
        delattr(self, key)
        self._keys.remove(key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> list[str]:
        return list(self._keys)

    def values(self) -> list[Module]:
        return [vars(self)[key] for key in self._keys]

    def items(self) -> list[tuple[str, Module]]:
        return [(key, vars(self)[key]) for key in self._keys]

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for entry in pairs:
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
                raise TypeError(
                    f"ModuleDict.update takes a mapping or (key, module) pairs; got {entry!r}"
                )
            self[entry[0]] = entry[1]


def _check_module(module: Any, where: str) -> None:
    if not isinstance(module, Module):
        raise TypeError(
            f"{where} must be an nn.Module; got {type(module).__name__}"
            + (" (a class: call it, e.g. nn.ReLU())" if isinstance(module, type) else "")
        )
