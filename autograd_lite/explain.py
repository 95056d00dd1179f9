"""``explain(output, wrt, index)``: the chain rule for one derivative, written out with numbers.

The tutorials teach backpropagation as a product of local derivatives along the paths from the
loss to a weight, summed where the paths fork. ``explain`` reads that product off a recorded
graph, as a tool above the engine: it walks ``t._ctx`` and ``fn.inputs``, asks each operation's
own ``backward`` for its local derivatives (a one-hot gradient in, the derivative out), and takes
each factor's formula from the operation's docstring (the one place a derivative is written
down, also shown in docs/operations.md). It never runs the engine's backward pass, so no
``.grad`` changes and no hook fires.

How the chain is found. The waypoints are the named tensors between ``wrt`` and ``output`` (with
none named, every intermediate). One element of a waypoint is a node; two nodes are joined when
the later one depends on the earlier through unnamed tensors only, and the local derivative is
the edge's value. Which elements depend on which is traced with a NaN, forward from ``wrt[index]``
and backward from the output: a NaN spreads exactly along the dependencies, even where a
derivative happens to be 0 (a ReLU that is off), so a zero factor still shows where the gradient
stops. Nodes that every path passes through make the chain's links; where paths fork between two
of them, the link is the sum of its branches, each a chain of its own.
"""

from __future__ import annotations

import functools
import html
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import versions
from .engine import topological_order
from .tensor import Tensor

__all__ = ["Branch", "Explanation", "Link", "explain"]

SHOWN_BRANCHES = 4  # per fork; the rest are folded into one line that says how many
NESTED_FORKS = 2  # forks inside branches are expanded this deep, then summed up in one line
MAX_ELEMENTS = 20_000  # element nodes followed; beyond it explain asks for fewer waypoints


def fmt(value: float) -> str:
    """A number as the tutorials print it: 9 decimals below 1 (0.055399425), else 9 significant
    digits; trailing zeros dropped."""
    if 1e-4 <= abs(value) < 1:
        return f"{value:.9f}".rstrip("0").rstrip(".")
    return f"{value:.9g}"


def _signed(value: float) -> str:
    return f"({fmt(value)})" if value < 0 else fmt(value)


@dataclass(eq=False)
class Link:
    """One factor of the chain: the derivative of ``output`` with respect to ``input`` (labels of
    two tensor elements), its ``formula`` from the operations' docstrings and its ``value``.

    A link where the chain forks has ``branches`` (one per way the paths leave ``input``), and its
    value is their sum.
    """

    output: str
    input: str
    formula: str
    value: float
    operations: tuple[str, ...] = ()
    branches: list[Branch] = field(default_factory=list)
    nodes: tuple = field(default=(), repr=False)  # (input node, output node) in the graph

    @property
    def symbol(self) -> str:
        return f"∂{self.output}/∂{self.input}"

    def __repr__(self) -> str:
        return f"<Link {self.symbol} = {fmt(self.value)}>"


@dataclass(eq=False)
class Branch:
    """One way through a fork: the paths that leave the fork's input through ``via``, and their
    contribution ``value`` to the fork's link. ``links`` is that branch's own chain (worked out
    when first read: a large fork has many branches and only a few are shown)."""

    via: str
    value: float
    _links: Any = field(repr=False)

    @property
    def links(self) -> list[Link]:
        if callable(self._links):
            self._links = self._links()
        return self._links

    def __repr__(self) -> str:
        return f"<Branch via {self.via} = {fmt(self.value)}>"


