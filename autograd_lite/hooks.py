"""What backward does at a tensor besides passing its gradient on: hooks and ``retain_grad``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` takes the hook off again."""

    def __init__(self, hooks: GradHooks, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.functions.pop(self._key, None)


class GradHooks:
    """A tensor's hooks, called in the order they were registered, then ``retain_grad``'s keeping
    of the final gradient (so it sees what the hooks made of it, as in PyTorch)."""

    __slots__ = ("functions", "retain", "_next_key")

    def __init__(self) -> None:
        self.functions: dict[int, Callable[[np.ndarray], Any]] = {}
        self.retain = False
        self._next_key = 0

    def add(self, hook: Callable[[np.ndarray], Any]) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"register_hook takes a function of the gradient; got {hook!r}")
        key, self._next_key = self._next_key, self._next_key + 1
        self.functions[key] = hook
        return RemovableHandle(self, key)

    def __bool__(self) -> bool:
        return bool(self.functions) or self.retain

    def run(self, tensor: Any, grad: Any) -> Any:
        """The gradient after every hook (``grad`` is an array, or a Tensor in a recorded pass)."""
        recorded = not isinstance(grad, (np.ndarray, np.generic))
        if not recorded:
            grad = np.asarray(grad)  # a sum of two 0-d gradients is a NumPy scalar
        for hook in list(self.functions.values()):
            given = grad.data if recorded else grad
            replaced = hook(given)
            if replaced is not None:
                replaced = np.asarray(replaced.data if hasattr(replaced, "_ctx") else replaced)
                if replaced.shape != given.shape:
                    raise ValueError(
                        f"a gradient hook returned shape {replaced.shape} for a tensor of shape "
                        f"{given.shape}; a replacement must have the same shape"
                    )
                replaced = replaced.astype(given.dtype, copy=False)
                grad = type(grad)._make(replaced, False, None) if recorded else replaced
        if self.retain and tensor._ctx is not None:
            value = grad.data if recorded else grad
            tensor._grad = value.copy() if tensor._grad is None else tensor._grad + value
        return grad
