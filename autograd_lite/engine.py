"""The backward pass: a topological order of the graph, then the chain rule node by node.

It knows nothing about particular operations: each node's ``Function.input_grads`` turns the
gradient of its output into gradients of its inputs.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_grad_enabled = True


def grad_enabled() -> bool:
    """Whether new operations are recorded in the graph (``False`` inside ``no_grad``)."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Set whether operations are recorded, restoring the previous setting on exit.

    The previous settings are a stack, so one instance can be entered again before it exits: a
    recursive function under ``@no_grad()`` re-enters the same instance.
    """

    enabled = True

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> _GradMode:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled
        return self

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()


class no_grad(_GradMode):
    """Record nothing inside: ``with no_grad(): ...`` or ``@no_grad()`` on a function."""

    enabled = False


class enable_grad(_GradMode):
    """Record again inside a ``no_grad`` block."""

    enabled = True


def topological_order(root: Tensor, constants: bool = False) -> list[Tensor]:
    """The tensors behind ``root``, each after its inputs (and the first input first).

    Only those that require grad, which is what backward needs, unless ``constants`` is true (the
    whole graph, for pictures). Iterative depth-first search, so a chain of any length stays clear
    of the recursion limit.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            stack.extend(
                (parent, False)
                for parent in reversed(node._ctx.inputs)
                if (constants or parent.requires_grad) and id(parent) not in visited
            )
    return order


def backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Apply the chain rule from ``root`` (whose gradient is ``grad``) back to every leaf.

    A node used more than once receives the sum of its gradients before it passes them on; leaves
    add theirs into ``.grad``.
    """
    order = topological_order(root)
    freed = next((t._ctx for t in order if t._ctx is not None and t._ctx.freed), None)
    if freed is not None:
        raise RuntimeError(
            f"backward through a graph that was already freed (at a '{freed.name}' node): "
            "a first backward() released what it saved. Call backward(retain_graph=True) "
            "the first time to backpropagate twice, or run the forward pass again."
        )
    grads: dict[int, np.ndarray] = {id(root): grad}
    held_by_leaves: set[int] = set()
    for node in reversed(order):
        g = grads.pop(id(node), None)
        fn = node._ctx
        if fn is None:
            if g is not None:
                if node.grad is None:
                    node.grad = own_memory(g, held_by_leaves)
                else:
                    node.grad = node.grad + g
            continue
        if g is not None:
            for parent, parent_grad in fn.input_grads(g):
                key = id(parent)
                grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
        if not retain_graph:
            fn.free()


def own_memory(grad: np.ndarray, held_by_leaves: set[int]) -> np.ndarray:
    """``grad`` itself if no other leaf's ``.grad`` shares its memory, else a copy.

    Operations may pass one gradient array to several inputs (``x + y``) or hand back views of it,
    and a user may change a ``.grad`` in place (gradient clipping): no two leaves may share memory.
    Copying every time would cost a full pass over each weight matrix per step.
    """
    base = grad if grad.base is None else grad.base
    if grad.flags.writeable and grad.size == base.size and id(base) not in held_by_leaves:
        held_by_leaves.add(id(base))
        return grad
    return grad.copy()
