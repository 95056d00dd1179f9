"""The way out to PyTorch and back: ``nn.to_torch(model)`` and ``nn.from_torch(module)``.

A model built here from nn's layers becomes the same ``torch.nn`` model (same layers and options,
weights and buffers copied, same dtype, same train/eval mode of every module), so it can keep
training in PyTorch: on GPUs, across machines with ``DistributedDataParallel``, or compiled. The
reverse works for every layer both libraries have. Layer names, options and state-dict keys follow
PyTorch's, so most layers convert with one line in ``CONVERTERS`` below: the class name, and the
constructor options that both classes store as attributes of the same name.

A ``Module`` subclass with its own ``forward`` is code, not a table of layers, and cannot be
translated: write the same class in PyTorch and load ``model.state_dict()`` into it (the keys line
up). Conversion refuses it up front, naming the first module it cannot convert.

torch is imported only inside the two functions: nn never needs it otherwise.
"""

from __future__ import annotations

import inspect
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite import Tensor

from .module import Module

__all__ = ["CONVERTERS", "Converter", "from_torch", "to_torch"]


@dataclass(frozen=True)
class Converter:
    """How one layer crosses. The layer is built on the other side from its class ``name`` (the
    same in ``nn`` and ``torch.nn``) and the constructor ``options``, read back from the module
    (an attribute name, or (argument, getter)); then its state dict (parameters and buffers, the
    keys being PyTorch's on both sides) is copied across. ``random_init``: our constructor draws
    initial values that the copy overwrites; it gets a throwaway generator, so that a conversion
    does not move ``nn.manual_seed``'s stream. ``torch_requires``: options only PyTorch has, with
    the value under which the two layers agree (any other value is refused).
    """

    name: str
    options: tuple[str | tuple[str, Callable[[Any], Any]], ...] = ()
    random_init: bool = False
    torch_requires: tuple[tuple[str, Any], ...] = ()


def _has_bias(module: Any) -> bool:
    return getattr(module, "bias", None) is not None


_WEIGHTED = ("weight", "reduction")