class Explanation:
    """What ``explain`` found: ``.value`` (the derivative), ``.links`` (the chain's factors from
    the output down to ``wrt``), ``.branches`` (every branch of the chain's forks), ``str()``,
    ``_repr_html_()`` for Jupyter, and ``.draw()`` for the graph picture with the path marked."""

    def __init__(self, graph: _ElementGraph, links: list[Link]) -> None:
        self._graph = graph
        self.links = links
        self.output_label = graph.label(graph.sink)
        self.wrt_label = graph.label(graph.source)
        value = 1.0 if links or graph.source == graph.sink else 0.0
        for link in links:
            value *= link.value
        self.value = float(value)

    @property
    def symbol(self) -> str:
        return f"∂{self.output_label}/∂{self.wrt_label}"

    @property
    def branches(self) -> list[Branch]:
        return [branch for link in self.links for branch in link.branches]

    def __repr__(self) -> str:
        return f"<Explanation {self.symbol} = {fmt(self.value)}>"

    def __str__(self) -> str:
        if not self.links:
            if self.value == 1.0:
                return f"{self.symbol} = 1 ({self.wrt_label} is the output itself)"
            return (
                f"{self.symbol} = 0: no path from {self.wrt_label} to {self.output_label} "
                "carries a derivative (the output does not depend on this element)"
            )
        lines = [f"{self.symbol} = {fmt(self.value)}"]
        if len(self.links) > 1:
            lines.append("  = " + " × ".join(link.symbol for link in self.links))
            lines.append("  = " + " × ".join(_signed(link.value) for link in self.links))
        lines.append("")
        lines += _link_lines(self.links, "  ", depth=0)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [
            "<table>",
            f"<caption>{html.escape(self.symbol)} = {fmt(self.value)}</caption>",
            "<tr><th>factor</th><th>formula</th><th>value</th></tr>",
        ]
        rows += _html_rows(self.links, 0)
        rows.append("</table>")
        return "\n".join(rows)

    def draw(self, show_data: bool = True, rankdir: str | None = None) -> Any:
        """The graph picture: the path from ``wrt`` to the output highlighted, each tensor's
        adjoint (∂output/∂tensor) and each path edge's local derivative value (a
        ``graphviz.Digraph``; see ``draw_graph``)."""
        from .graph import draw_explanation

        return draw_explanation(self, show_data=show_data, rankdir=rankdir)


def _link_lines(links: list[Link], indent: str, depth: int) -> list[str]:
    width = max(len(link.symbol) for link in links)
    formulas = [link.formula for link in links]
    simple = [f for f, link in zip(formulas, links, strict=True) if not link.branches]
    fwidth = max((len(f) for f in simple), default=0)
    lines = []
    for link, formula in zip(links, formulas, strict=True):
        if not link.branches:
            lines.append(
                f"{indent}{link.symbol.ljust(width)} = {formula.ljust(fwidth)} = {fmt(link.value)}"
            )
            continue
        lines.append(
            f"{indent}{link.symbol.ljust(width)} = sum of {len(link.branches)} branches"
            f" = {fmt(link.value)}"
        )
        lines += _branch_lines(link, indent + "    ", depth)
    return lines


def _branch_lines(link: Link, indent: str, depth: int) -> list[str]:
    shown = link.branches[:SHOWN_BRANCHES]
    lines = []
    for branch in shown:
        chain = branch.links
        head = f"{indent}via {branch.via}: "
        if all(not b.branches for b in chain) or depth + 1 >= NESTED_FORKS:
            symbols = " × ".join(b.symbol for b in chain)
            numbers = " × ".join(_signed(b.value) for b in chain)
            lines.append(head + symbols)
            lines.append(" " * len(head) + f"= {numbers} = {fmt(branch.value)}")
        else:
            lines.append(head + f"{fmt(branch.value)}, the product of")
            lines += _link_lines(chain, indent + "    ", depth + 1)
    folded = link.branches[len(shown) :]
    terms = [_signed(b.value) for b in shown]
    if folded:
        rest = sum(b.value for b in folded)
        lines.append(f"{indent}… {len(folded)} more branches (smaller), together {fmt(rest)}")
        terms.append(_signed(rest))
    lines.append(f"{indent}sum: {' + '.join(terms)} = {fmt(link.value)}")
    return lines


def _html_rows(links: list[Link], depth: int) -> list[str]:
    pad = f' style="padding-left:{1.5 * depth + 0.3:.1f}em"'
    rows = []
    for link in links:
        formula = link.formula if not link.branches else f"sum of {len(link.branches)} branches"
        rows.append(
            f"<tr><td{pad}>{html.escape(link.symbol)}</td><td>{html.escape(formula)}</td>"
            f"<td>{fmt(link.value)}</td></tr>"
        )
        shown = link.branches[:SHOWN_BRANCHES]
        for branch in shown:
            rows.append(
                f"<tr><td{pad}>&nbsp;&nbsp;via {html.escape(branch.via)}</td><td></td>"
                f"<td>{fmt(branch.value)}</td></tr>"
            )
            if depth + 1 < NESTED_FORKS:
                rows += _html_rows(branch.links, depth + 2)
        folded = link.branches[len(shown) :]
        if folded:
            rest = sum(b.value for b in folded)
            rows.append(
                f"<tr><td{pad}>&nbsp;&nbsp;… {len(folded)} more branches</td><td></td>"
                f"<td>{fmt(rest)}</td></tr>"
            )
    return rows


