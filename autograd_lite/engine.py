"""The backward pass: a topological order of the graph, then the chain rule node by node.

It knows nothing about particular operations: each node's ``Function.backward`` turns the
gradient of its output into gradients of its inputs (``chain_rule`` does what
``Function.input_grads`` does for the tools, written out in its loop for speed).
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Sequence
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy import ndarray

from . import versions
from .function import _ABSENT, conform
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
) -> dict[Tensor, Any] | None:
    """Apply the chain rule from ``roots`` (with gradients ``grads``) back through the graph.

    Operations are visited newest first: an operation is always recorded after the ones that made
    its inputs, so reversed creation order is a topological order. A node used more than once has
    received the sum of its gradients before it passes them on. Without ``capture``, leaves add
    theirs into ``.grad``; with it, nothing is written anywhere and the gradients reaching the
    tensors in ``capture`` are returned, keyed by tensor. With ``create_graph`` the gradients are
    Tensors and every local derivative is recorded, so the result can be differentiated again
    (each operation's backward runs on Tensors, not arrays). Tensors are the dictionaries' keys:
    they hash by identity.
    """
    if hasattr(roots, "_ctx"):
        if capture is None and not create_graph:  # loss.backward(): the usual call, kept short
            pending = {roots: grads}
            accumulate(chain_rule(pending, retain_graph), pending)
            return None
        roots, grads = [roots], [grads]
    pending: dict[Any, Any] = {}
    for root, grad in zip(roots, grads, strict=True):
        pending[root] = grad if root not in pending else pending[root] + grad
    if capture is None and not create_graph:  # one pass, the graph found as it goes
        accumulate(chain_rule(pending, retain_graph), pending)
        return None
    nodes, leaves = reachable(roots)
    captured: dict[Any, Any] | None = None
    wanted: set | None = None
    if capture is not None:
        captured, wanted = {}, set(capture)
        nodes, leaves = on_paths_to(nodes, leaves, wanted)
    released = None if retain_graph else {}
    if create_graph:
        with enable_grad():
            propagate_recorded(nodes, pending, wanted, captured, released)
    else:
        on_path = {*nodes, *leaves}
        for root in roots:
            if root not in on_path:
                pending.pop(root, None)
        chain_rule(pending, retain_graph, on_path, wanted, captured)
    if captured is None:  # create_graph: the leaves' gradients are Tensors; .grad keeps arrays
        for leaf in leaves:
            g = pending.get(leaf)
            if g is not None:
                pending[leaf] = g.data if leaf._hooks is None else leaf._hooks.run(leaf, g).data
        accumulate(leaves, pending, hooks_done=True)
        return None
    for leaf in leaves:
        g = pending.pop(leaf, None)
        if g is not None:
            captured[leaf] = g
    return captured


def chain_rule(
    pending: dict,
    retain_graph: bool,
    on_path: set | None = None,
    wanted: set | None = None,
    captured: dict | None = None,
) -> list[Tensor]:
    """The chain rule on arrays from the tensors in ``pending`` (with their gradients) back to
    the leaves, which it returns (their gradients are left in ``pending``).

    The nodes wait in a heap keyed by creation order, newest first, and a node enters it when the
    first gradient reaches it: no walk over the graph beforehand and no sort. A node is taken out
    only after every operation that used it, since those are newer and reach it through nodes
    newer than it. ``on_path`` limits the pass to those tensors (``grad``'s inputs); ``wanted``
    tensors' gradients go to ``captured``. Unless ``retain_graph``, each node is released
    (``Function.free``) as soon as its backward has run, as in PyTorch: a pass that fails halfway
    leaves the part it went through released. What ``Function.input_grads`` does (for the tools) is
    written out in the loop: it runs once per node, and on small networks its overhead is the
    backward pass.
    """
    heap: list[tuple[int, Any]] = []
    leaves: list[Tensor] = []
    for root in pending:
        fn = root._ctx
        if fn is None:
            leaves.append(root)
        else:
            heap.append((-fn.seq, root))
    heapify(heap)
    # The only node waiting, kept out of the heap: where the graph is a chain (most of a network's
    # graph is, locally) a node is taken as soon as it joins, with no heap push and pop.
    alone = None
    tick = versions.last_tick
    released: dict | None = None if retain_graph else {}
    while True:
        if alone is not None:
            node, alone = alone, None
        elif heap:
            node = heappop(heap)[1]
        else:
            break
        fn = node._ctx
        if fn.freed:
            raise RuntimeError(freed_message(fn))
        inputs = fn._more
        if inputs is None:
            second = fn._in1
            inputs = (fn._in0,) if second is _ABSENT else (fn._in0, second)
        g = pending.pop(node)
        if g is None:  # no gradient reached it (a backward gave None): its inputs get none either
            grads: Any = (None,) * len(inputs)
        else:
            if wanted is not None and node in wanted:
                captured[node] = g
            if node._hooks is not None:
                g = node._hooks.run(node, g)
            if fn.tick != tick:  # something changed in place since recording
                versions.check_saved(fn, node)
            try:
                grads = fn.backward(g)
            except FloatingPointError as err:  # only under detect_anomaly()
                raise backward_anomaly(fn, g, err) from None
        for t, need, gi in zip(inputs, fn.needs_input_grad, grads, strict=True):
            if not need:
                continue
            if gi is not None:
                x = t.data
                if gi.__class__ is not ndarray or gi.shape != x.shape or gi.dtype != x.dtype:
                    gi = conform(gi, x.shape, x.dtype, fn)
            earlier = pending.get(t, _NOT_YET)
            if earlier is _NOT_YET:  # the first gradient to reach t: t joins the pass
                if on_path is not None and t not in on_path:
                    continue
                pending[t] = gi
                producer = t._ctx
                if producer is not None:
                    if alone is None and not heap:
                        alone = t
                    else:
                        if alone is not None:  # two are waiting now: the heap orders them
                            heappush(heap, (-alone._ctx.seq, alone))
                            alone = None
                        heappush(heap, (-producer.seq, t))
                elif t._requires_grad:
                    leaves.append(t)
            elif gi is not None:
                pending[t] = gi if earlier is None else earlier + gi
        if released is not None:  # as PyTorch does, node by node: its backward has run
            fn.free(released)
    return leaves


_NOT_YET = object()


def freed_message(fn: Any) -> str:
    return (
        f"backward through a graph that was already freed (at a '{fn.name}' node): a first "
        "backward() released what it saved. Call backward(retain_graph=True) the first time to "
        "backpropagate twice, or run the forward pass again."
    )


def propagate_recorded(
    nodes: list[Tensor], pending: dict, wanted: set | None, captured: dict | None, released: Any
) -> None:
    """``chain_rule`` with ``create_graph``: each local derivative is recorded, on Tensors, for
    the ``nodes`` that ``reachable`` found (newest first)."""
    for node in nodes:
        fn = node._ctx
        g = pending.pop(node, None)
        if g is not None:
            if wanted is not None and node in wanted:
                captured[node] = g
            if node._hooks is not None:
                g = node._hooks.run(node, g)
            if fn.tick != versions.last_tick:
                versions.check_saved(fn, node)
            try:
                pairs = fn.recorded_input_grads(g, node)
            except FloatingPointError as err:
                raise backward_anomaly(fn, g, err) from None
            for parent, parent_grad in pairs:
                if parent in pending:
                    pending[parent] = pending[parent] + parent_grad
                else:
                    pending[parent] = parent_grad
        if released is not None:
            fn.free(released)


_newest_first = operator.attrgetter("_ctx.seq")


def reachable(roots: Sequence[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """The results (newest first) and the leaves behind ``roots`` that require grad."""
    nodes: list[Tensor] = []
    leaves: list[Tensor] = []
    seen: set = set()
    stack = list(roots)
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        fn = t._ctx
        if fn is None:
            leaves.append(t)
            continue
        if fn.freed:
            raise RuntimeError(freed_message(fn))
        nodes.append(t)
        for parent in fn.inputs:
            if parent._requires_grad:
                stack.append(parent)
    if len(nodes) > 1:
        nodes.sort(key=_newest_first, reverse=True)
    return nodes, leaves


def on_paths_to(
    nodes: list[Tensor], leaves: list[Tensor], wanted: set
) -> tuple[list[Tensor], list[Tensor]]:
    """Only the part of the graph that lies between the roots and the ``wanted`` tensors."""
    on_path = {t for t in leaves if t in wanted}
    kept = []
    for node in reversed(nodes):  # oldest first: each node's inputs are decided before it
        if node in wanted or any(p in on_path for p in node._ctx.inputs):
            on_path.add(node)
            kept.append(node)
    kept.reverse()
    return kept, [t for t in leaves if t in wanted]


def backward_anomaly(fn: Any, grad: Any, err: FloatingPointError) -> FloatingPointError:
    from .anomaly import anomaly_error

    site = getattr(fn, "site", None)
    return anomaly_error(fn, "backward", [getattr(grad, "data", grad)], err, site, {})


def accumulate(leaves: list[Tensor], pending: dict, hooks_done: bool = False) -> None:
    """Add each leaf's gradient in ``pending`` into its ``.grad`` (an ndarray, even for a 0-d
    leaf), after the leaf's hooks.

    Operations may pass one gradient array to several inputs (``x + y``) or hand back views of it,
    and a user may change a ``.grad`` in place (gradient clipping): no two leaves may share memory,
    so a gradient is copied where it must be (read-only, a view of part of a larger array, or
    memory another leaf took). Copying every time would cost a full pass over each weight matrix
    per step.
    """
    if not hooks_done:
        for leaf in leaves:
            if leaf._hooks is not None and pending.get(leaf) is not None:
                pending[leaf] = leaf._hooks.run(leaf, pending[leaf])
    held: set[int] = set()
    with _accumulate:  # once per backward, and no user code (hooks) runs while it is held
        for leaf in leaves:
            g = pending.pop(leaf, None)
            if g is None:
                continue
            if g.__class__ is not ndarray:
                g = np.asarray(g)
            if leaf._grad is None:
                base = g.base
                if base is None:
                    base = g
                if id(base) in held or g.size != base.size or not g.flags.writeable:
                    g = g.copy()
                else:
                    held.add(id(base))
                leaf._grad = g
            else:
                total = leaf._grad + g
                leaf._grad = total if total.__class__ is ndarray else np.asarray(total)