CONVERTERS: tuple[Converter, ...] = (
    # layers with weights
    Converter("Linear", ("in_features", "out_features", ("bias", _has_bias)), random_init=True),
    Converter(
        "Embedding",
        ("num_embeddings", "embedding_dim", "padding_idx"),
        random_init=True,
        torch_requires=(("max_norm", None), ("scale_grad_by_freq", False), ("sparse", False)),
    ),
    Converter("LayerNorm", ("normalized_shape", "eps", "elementwise_affine", ("bias", _has_bias))),
    Converter(
        "BatchNorm1d",
        ("num_features", "eps", "momentum", "affine", "track_running_stats", ("bias", _has_bias)),
    ),
    # shape and regularisation
    Converter("Dropout", ("p",)),
    Converter("Identity"),
    Converter("Flatten", ("start_dim", "end_dim")),
    # activations (PyTorch's inplace flags are left out: they change memory use, not values)
    Converter("Sigmoid"),
    Converter("Tanh"),
    Converter("ReLU"),
    Converter("ReLU6"),
    Converter("LeakyReLU", ("negative_slope",)),
    Converter("ELU", ("alpha",)),
    Converter("CELU", ("alpha",)),
    Converter("SELU"),
    Converter("GELU", ("approximate",)),
    Converter("SiLU"),
    Converter("Mish"),
    Converter("Softplus", ("beta", "threshold")),
    Converter("Softsign"),
    Converter("Hardtanh", ("min_val", "max_val")),
    Converter("Hardsigmoid"),
    Converter("Hardswish"),
    Converter("LogSigmoid"),
    Converter("Softmax", ("dim",)),
    Converter("LogSoftmax", ("dim",)),
    # losses (class weights are buffers in both libraries, so they also travel in the state dict)
    Converter("MSELoss", ("reduction",)),
    Converter("L1Loss", ("reduction",)),
    Converter("SmoothL1Loss", ("reduction", "beta")),
    Converter("HuberLoss", ("reduction", "delta")),
    Converter("BCELoss", _WEIGHTED),
    Converter("BCEWithLogitsLoss", (*_WEIGHTED, "pos_weight")),
    Converter("NLLLoss", (*_WEIGHTED, "ignore_index")),
    Converter("CrossEntropyLoss", (*_WEIGHTED, "ignore_index", "label_smoothing")),
)
# Containers are rebuilt around their converted entries, under the same names.
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def to_torch(model: Module) -> Any:
    """An equivalent ``torch.nn.Module``: the same layers under the same names, parameters and
    buffers copied (same dtype), every module in the same train/eval mode.

    A module shared between two places stays shared. The copy is independent: training one does
    not change the other. ``TypeError`` if ``model`` is not an ``nn.Module``; ``ValueError``
    naming the first module that has no converter (checked before anything is built).
    """
    torch = _import_torch("to_torch")
    if not isinstance(model, Module):
        raise TypeError(f"nn.to_torch expects an nn.Module; got {type(model).__name__}")
    ours = _our_table()
    for path, module in model.named_modules():
        kind = type(module).__name__
        if not (type(module) in ours or _is_container(module, _our_namespace())):
            raise ValueError(
                f"nn.to_torch: {kind} at {_where(path)} has no PyTorch converter. Supported: "
                f"{_supported(ours)}, inside {', '.join(_CONTAINERS)}. A Module subclass with "
                f"its own forward is code that cannot be translated: write it in PyTorch and "
                f"load the state dict (torch_model.load_state_dict({{k: torch.from_numpy(v) for "
                f"k, v in model.state_dict().items()}}))"
            )
    memo: dict[int, Any] = {}

    def convert(module: Module, path: str) -> Any:
        if id(module) in memo:
            return memo[id(module)]
        kind = type(module).__name__
        if kind == "Sequential":
            built = torch.nn.Sequential(
                OrderedDict((n, convert(m, _join(path, n))) for n, m in _sequential_items(module))
            )
        elif kind == "ModuleList":
            built = torch.nn.ModuleList(
                [convert(m, _join(path, str(i))) for i, m in enumerate(module)]
            )
        elif kind == "ModuleDict":
            built = torch.nn.ModuleDict(
                OrderedDict((n, convert(m, _join(path, n))) for n, m in module.items())
            )
        else:
            built = _leaf_to_torch(torch, module, ours[type(module)], path)
        built.training = module.training
        memo[id(module)] = built
        return built

    with torch.random.fork_rng(devices=[]):  # building layers must not move torch's seed stream
        return convert(model, "")


def from_torch(module: Any) -> Module:
    """The nn model equivalent to the ``torch.nn.Module`` ``module``: the reverse of
    ``to_torch``, for the layers both libraries have (CPU or GPU tensors; float32 or float64).

    ``TypeError`` if ``module`` is not a ``torch.nn.Module``; ``ValueError`` naming the first
    module that nn has no counterpart for, or a layer option nn does not support.
    """
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"nn.from_torch expects a torch.nn.Module; got {type(module).__name__}")
    theirs = {
        getattr(torch.nn, spec.name): spec for spec in CONVERTERS if hasattr(torch.nn, spec.name)
    }
    ours = {cls.__name__: cls for cls in _our_table()}
    for path, child in module.named_modules():
        if not (type(child) in theirs and type(child).__name__ in ours) and not _is_container(
            child, torch.nn
        ):
            kind = f"{type(child).__module__}.{type(child).__qualname__}"
            raise ValueError(
                f"nn.from_torch: {kind} at {_where(path)} has no counterpart in nn. Supported: "
                f"{_supported(ours.values())}, inside {', '.join(_CONTAINERS)}"
            )
    namespace = _our_namespace()
    memo: dict[int, Module] = {}

    def convert(child: Any, path: str) -> Module:
        if id(child) in memo:
            return memo[id(child)]
        kind = type(child).__name__
        if kind == "Sequential":
            items = [(n, convert(m, _join(path, n))) for n, m in child._modules.items()]
            built = namespace.Sequential(OrderedDict(items))
        elif kind == "ModuleList":
            built = namespace.ModuleList(
                [convert(m, _join(path, str(i))) for i, m in enumerate(child)]
            )
        elif kind == "ModuleDict":
            built = namespace.ModuleDict(
                OrderedDict((n, convert(m, _join(path, n))) for n, m in child.items())
            )
        else:
            built = _leaf_from_torch(torch, child, ours[kind], theirs[type(child)], path)
        built.training = child.training
        memo[id(child)] = built
        return built

    return convert(module, "")


