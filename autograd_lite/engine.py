"""The backward pass: a topological order of the graph, then the chain rule node by node.

It knows nothing about particular operations: each node's ``Function.input_grads`` turns the
gradient of its output into gradients of its inputs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from . import versions
from .grad_mode import enable_grad, grad_enabled, is_grad_enabled, no_grad

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["backward", "enable_grad", "grad_enabled", "is_grad_enabled", "no_grad"]

# Two threads backpropagating into one leaf must not both read its old .grad and each write
# their own sum: one of the two contributions would be lost.
_accumulate = threading.Lock()


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
            for parent in reversed(node._ctx.inputs):  # a loop: cheaper than extend(genexpr)
                if (constants or parent._requires_grad) and id(parent) not in visited:
                    stack.append((parent, False))
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
    released: dict | None = None if retain_graph else {}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        fn = node._ctx
        if fn is None:
            if g is not None:
                accumulate(node, g, held_by_leaves)
            continue
        if g is not None:
            if fn.tick != versions.last_tick:  # something changed in place since fn was recorded
                versions.check_saved(fn, node)
            for parent, parent_grad in fn.input_grads(g):
                key = id(parent)
                grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
        if released is not None:
            fn.free(released)


def accumulate(leaf: Tensor, grad: np.ndarray, held_by_leaves: set[int]) -> None:
    """Add ``grad`` into ``leaf.grad`` (always an ndarray, even for a 0-d leaf)."""
    with _accumulate:
        if leaf._grad is None:
            leaf._grad = own_memory(np.asarray(grad), held_by_leaves)
        else:
            leaf._grad = np.asarray(leaf._grad + grad)


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
