"""The backward pass: a topological order of the graph, then the chain rule node by node.

It knows nothing about particular operations: each node's ``Function.input_grads`` turns the
gradient of its output into gradients of its inputs.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import versions
from .grad_mode import enable_grad, grad_enabled, is_grad_enabled, no_grad

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["backward", "enable_grad", "grad_enabled", "is_grad_enabled", "no_grad"]

# Two threads backpropagating into one leaf must not both read its old .grad and each write
# their own sum: one of the two contributions would be lost.
_accumulate = threading.Lock()


def topological_order(roots: Tensor | Sequence[Tensor], constants: bool = False) -> list[Tensor]:
    """The tensors behind ``roots``, each after its inputs (and the first input first).

    Only those that require grad, which is what backward needs, unless ``constants`` is true (the
    whole graph, for pictures). Iterative depth-first search, so a chain of any length stays clear
    of the recursion limit.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [
        (root, False) for root in reversed([roots] if hasattr(roots, "_ctx") else list(roots))
    ]
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


def backward(
    roots: Tensor | Sequence[Tensor],
    grads: Any,
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
) -> dict[int, Any] | None:
    """Apply the chain rule from ``roots`` (with gradients ``grads``) back through the graph.

    A node used more than once receives the sum of its gradients before it passes them on. Without
    ``capture``, leaves add theirs into ``.grad``; with it, nothing is written anywhere and the
    gradients reaching the tensors in ``capture`` are returned by ``id``. With ``create_graph``
    the gradients are Tensors and every local derivative is recorded, so the result can be
    differentiated again (each operation's backward runs on Tensors instead of arrays).
    """
    if hasattr(roots, "_ctx"):
        roots, grads = [roots], [grads]
    order = topological_order(roots)
    freed = next((t._ctx for t in order if t._ctx is not None and t._ctx.freed), None)
    if freed is not None:
        raise RuntimeError(
            f"backward through a graph that was already freed (at a '{freed.name}' node): "
            "a first backward() released what it saved. Call backward(retain_graph=True) "
            "the first time to backpropagate twice, or run the forward pass again."
        )
    pending: dict[int, Any] = {}
    for root, grad in zip(roots, grads, strict=True):
        key = id(root)
        pending[key] = grad if key not in pending else pending[key] + grad
    wanted = None if capture is None else {id(t) for t in capture}
    captured: dict[int, Any] = {}
    if wanted is not None:
        order = leading_to(order, wanted)
    held_by_leaves: set[int] = set()
    released: dict | None = None if retain_graph else {}
    with enable_grad() if create_graph else contextlib.nullcontext():
        for node in reversed(order):
            g = pending.pop(id(node), None)
            if wanted is not None and g is not None and id(node) in wanted:
                captured[id(node)] = g
            if g is not None and node._hooks is not None:
                g = node._hooks.run(node, g)
            fn = node._ctx
            if fn is None:
                if g is not None and wanted is None:
                    accumulate(node, g if not create_graph else g.data, held_by_leaves)
                continue
            if g is not None:
                if fn.tick != versions.last_tick:  # something changed in place since recording
                    versions.check_saved(fn, node)
                try:
                    pairs = fn.recorded_input_grads(g, node) if create_graph else fn.input_grads(g)
                except FloatingPointError as err:  # only under detect_anomaly()
                    raise backward_anomaly(fn, g, err) from None
                for parent, parent_grad in pairs:
                    key = id(parent)
                    pending[key] = parent_grad if key not in pending else pending[key] + parent_grad
            if released is not None:
                fn.free(released)
    return captured if wanted is not None else None


def backward_anomaly(fn: Any, grad: Any, err: FloatingPointError) -> FloatingPointError:
    from .anomaly import anomaly_error

    site = getattr(fn, "site", None)
    return anomaly_error(fn, "backward", [getattr(grad, "data", grad)], err, site, {})


def leading_to(order: list[Tensor], wanted: set[int]) -> list[Tensor]:
    """The part of ``order`` that lies on a path to one of the ``wanted`` tensors."""
    on_path: set[int] = set()
    kept = []
    for node in order:  # inputs come first, so each node's parents are decided before it
        if id(node) in wanted or (
            node._ctx is not None and any(id(p) in on_path for p in node._ctx.inputs)
        ):
            on_path.add(id(node))
            kept.append(node)
    return kept


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