def explain(
    output: Tensor, wrt: Tensor, index: Any = None, params: dict[str, Tensor] | None = None
) -> Explanation:
    """The derivative of the one-element ``output`` with respect to element ``index`` of ``wrt``
    (a leaf or an intermediate of its graph), written as the chain rule with numbers.

    ``index`` is needed when ``wrt`` has more than one element: an int for a vector, a tuple for
    more dimensions. ``params`` (e.g. ``dict(model.named_parameters())``) names tensors that have
    no ``.name``, as in ``draw_graph``. The graph must still hold its values (explain before
    ``backward()``, or after ``backward(retain_graph=True)``). Nothing is written anywhere: no
    ``.grad``, no hook.
    """
    if not isinstance(output, Tensor) or not isinstance(wrt, Tensor):
        raise TypeError(
            f"explain(output, wrt): both must be Tensors; got {type(output).__name__} and "
            f"{type(wrt).__name__}"
        )
    if output.size != 1:
        raise ValueError(
            f"explain: output must have one element (a loss); it has shape {output.shape}. "
            "Reduce it first (.sum(), .mean()) or pick an element (output[i])"
        )
    if not wrt.requires_grad:
        raise ValueError(
            "explain: wrt does not require grad, so no derivative flows to it; explain a tensor "
            "created with requires_grad=True or a result computed from one"
        )
    flat = _flat_index(wrt, index)
    graph = _ElementGraph(output, wrt, flat, params)
    return Explanation(graph, graph.chain(graph.source, graph.sink, graph.nodes))


def _flat_index(wrt: Tensor, index: Any) -> int:
    if index is None:
        if wrt.size != 1:
            raise ValueError(
                f"explain: wrt has shape {wrt.shape}; pass index= to pick one element, e.g. "
                f"index={(0,) * wrt.ndim if wrt.ndim > 1 else 0}"
            )
        return 0
    position = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
    if len(position) != wrt.ndim or not all(isinstance(i, (int, np.integer)) for i in position):
        raise ValueError(
            f"explain: index {index!r} does not pick one element of a tensor of shape "
            f"{wrt.shape}; give {wrt.ndim} integer(s)"
        )
    try:
        return int(np.ravel_multi_index(position, wrt.shape, mode="raise"))
    except ValueError:
        raise IndexError(
            f"explain: index {index!r} is out of range for shape {wrt.shape}"
        ) from None


