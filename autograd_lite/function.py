"""The base class every operation derives from, and the broadcasting rule shared by all of them.

An operation is one small class: ``forward`` computes the value from NumPy arrays, ``backward``
maps the gradient of the output to the gradient of each input. Its docstring states the local
derivative. ``Function.apply`` wraps the arrays in a ``Tensor`` and records the node in the graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import engine

if TYPE_CHECKING:
    from .tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving it ``shape``.

    Broadcasting copies an input along those axes, so by the chain rule the copies' gradients add.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:  # never reshape to fit: that would hide a wrong backward
        raise ValueError(f"a gradient of shape {grad.shape} does not reduce to shape {shape}")
    return grad


class Function:
    """One recorded operation: its inputs, its parameters and what backward needs from forward.

    Subclasses define ``forward(*arrays, **params) -> array`` and ``backward(grad) -> tuple`` with
    one gradient (or ``None``) per input, each of the input's shape or broadcastable to it.
    """

    __slots__ = ("inputs", "params", "needs_input_grad", "saved", "freed")

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    def save(self, *arrays: Any) -> None:
        """Keep what backward needs; released after backward unless ``retain_graph=True``."""
        self.saved = arrays

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        Tensor = _tensor.Tensor
        tensors = tuple(x if isinstance(x, Tensor) else _constant(x, inputs) for x in inputs)
        fn = cls()
        try:
            data = fn.forward(*(t.data for t in tensors), **params)
        except ValueError as err:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{cls.__name__.lower()} of shapes {shapes}: {err}") from None
        if not (engine.grad_enabled() and any(t.requires_grad for t in tensors)):
            return Tensor._make(data, False, None)
        fn.inputs = tensors
        fn.params = params
        fn.needs_input_grad = tuple(t.requires_grad for t in tensors)
        fn.freed = False
        return Tensor._make(data, True, fn)

    def input_grads(self, grad: np.ndarray) -> list[tuple[Tensor, np.ndarray]]:
        """(input, gradient) for each input that requires grad, in the input's shape and dtype."""
        pairs = []
        for t, need, g in zip(self.inputs, self.needs_input_grad, self.backward(grad), strict=True):
            if need and g is not None:
                try:
                    g = unbroadcast(np.asarray(g), t.data.shape)
                except ValueError as err:
                    raise RuntimeError(f"{self.name}.backward is wrong: {err}") from None
                if g.dtype != t.data.dtype:
                    g = g.astype(t.data.dtype)
                pairs.append((t, g))
        return pairs

    def free(self) -> None:
        self.saved = None
        self.freed = True


def _constant(value: Any, inputs: tuple) -> Tensor:
    """A non-Tensor operand as a constant Tensor.

    A Python number takes the floating dtype of the Tensor operands, as in PyTorch, so that
    ``float32_tensor * 2.0`` stays float32; arrays and lists keep NumPy's own dtype rules.
    """
    Tensor = _tensor.Tensor
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for x in inputs:
            if isinstance(x, Tensor) and x.data.dtype.kind == "f":
                return Tensor._make(np.asarray(value, dtype=x.data.dtype), False, None)
    return Tensor._make(_tensor.as_array(value, copy=False), False, None)


# Last, because tensor.py imports the ops, which import Function from this module.
from . import tensor as _tensor  # noqa: E402
