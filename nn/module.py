"""``Module``, ``Parameter`` and ``Sequential``: the containers every layer and model is built from.

A module finds its parameters and sub-modules by looking at its own attributes (in the order they
were first assigned), including lists, tuples and dicts of them, so no registration call is needed.
Buffers (state that is saved but not trained, such as BatchNorm's running statistics) are the one
thing that is registered: ``register_buffer`` marks an attribute as one, because a plain Tensor
attribute could as well be a cache or a constant that does not belong in a checkpoint.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
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

    def __setattr__(self, name: str, value: Any) -> None:
        # A buffer keeps being a buffer when reassigned (as in PyTorch), so it must stay a Tensor:
        # an array assigned here would silently drop out of the state dict.
        if name in _buffer_table(self) and not (value is None or isinstance(value, Tensor)):
            raise TypeError(
                f"cannot assign a {type(value).__name__} to buffer {name!r} of "
                f"{type(self).__name__}: a buffer holds a Tensor or None. Wrap it: Tensor(value)"
            )
        object.__setattr__(self, name, value)

    # ----- registration -----------------------------------------------------------------------
    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as ``self.<name>``: not a parameter (no optimizer updates it), but in
        ``state_dict()`` and loaded by ``load_state_dict()`` unless ``persistent=False``.

        Buffers are saved after the module's own parameters, under their dotted names (BatchNorm's
        ``running_mean``, ``running_var``, ``num_batches_tracked``), as in PyTorch. ``None``
        registers a buffer that is left out until a Tensor is assigned.
        """
        _check_new_name(self, name, "register_buffer", table=_buffer_table(self))
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer({name!r}, ...): a buffer is a Tensor or None; got "
                f"{type(tensor).__name__}. Wrap arrays: Tensor(array)"
            )
        if isinstance(tensor, Parameter):
            raise TypeError(
                f"register_buffer({name!r}, ...): got a Parameter; assign it as an attribute "
                f"instead (self.{name} = param), so that optimizers see it"
            )
        if not isinstance(persistent, bool):
            raise TypeError(f"register_buffer: persistent must be a bool; got {persistent!r}")
        if "_buffers" not in vars(self):
            object.__setattr__(self, "_buffers", {})
        self._buffers[name] = persistent
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add ``module`` as the sub-module ``self.<name>`` (for names made at run time)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module({name!r}, ...): expected an nn.Module or None; got "
                f"{type(module).__name__}"
            )
        _check_new_name(self, name, "add_module", table=_child_table(self))
        setattr(self, name, module)

    register_module = add_module

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` as ``self.<name>`` (for names made at run time)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter({name!r}, ...): expected an nn.Parameter or None; got "
                f"{type(param).__name__}. Wrap it: nn.Parameter(data)"
            )
        _check_new_name(self, name, "register_parameter", table=_parameter_table(self))
        setattr(self, name, param)

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` ("" is this module), e.g. ``"encoder.0"``."""
        modules = dict(self.named_modules(remove_duplicate=False))
        if target not in modules:
            raise AttributeError(
                f"{type(self).__name__} has no sub-module {target!r}; it has {list(modules)[1:]}"
            )
        return modules[target]

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

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) of every buffer that is not None, persistent or not."""
        seen: set[int] = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, value in module._own_buffers(persistent_only=False):
                if remove_duplicate and id(value) in seen:
                    continue
                seen.add(id(value))
                yield _join(module_name, name), value

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer that is not None, each once."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _own_buffers(self, persistent_only: bool) -> Iterator[tuple[str, Tensor]]:
        own = vars(self)
        for name, persistent in _buffer_table(self).items():
            value = own.get(name)
            if value is not None and (persistent or not persistent_only):
                yield name, value

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module and then on this one (children first, as PyTorch);
        returns self. The usual use is initialisation: ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

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
        """An ordered dict from each parameter's and persistent buffer's dotted name to a copy of
        its array: per module its parameters, then its buffers, parents first (PyTorch's order,
        so the keys line up with a PyTorch model's)."""
        return OrderedDict((name, tensor.data.copy()) for name, tensor in self._state_tensors())

    def _state_tensors(self) -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules(remove_duplicate=False):
            for name, value in module._members():
                if isinstance(value, Parameter):
                    yield _join(module_name, name), value
            for name, value in module._own_buffers(persistent_only=True):
                yield _join(module_name, name), value

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters (and persistent buffers) of the
        same names, in place.

        Values may be NumPy arrays or anything ``np.asarray`` accepts (e.g. torch tensors); they
        are cast to each tensor's dtype. Everything is checked before anything is copied, so
        on any error the module is left unchanged: a missing or (with ``strict``) unexpected key
        is a ``KeyError``, a shape mismatch a ``ValueError``, each naming the key.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict expects a mapping from names to arrays (e.g. model.state_dict() "
                f"or nn.load(path)); got {type(state_dict).__name__}"
            )
        own = OrderedDict(self._state_tensors())
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
                f"parameters or buffers of those names; it expects {list(own)}. Pass "
                f"strict=False to ignore."
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
            # An integer buffer (num_batches_tracked) takes a whole float too (copy_ alone
            # refuses float -> int), but not a fraction, which the cast would cut silently.
            if parameter.dtype.kind in "iu" and array.dtype.kind == "f":
                if not np.array_equal(array, np.round(array)):
                    raise ValueError(
                        f"load_state_dict: key {name!r} is an integer buffer but the state dict "
                        f"holds fractions ({array.ravel()[:3].tolist()})"
                    )
            arrays[name] = array.astype(parameter.dtype, copy=False)
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
        # PyTorch's layout: extra_repr's lines, then "(name): child" indented by two spaces.
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self.named_children()
        ]
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra_lines[0]})"
        lines = extra_lines + child_lines
        if not lines:
            return f"{type(self).__name__}()"
        body = "".join(f"\n  {line}" for line in lines)
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

    def add_module(self, name: str, module: Module | None) -> None:
        """Add ``module`` at the end under ``name`` (or replace the one of that name in place),
        so that ``forward`` runs it, as PyTorch's Sequential does."""
        if name in self._names and isinstance(module, Module):
            setattr(self, name, module)
        else:
            self._add(name, module)

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


def _buffer_table(module: Module) -> dict[str, bool]:
    """{buffer name: persistent} of ``module`` (empty for a module that registered none)."""
    return vars(module).get("_buffers", _NO_BUFFERS)


_NO_BUFFERS: dict[str, bool] = {}


def _child_table(module: Module) -> set[str]:
    return {name for name, value in vars(module).items() if isinstance(value, Module)}


def _parameter_table(module: Module) -> set[str]:
    return {name for name, value in vars(module).items() if isinstance(value, Parameter)}


def _check_new_name(module: Module, name: Any, what: str, table: Any) -> None:
    """A name can be (re)registered if it is a plain attribute name that is free or already of
    the same kind (``table``): never one that would hide a method or another kind of member."""
    if not isinstance(name, str):
        raise TypeError(f"{what}: the name must be a string; got {type(name).__name__}")
    if not name or "." in name or not name.isidentifier() and not name.isdigit():
        raise KeyError(
            f"{what}: bad name {name!r}; use a non-empty name without '.' (an identifier or a "
            f"number), since dotted names address sub-modules in state dicts"
        )
    if name in table:
        return
    if name in vars(module) or hasattr(type(module), name):
        raise KeyError(
            f"{what}: attribute {name!r} already exists on {type(module).__name__}; choose "
            f"another name"
        )


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