# ----- one layer ------------------------------------------------------------------------------
def _leaf_to_torch(torch: Any, module: Module, spec: Converter, path: str) -> Any:
    options = {name: _to_torch_value(torch, value) for name, value in _options(spec, module)}
    state = module.state_dict()
    floats = [a.dtype for a in state.values() if np.issubdtype(a.dtype, np.floating)]
    try:
        built = getattr(torch.nn, spec.name)(**options)
        if floats:
            built.to(getattr(torch, np.dtype(floats[0]).name))  # float64 stays float64
        built.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    except (TypeError, ValueError, RuntimeError) as err:  # e.g. an option torch's layer lacks
        raise ValueError(
            f"nn.to_torch: {type(module).__name__} at {_where(path)} could not be converted: {err}"
        ) from err
    return built


def _leaf_from_torch(torch: Any, module: Any, cls: type, spec: Converter, path: str) -> Module:
    where = f"{type(module).__name__} at {_where(path)}"
    for option, required in spec.torch_requires:
        if getattr(module, option) != required:
            raise ValueError(
                f"nn.from_torch: {where} has {option}={getattr(module, option)!r}; nn's "
                f"{spec.name} supports only {option}={required!r}"
            )
    options = {name: _to_numpy_value(torch, value) for name, value in _options(spec, module)}
    state = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    floats = [a.dtype for a in state.values() if np.issubdtype(a.dtype, np.floating)]
    if floats and floats[0] not in (np.float32, np.float64):
        raise ValueError(
            f"nn.from_torch: {where} holds {floats[0]} values; nn computes in float32 or "
            f"float64: convert first (module.double() or module.float())"
        )
    accepted = inspect.signature(cls).parameters
    if floats and "dtype" in accepted:
        options["dtype"] = floats[0]
    if spec.random_init and "rng" in accepted:
        options["rng"] = np.random.default_rng(0)  # overwritten below by the state dict
    try:
        built = cls(**options)
        built.load_state_dict(state)
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"nn.from_torch: {where} could not be converted: {err}") from err
    return built


def _options(spec: Converter, module: Any) -> list[tuple[str, Any]]:
    pairs = []
    for option in spec.options:
        name, read = option if isinstance(option, tuple) else (option, None)
        pairs.append((name, read(module) if read else getattr(module, name)))
    return pairs


def _to_torch_value(torch: Any, value: Any) -> Any:
    if isinstance(value, Tensor):
        value = value.data
    return torch.from_numpy(np.array(value)) if isinstance(value, np.ndarray) else value


def _to_numpy_value(torch: Any, value: Any) -> Any:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


# ----- helpers --------------------------------------------------------------------------------
def _our_namespace() -> Any:
    return sys.modules[__package__]  # the nn package; looked up late, as it imports this module


def _our_table() -> dict[type, Converter]:
    namespace = _our_namespace()
    return {
        getattr(namespace, spec.name): spec for spec in CONVERTERS if hasattr(namespace, spec.name)
    }


def _is_container(module: Any, namespace: Any) -> bool:
    return any(type(module) is getattr(namespace, name, None) for name in _CONTAINERS)


def _sequential_items(module: Any) -> list[tuple[str, Module]]:
    # Every entry, repeats included (named_children would list a module used twice only once).
    return [(name, getattr(module, name)) for name in module._names]


def _supported(classes: Any) -> str:
    return ", ".join(sorted(cls.__name__ for cls in classes))


def _where(path: str) -> str:
    return f"{path!r}" if path else "the top level (the model itself)"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _import_torch(function: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"nn.{function} needs PyTorch, which is not installed: install the [torch] extra "
            f"(make torch, or pip install -e '.[torch]')"
        ) from None
    return torch