class _ElementGraph:
    """The waypoint elements between ``wrt[index]`` and ``output``, and the local derivatives
    between them. A node is ``(position of its tensor in topological order, flat index)``."""

    def __init__(self, output: Tensor, wrt: Tensor, flat: int, params: Any = None) -> None:
        order = topological_order(output)
        ids = {id(t): i for i, t in enumerate(order)}
        if id(wrt) not in ids:
            raise ValueError(
                "explain: wrt is not part of output's graph (output was not computed from it)"
            )
        below = {id(wrt)}  # tensors computed from wrt
        for t in order:
            if t._ctx is not None and any(id(p) in below for p in t._ctx.inputs):
                below.add(id(t))
        self.tensors = [t for t in order if id(t) in below]
        self.pos = {id(t): i for i, t in enumerate(self.tensors)}
        for t in self.tensors[1:]:
            if t._ctx.freed or any(p.data is None for p in t._ctx.inputs):
                raise RuntimeError(
                    f"explain: the graph's values were released by backward() (at a "
                    f"'{t._ctx.name}' node). Call explain before backward(), or backward with "
                    "retain_graph=True, which keeps them"
                )
            if t._ctx.tick != versions.last_tick:
                versions.check_saved(t._ctx, t)
        from .graph import tensor_labels

        self.labels = tensor_labels(output, params)
        named = [t for t in self.tensors[1:-1] if t.name]
        inner = named or [t for t in self.tensors[1:-1] if t._ctx is not None]
        self.waypoints = {id(t) for t in (wrt, *inner, output)}
        self.source = (0, flat)
        self.sink = (len(self.tensors) - 1, 0)
        self._segments: dict[int, tuple[list[Tensor], list[Tensor]]] = {}
        self._edges_in: dict[tuple[int, int], dict[tuple[int, int], float]] = {}
        self._build(flat)

    # ----- labels ----------------------------------------------------------------------------
    def label(self, node: tuple[int, int]) -> str:
        t = self.tensors[node[0]]
        name = self.labels[id(t)]
        if t.size == 1:
            return name
        position = np.unravel_index(node[1], t.shape)
        return f"{name}[{','.join(str(int(i)) for i in position)}]"

    # ----- the element graph ------------------------------------------------------------------
    def _build(self, flat: int) -> None:
        reach_from = self._forward_trace(flat)
        reach_to = self._backward_trace()
        active = {}
        for t in self.tensors:
            if id(t) in self.waypoints:
                active[id(t)] = reach_from[id(t)] & reach_to[id(t)]
        total = sum(int(mask.sum()) for mask in active.values())
        if total > MAX_ELEMENTS:
            raise ValueError(
                f"explain: the derivative runs through {total} tensor elements (more than "
                f"{MAX_ELEMENTS}). Name a few intermediate tensors (t.name = ...) to use as "
                "waypoints, or explain on a smaller batch"
            )
        self.edges_out: dict[tuple[int, int], dict[tuple[int, int], float]] = {}
        for t in self.tensors[1:]:
            if id(t) not in self.waypoints:
                continue
            for j in np.flatnonzero(active[id(t)]):
                node = (self.pos[id(t)], int(j))
                for up, value in self._local_derivatives(t, int(j), active).items():
                    self._edges_in.setdefault(node, {})[up] = value
                    self.edges_out.setdefault(up, {})[node] = value
        self.nodes = self._on_paths(self.source, self.sink)

    def _forward_trace(self, flat: int) -> dict[int, np.ndarray]:
        """Which elements of each tensor depend on ``wrt[flat]``: a NaN put there, run forward
        through fresh copies of the operations (the recorded ones keep what they saved)."""
        wrt = self.tensors[0]
        start = np.array(wrt.data, dtype=wrt.dtype, order="C", copy=True)  # a view may be F-ordered
        start.reshape(-1)[flat] = np.nan
        traced = {id(wrt): start}
        with np.errstate(all="ignore"):
            for t in self.tensors[1:]:
                fn = t._ctx
                arrays = [traced.get(id(p), p.data) for p in fn.inputs]
                try:
                    value = np.asarray(type(fn)().forward(*arrays, **fn.params))
                    traced[id(t)] = value if value.shape == t.shape else np.full(t.shape, np.nan)
                except Exception:  # noqa: BLE001 - an operation that cannot take a NaN: assume all
                    traced[id(t)] = np.full(t.shape, np.nan)
        return {key: np.isnan(value) for key, value in traced.items()}

    def _backward_trace(self) -> dict[int, np.ndarray]:
        """Which elements of each tensor the output depends on: a NaN gradient pulled back."""
        sink = self.tensors[-1]
        seed = np.full(sink.shape, np.nan, dtype=sink.dtype)
        grads = self._pull(sink, seed, self.tensors[:-1][::-1], stop={id(self.tensors[0])})
        grads[id(sink)] = seed
        return {
            id(t): np.isnan(grads[id(t)]) if id(t) in grads else np.zeros(t.shape, dtype=bool)
            for t in self.tensors
        }

    def _pull(
        self, top: Tensor, seed: np.ndarray, order: list[Tensor], stop: set[int]
    ) -> dict[int, np.ndarray]:
        """The gradients reaching ``order`` (tensors below ``top``, in reverse topological order)
        from ``seed`` at ``top``, through each operation's own backward; the tensors in ``stop``
        receive but do not pass on."""
        pending: dict[int, np.ndarray] = {}
        received: dict[int, np.ndarray] = {}
        with np.errstate(all="ignore"):
            for node, g in [(top, seed), *[(t, None) for t in order]]:
                if g is None:
                    g = pending.pop(id(node), None)
                    if g is None:
                        continue
                    received[id(node)] = g
                    if id(node) in stop:
                        continue
                if node._ctx is None:
                    continue
                for parent, parent_grad in node._ctx.input_grads(g):
                    key = id(parent)
                    if key in self.pos:
                        pending[key] = (
                            parent_grad if key not in pending else pending[key] + parent_grad
                        )
        return received

    def _segment(self, t: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """(the unnamed tensors between ``t`` and the waypoints right above it, in reverse
        topological order; those waypoints)."""
        if id(t) not in self._segments:
            inside, upper, stack = set(), set(), [t]
            while stack:
                node = stack.pop()
                for p in node._ctx.inputs:
                    if id(p) not in self.pos or id(p) in inside or id(p) in upper:
                        continue
                    if id(p) in self.waypoints:
                        upper.add(id(p))
                    else:
                        inside.add(id(p))
                        stack.append(p)
            order = [s for s in self.tensors if id(s) in inside or id(s) in upper][::-1]
            self._segments[id(t)] = (order, [s for s in self.tensors if id(s) in upper])
        return self._segments[id(t)]

    def _local_derivatives(
        self, t: Tensor, j: int, active: dict[int, np.ndarray]
    ) -> dict[tuple[int, int], float]:
        """∂t[j]/∂(each active element of the waypoints right above t), holding the other
        waypoints fixed: a one-hot gradient pulled back once with 1 and once with NaN (which
        elements are connected at all, so that a derivative of 0 still counts as a link)."""
        order, upper = self._segment(t)
        stop = {id(u) for u in upper}
        seeds = [np.zeros(t.shape, dtype=t.dtype) for _ in range(2)]
        seeds[0].reshape(-1)[j], seeds[1].reshape(-1)[j] = 1, np.nan
        values = self._pull(t, seeds[0], order, stop)
        links = self._pull(t, seeds[1], order, stop)
        found = {}
        for u in upper:
            if id(u) not in links:
                continue
            connected = np.isnan(links[id(u)]) & active[id(u)]
            for i in np.flatnonzero(connected):
                found[(self.pos[id(u)], int(i))] = float(values[id(u)].reshape(-1)[i])
        return found

    def _on_paths(self, source: tuple, sink: tuple, within: set | None = None) -> list[tuple]:
        """The nodes on some path from ``source`` to ``sink`` (inside ``within``), in order."""
        down, stack = {source}, [source]
        while stack:
            for nxt in self.edges_out.get(stack.pop(), {}):
                if nxt not in down and (within is None or nxt in within):
                    down.add(nxt)
                    stack.append(nxt)
        if sink not in down:
            return []
        up, stack = {sink}, [sink]
        while stack:
            for prev in self._edges_in.get(stack.pop(), {}):
                if prev in down and prev not in up:
                    up.add(prev)
                    stack.append(prev)
        return sorted(up)

    # ----- the chain --------------------------------------------------------------------------
    def chain(self, source: tuple, sink: tuple, nodes: list[tuple]) -> list[Link]:
        """The links from ``sink`` down to ``source`` through ``nodes`` (every one on a path
        between them, in topological order): one per pair of consecutive nodes that every path
        passes through."""
        if not nodes:
            return []
        where = {node: k for k, node in enumerate(nodes)}
        jumped = np.zeros(len(nodes) + 1, dtype=np.int64)
        for a in nodes:  # an edge a -> b jumps over every node strictly between them
            for b in self.edges_out.get(a, {}):
                if b in where and where[b] > where[a] + 1:
                    jumped[where[a] + 1] += 1
                    jumped[where[b]] -= 1
        over = np.cumsum(jumped)
        gates = [node for k, node in enumerate(nodes) if over[k] == 0]
        links = []
        for k in range(len(gates) - 1, 0, -1):
            down, up = gates[k], gates[k - 1]
            between = nodes[where[up] + 1 : where[down]]
            if not between:
                links.append(self._simple_link(up, down))
            else:
                links.append(self._fork_link(up, down, between))
        return links

    def _simple_link(self, up: tuple, down: tuple) -> Link:
        value = self._edges_in[down][up]
        formula, operations = self._formula(up, down)
        return Link(self.label(down), self.label(up), formula, value, operations, [], (up, down))

    def _fork_link(self, up: tuple, down: tuple, between: list[tuple]) -> Link:
        inside = set(between) | {down}
        rate = {down: 1.0}  # ∂down/∂node within the fork
        for node in reversed(between):
            rate[node] = sum(
                value * rate[nxt]
                for nxt, value in self.edges_out.get(node, {}).items()
                if nxt in inside
            )
        branches = []
        for via, value in self.edges_out[up].items():
            if via not in inside:
                continue
            branches.append(
                Branch(
                    self.label(via),
                    value * rate[via],
                    functools.partial(self._branch, up, via, down, inside),
                )
            )
        branches.sort(key=lambda b: -abs(b.value))
        total = float(sum(b.value for b in branches))
        names = " + ".join(
            f"∂{self.label(down)}/∂{b.via}·∂{b.via}/∂{self.label(up)}" for b in branches
        )
        formula = names if len(branches) <= 3 else f"sum over {len(branches)} branches"
        return Link(self.label(down), self.label(up), formula, total, (), branches, (up, down))

    def _branch(self, up: tuple, via: tuple, down: tuple, inside: set) -> list[Link]:
        last = self._simple_link(up, via)
        if via == down:
            return [last]
        return [*self.chain(via, down, self._on_paths(via, down, inside)), last]

    # ----- formulas ---------------------------------------------------------------------------
    def _formula(self, up: tuple, down: tuple) -> tuple[str, tuple[str, ...]]:
        """The local derivative's formula along the operations from ``up`` to ``down``."""
        top, bottom = self.tensors[down[0]], self.tensors[up[0]]
        order, _ = self._segment(top)
        allowed = {id(t) for t in order if id(t) not in self.waypoints}
        paths: list[list[tuple[Any, int, Tensor]]] = []
        stack: list[tuple[Tensor, list]] = [(top, [])]
        while stack and len(paths) <= 4:
            node, path = stack.pop()
            for k, p in enumerate(node._ctx.inputs):
                step = [*path, (node._ctx, k, node)]
                if p is bottom:
                    paths.append(step)
                elif id(p) in allowed:
                    stack.append((p, step))
        operations = tuple(dict.fromkeys(fn.name for path in paths for fn, _, _ in path))
        if not paths:
            return "?", operations
        if len(paths) > 4:
            return f"sum over {len(paths)}+ paths through {', '.join(operations)}", operations
        top_index = np.unravel_index(down[1], top.shape) if top.ndim else ()
        bottom_index = np.unravel_index(up[1], bottom.shape) if bottom.ndim else ()
        texts = [self._path_formula(path, top_index, bottom_index) for path in reversed(paths)]
        return " + ".join(texts), operations

    def _path_formula(self, path: list, top_index: tuple, bottom_index: tuple) -> str:
        """One path's factors, output first. Which element each factor is about is followed down
        from the link's output element and up from its input element, through the operations that
        act element by element (where a factor is about a whole tensor, names stay bare)."""
        elementwise = [_documented_entry(fn, k)[1] for fn, k, _ in path]
        down: list[Any] = [top_index]  # element of each step's output, from the top
        for (fn, k, out), ew in zip(path, elementwise, strict=True):
            down.append(_input_index(down[-1], out.shape, fn.inputs[k].shape) if ew else None)
        up: list[Any] = [bottom_index]  # element of each step's input, from the bottom
        for (fn, k, out), ew in zip(reversed(path), reversed(elementwise), strict=True):
            same = ew and fn.inputs[k].shape == out.shape
            up.append(up[-1] if same else None)
        up = up[::-1][:-1]  # now: element of each step's output
        factors = []
        for step, (fn, k, out) in enumerate(path):
            element = down[step] if down[step] is not None else up[step]
            text = _op_formula(fn, k, out, element, self._name, alone=len(path) == 1)
            if text != "1":
                factors.append(text)
        if not factors:
            return "1"
        if len(factors) == 1:
            return factors[0]
        return " · ".join(_wrap(f) for f in factors)

    def _name(self, t: Tensor, element: Any) -> str:
        """How a formula calls ``t`` (element ``element`` of it, if known): its label, or for an
        unnamed intermediate between waypoints the expression that made it."""
        if id(t) not in self.waypoints and t._ctx is not None and not t.name:
            return _wrap(_expression(t, self.labels, 2, element))
        label = self.labels.get(id(t), "?")
        if element is not None and t.size > 1:
            label += f"[{','.join(str(int(i)) for i in element)}]"
        return label


# ----- reading the operations' docstrings ----------------------------------------------------
_SUPER = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ᵖˣʸⁱʲⁿᵏ"
_PLAIN = "0123456789−+pxyijnk"
_TO_PLAIN = str.maketrans(_SUPER, _PLAIN)
_TO_SUPER = str.maketrans("0123456789-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")
_LETTER = re.compile(r"(?<![A-Za-z_])([A-Za-z])(?![A-Za-z0-9_])")  # x, 2x, σ(x); not ln, x1
_DERIVATIVE = re.compile(r"∂([zZL])/∂([A-Za-z])([ᵢⱼₖ]*)\s*=\s*")
_NOTE = re.compile(r",\s+(?:taken|as|which|unlike|see|because|with|the)\b.*$")


@functools.cache
def _documented(cls: type) -> tuple[dict[str, tuple[str, bool, bool]], str, dict[str, str]]:
    """From an operation's docstring: {input letter: (formula, elementwise, is a VJP)}, the text
    shown when no derivative is written as ``∂z/∂x = …``, and {letter: parameter name} for the
    constants the definition names ("for a constant number p").

    A derivative runs from its ``∂z/∂x =`` to the next one (or the paragraph's end); an
    elementwise one is written ∂z/∂x, one about a whole tensor ∂z/∂xᵢ or ∂L/∂X (a VJP)."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    paragraph = " ".join(doc.split("\n\n")[0].split("\n"))
    marks = list(_DERIVATIVE.finditer(paragraph))
    found = {}
    for k, m in enumerate(marks):
        out, letter, sub = m.groups()
        stop = marks[k + 1].start() if k + 1 < len(marks) else len(paragraph)
        found.setdefault(
            letter, (_clean(paragraph[m.end() : stop]), not sub and out == "z", out == "L")
        )
    definition = paragraph[: marks[0].start()] if marks else paragraph
    constants = {}
    for letter in re.findall(r"constant (?:number |scalar )?([A-Za-z])\b", definition):
        constants[letter] = letter
    parts = [p.strip() for p in re.split(r"\s{3,}", paragraph) if p.strip()]
    fallback = re.split(r";\s|\.\s", " ".join(parts[1:]) or doc.split("\n")[0])[0].rstrip(".")
    if len(fallback) > 60:  # a derivative described at length: its first words, for a factor
        fallback = fallback[:59].rstrip(" ,") + "…"
    return found, fallback, constants


def _clean(text: str) -> str:
    """The formula alone: notes removed ("; at x = 0 it is …", ": …", "(0 at x = 0)",
    ", taken as …"), and of several equal forms the last, in the output's terms
    (σ(x)(1 − σ(x)) = z(1 − z)) unless the formula has conditions ("½ where x = y")."""
    text = re.split(r";\s|:\s|\.\s", text.strip())[0].strip().rstrip(".,;")
    while True:
        m = re.search(r"\s*\(([^()]*)\)\s*$", text)
        if not m or not re.search(r"[A-Za-z]{2,}", m.group(1)):
            break
        text = text[: m.start()].rstrip(" ,")
    text = _NOTE.sub("", text).strip().rstrip(".,;")
    if re.search(r"\b(?:where|for|if|when|at)\b", text):
        return text
    return text.split(" = ")[-1].strip()


def _input_letters(cls: type, count: int) -> list[str | None]:
    """The letter each input has in the docstring: forward's parameter names, in order."""
    try:
        params = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return [None] * count
    letters: list[str | None] = []
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return letters + [p.name[0]] * (count - len(letters))
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and len(letters) < count:
            letters.append(p.name if len(p.name) == 1 else None)
    return letters + [None] * (count - len(letters))


def _documented_entry(fn: Any, k: int) -> tuple[str | None, bool, bool]:
    """(∂out/∂input k as its docstring writes it or None, whether elementwise, whether a VJP)."""
    found, _, _ = _documented(type(fn))
    letter = _doc_letters(fn)[k]
    return found.get(letter, (None, False, False)) if letter else (None, False, False)


def _doc_letters(fn: Any) -> list[str | None]:
    """The letter the docstring gives each input: forward's parameter name (X for x too), or,
    when the docstring uses other letters for as many inputs, its letters in order."""
    cls = type(fn)
    found, _, _ = _documented(cls)
    letters = []
    for name in _input_letters(cls, len(fn.inputs)):
        match = [c for c in (name, name.upper(), name.lower()) if name and c in found]
        letters.append(match[0] if match else name)
    if not any(letter in found for letter in letters) and len(found) == len(fn.inputs):
        letters = list(found)  # x, y as they appear, for forward(self, a, b)
    return letters


def _op_formula(fn: Any, k: int, out: Tensor, element: Any, name: Any, alone: bool) -> str:
    """∂out/∂(input k) as the operation's docstring writes it, with the graph's names (for the
    ``element`` of ``out`` when the derivative is elementwise). An operation whose docstring says
    it in words (Reshape: "the gradient is g with x's shape") is quoted when it is the link's only
    operation, and named in brackets inside a product."""
    cls = type(fn)
    _, fallback, constants = _documented(cls)
    letters = _doc_letters(fn)
    mine = letters[k]
    text, elementwise, vjp = _documented_entry(fn, k)
    if text is None:
        return f"{fn.name}: {fallback[:1].lower()}{fallback[1:]}" if alone else f"[{fn.name}]"
    values: dict[str, str] = {}
    for i, letter in enumerate(letters):
        if letter is not None:
            t = fn.inputs[i]
            idx = _input_index(element, out.shape, t.shape) if elementwise else None
            values[letter] = values[letter.upper()] = name(t, idx)
    values["z"] = values["Z"] = name(out, element if elementwise else None)
    numbers = [v for v in (fn.params or {}).values() if isinstance(v, (int, float))]
    for letter in constants:
        if len(numbers) == 1 and not isinstance(numbers[0], bool):
            values[letter] = _number(numbers[0])
    result = _substitute(text, values)
    if vjp:
        result = f"∂L/∂{values.get(mine, mine)} = {result}"
    return result


def _substitute(text: str, values: dict[str, str]) -> str:
    text = re.sub(f"[{_SUPER}]+", lambda m: "^(" + m.group(0).translate(_TO_PLAIN) + ")", text)

    def letter(m: re.Match) -> str:
        if m.group(1) not in values:
            return m.group(1)
        name = values[m.group(1)]
        after_digit = m.start() > 0 and m.string[m.start() - 1].isdigit()
        return ("·" if after_digit and len(name) > 1 else "") + name  # 2x -> 2·out_h1, 2z

    text = _LETTER.sub(letter, text)

    def power(m: re.Match) -> str:
        exponent = m.group(1)
        number = _arithmetic(exponent)
        if number is not None:
            if number == 1:
                return ""
            if float(number).is_integer():
                return str(int(number)).translate(_TO_SUPER)
            return f"^({_number(number)})"
        return f"^{exponent}" if re.fullmatch(r"\w+", exponent) else f"^({exponent})"

    return re.sub(r"\^\(([^()]*)\)", power, text)


def _arithmetic(text: str) -> float | None:
    """The value of ``a``, ``a + b`` or ``a − b`` written with plain numbers, else None."""
    m = re.fullmatch(r"\s*(−?[0-9.]+)\s*(?:([+−-])\s*([0-9.]+))?\s*", text)
    if m is None:
        return None
    try:
        first = float(m.group(1).replace("−", "-"))
        second = float(m.group(3)) if m.group(3) else 0.0
    except ValueError:
        return None
    return first + second if m.group(2) in (None, "+") else first - second


def _number(value: Any) -> str:
    value = float(value)
    text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    return text.replace("-", "−")


def _wrap(text: str) -> str:
    """``text`` in parentheses if it is a sum, starts with a minus or has conditions ("1 where
    x > 0, else 0"), so that it can be multiplied safely."""
    if re.search(r",\s|\s(?:where|for)\s", text) and not text.startswith("("):
        return f"({text})"
    depth, top_level = 0, False
    for i, ch in enumerate(text):
        depth += ch in "([" and 1 or 0
        depth -= ch in ")]" and 1 or 0
        if depth == 0 and ch in "+−-" and (i == 0 or text[i - 1] == " "):
            top_level = True
    return f"({text})" if top_level else text


def _input_index(index: Any, out_shape: tuple, in_shape: tuple) -> Any:
    """The element of a broadcast input that feeds element ``index`` of the output."""
    if index is None or len(in_shape) > len(out_shape):
        return None
    index = tuple(index)[len(out_shape) - len(in_shape) :]
    return tuple(0 if n == 1 else i for i, n in zip(index, in_shape, strict=True))


_INFIX = {"Add": " + ", "Sub": " − ", "Mul": "·", "Div": "/", "MatMul": " @ "}
_FUNCTIONS = {"Exp": "exp", "Log": "ln", "Sqrt": "√", "Tanh": "tanh", "Sigmoid": "σ"}


def _expression(t: Tensor, labels: dict[int, str], depth: int, element: Any = None) -> str:
    """A short formula for an unnamed intermediate, from the operations that made it (about its
    ``element`` when known, through the elementwise operations)."""
    if t._ctx is None or t.name:
        label = labels.get(id(t), "?")
        if element is not None and t.size > 1:
            label += f"[{','.join(str(int(i)) for i in element)}]"
        return label
    if depth == 0:
        return "…"
    fn = t._ctx
    elementwise = fn.name in _INFIX and fn.name != "MatMul" or fn.name in ("Neg", "PowScalar")
    elementwise = elementwise or fn.name in _FUNCTIONS
    args = [
        _expression(
            p, labels, depth - 1, _input_index(element, t.shape, p.shape) if elementwise else None
        )
        for p in fn.inputs
    ]
    if fn.name in _INFIX and len(args) == 2:
        return _INFIX[fn.name].join(_wrap(a) if fn.name != "Add" else a for a in args)
    if fn.name == "Neg":
        return "−" + _wrap(args[0])
    if fn.name == "PowScalar":
        return _substitute(f"{_wrap(args[0])}^({_number(fn.params['exponent'])})", {})
    if fn.name in _FUNCTIONS:
        return f"{_FUNCTIONS[fn.name]}({args[0]})"
    return f"{fn.name.lower()}({', '.join(args)})"
