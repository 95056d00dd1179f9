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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import versions
from .engine import topological_order
from .formulas import _documented_entry, _expression, _input_index, _op_formula, _wrap
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
