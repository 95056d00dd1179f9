"""Pictures of the computation graph: ``draw_graph(root)`` gives a ``graphviz.Digraph``.

Tensors are boxes, operations are ellipses, and the edges follow the data: input tensor -> op ->
output tensor. Parameters (leaves that require grad) are blue boxes with a bold border, constants
are grey dashed boxes labelled by their value, intermediate results are white rounded boxes and
the root has a double border. Every tensor that has a gradient shows it: leaves after
``backward()``, intermediates that ``retain_grad()``. With ``model=`` each module is a labelled
cluster (or one box, ``collapse_modules=True``); ``explain(...).draw()`` marks the chain rule's
path with each tensor's adjoint and each edge's local derivative. The DOT text
(``graph.source``) needs nothing installed; turning it into SVG or PNG needs Graphviz's ``dot``
program (Debian/Ubuntu: ``apt-get install graphviz``).
"""

from __future__ import annotations

import contextlib
import math
import os
import weakref
from collections.abc import Iterator
from typing import Any

import graphviz
import numpy as np

from .engine import topological_order
from .tensor import Tensor

__all__ = [
    "ComputationGraph",
    "DotNotFoundError",
    "draw_graph",
    "record_modules",
    "render",
    "tensor_labels",
]

MAX_SHOWN_ELEMENTS = 12  # tensors up to this size show every value; larger ones a short preview
_STYLES = {
    "parameter": {"shape": "box", "style": "filled,bold", "fillcolor": "#a6cee3"},
    "intermediate": {"shape": "box", "style": "filled,rounded", "fillcolor": "white"},
    "constant": {
        "shape": "box",
        "style": "filled,dashed",
        "fillcolor": "#eeeeee",
        "fontcolor": "#555555",
    },
    "operation": {
        "shape": "ellipse",
        "style": "filled",
        "fillcolor": "#ffeda0",
        "height": "0.3",
        "margin": "0.03,0.01",
    },
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#fdd49e"},
}
_PATH = {"color": "#d7301f", "penwidth": "2"}  # explain(...).draw(): the chain rule's path
_INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered to an image. "
    "Install the Debian/Ubuntu package graphviz (`apt-get install graphviz`; macOS: `brew install "
    "graphviz`). The DOT text is available without it: graph.source"
)


class DotNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's ``dot`` program, which is not installed.

    A subclass of ``graphviz.ExecutableNotFound``, so code catching that keeps working.
    """

    def __init__(self, message: str = _INSTALL_HINT) -> None:
        RuntimeError.__init__(self, message)


class ComputationGraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering names the package to install when ``dot`` is missing.

    Everything else is graphviz's own: ``.source`` (DOT text), ``.render()``, ``.pipe()`` and the
    inline display in Jupyter (``_repr_mimebundle_``, which renders SVG through ``pipe``).
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as err:
            raise DotNotFoundError() from err

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as err:
            raise DotNotFoundError() from err


def draw_graph(
    root: Tensor,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str | None = None,
    params: dict[str, Tensor] | None = None,
    model: Any = None,
    collapse_modules: bool = False,
) -> ComputationGraph:
    """The graph of operations behind ``root`` as a ``graphviz.Digraph`` (a ``ComputationGraph``).

    Each tensor is labelled with its name (from ``params``, else ``tensor.name``, else a generated
    ``t0``, ``t1``, … in the order the values are computed; an unnamed one-element constant by its
    value), shape and dtype; a tensor of at most 12 elements also shows its value (``show_data``)
    and its gradient when it has one (``show_grad``: leaves after ``backward``, intermediates that
    ``retain_grad()``), rounded to 4 significant digits. Each operation shows its name and
    parameters (axis, keepdims, exponent, …). Drawing after ``backward`` works: a freed graph
    still knows its inputs, and released values say so.

    ``rankdir`` is Graphviz's layout direction ("TB" top to bottom, "LR" left to right); the
    default ``None`` picks the one that gives the graph a page-like shape (a long chain runs down
    the page, a wide graph across). ``model`` (an ``nn.Module``, or a list or dict of them such as
    ``[model, loss_fn]``) draws each module as a labelled cluster and names its parameters
    (``0.weight``); ``collapse_modules=True`` draws each innermost module as one box. Modules are
    recognised from calls made inside ``with record_modules(model, loss_fn):`` (every module,
    activations and losses too); for a graph built outside it, from the parameters each module's
    operations use (modules without parameters are then not marked).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph expects a Tensor, got {type(root).__name__}")
    drawing = _Drawing(root, show_data, show_grad, params, model)
    if model is not None and collapse_modules:
        drawing.collapse()
    return drawing.emit(rankdir)


def tensor_labels(root: Any, params: dict[str, Any] | None = None) -> dict[int, str]:
    """id(tensor) -> the label pictures and ``explain`` use: its name from ``params``, else
    ``tensor.name``, else an unnamed one-element constant's value (``0.5``), else a generated
    ``t0``, ``t1``, … in the order the values are computed."""
    given = {id(t): name for name, t in (params or {}).items()}
    labels: dict[int, str] = {}
    generated = 0
    for t in topological_order(root, constants=True):
        name = given.get(id(t)) or t.name
        if name is None and t._ctx is None and not t.requires_grad and t.data is not None:
            if t.data.size == 1:
                name = f"{float(t.data.reshape(-1)[0]):.6g}"
        if name is None:
            name, generated = f"t{generated}", generated + 1
        labels[id(t)] = name
    return labels


def render(graph: graphviz.Digraph, path: str | os.PathLike, format: str | None = None) -> str:
    """Write ``graph`` as an image to ``path`` (format from the extension unless given): the path.

    Unlike ``graph.render``, it leaves no DOT source file beside the image. Raises
    ``DotNotFoundError`` naming the package to install when Graphviz's ``dot`` is missing.
    """
    path = os.fspath(path)
    format = format or os.path.splitext(path)[1].lstrip(".") or "svg"
    try:
        image = graph.pipe(format=format)
    except DotNotFoundError:
        raise
    except graphviz.ExecutableNotFound as err:
        raise DotNotFoundError() from err
    with open(path, "wb") as file:
        file.write(image)
    return path


# ----- modules: which tensors each module made --------------------------------------------------
_CALLS: dict[int, tuple[Any, list]] = {}  # id(output tensor) -> (weak ref to it, module calls)
_SEQUENCE = iter(range(1, 2**62))


@contextlib.contextmanager
def record_modules(*modules: Any) -> Iterator[None]:
    """Inside the block, remember which module made which tensors, so that
    ``draw_graph(loss, model=...)`` can draw every module (activations and losses too) as a
    cluster: ``with record_modules(model, loss_fn): loss = loss_fn(model(x), y)``.

    Each module's ``forward`` is wrapped for the block only (``Module.__call__`` calls
    ``self.forward``); nothing is recorded outside it, and the records go with the tensors.
    """
    wrapped = []
    for top in modules:
        for module in top.modules():
            if "forward" in vars(module):  # already wrapped by an enclosing block
                continue
            object.__setattr__(module, "forward", _recording(module, module.forward))
            wrapped.append(module)
    try:
        yield
    finally:
        for module in wrapped:
            object.__delattr__(module, "forward")


def _recording(module: Any, forward: Any) -> Any:
    def forward_and_record(*args: Any, **kwargs: Any) -> Any:
        result = forward(*args, **kwargs)
        inputs = [weakref.ref(t) for t in _tensors_in((args, kwargs))]
        call = (next(_SEQUENCE), weakref.ref(module), inputs)
        for out in _tensors_in(result):
            entry = _CALLS.get(id(out))
            if entry is None or entry[0]() is not out:
                key = id(out)
                entry = _CALLS[key] = (weakref.ref(out, lambda _, k=key: _CALLS.pop(k, None)), [])
            entry[1].append(call)
        return result

    return forward_and_record


def _tensors_in(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors_in(item)]
    return []


def _named_modules(model: Any) -> list[tuple[str, Any]]:
    """(cluster name, module) for every module of ``model`` (a module, or a list/dict of them)."""
    if isinstance(model, dict):
        tops = list(model.items())
    elif isinstance(model, (list, tuple)):
        counts: dict[str, int] = {}
        tops = []
        for m in model:
            kind = type(m).__name__
            counts[kind] = counts.get(kind, 0) + 1
            tops.append((kind if counts[kind] == 1 else f"{kind}#{counts[kind]}", m))
    else:
        tops = [("", model)]
    found, seen = [], set()
    for prefix, top in tops:
        if not hasattr(top, "named_modules"):
            raise TypeError(
                f"draw_graph: model must be an nn.Module or a list/dict of them; got "
                f"{type(top).__name__}"
            )
        for name, module in top.named_modules(prefix=prefix):
            if id(module) not in seen:
                seen.add(id(module))
                found.append((name, module))
    return found


def _module_owners(order: list, model: Any) -> tuple[dict[int, str], dict[str, Any]]:
    """(id(tensor) -> the name of the innermost module that made it, name -> module)."""
    modules = _named_modules(model)
    name_of = {id(m): name for name, m in modules}
    owner: dict[int, str] = {}
    calls = []
    for t in order:
        entry = _CALLS.get(id(t))
        if entry is not None and entry[0]() is t:
            calls += [(seq, ref(), inputs, t) for seq, ref, inputs in entry[1]]
    for _, module, inputs, out in sorted(calls, key=lambda c: c[0]):  # inner calls end first
        if id(module) not in name_of:
            continue
        own = {id(p) for p in _own_parameters(module)}
        stop = {id(ref()) for ref in inputs}
        stack, seen = [out], set()
        while stack:
            t = stack.pop()
            if id(t) in seen or id(t) in stop:
                continue
            seen.add(id(t))
            if t._ctx is None and t.requires_grad and id(t) not in own:
                continue  # someone else's parameter, used here
            owner.setdefault(id(t), name_of[id(module)])
            if t._ctx is not None:
                stack.extend(t._ctx.inputs)
    if not calls:  # drawn from a graph built outside record_modules: what parameters tell
        for name, module in modules:
            derived = {id(p) for p in _own_parameters(module)}
            for t in order:
                if id(t) in derived:
                    owner.setdefault(id(t), name)
                elif t._ctx is not None and any(id(p) in derived for p in t._ctx.inputs):
                    owner.setdefault(id(t), name)
                    # made from the parameters alone (W.T) it is the module's too; a constant of
                    # more than one number is data from outside (the input x)
                    if all(id(p) in derived or p.size == 1 for p in t._ctx.inputs):
                        derived.add(id(t))
    return owner, dict(modules)


def _own_parameters(module: Any) -> list:
    return [p for _, p in module.named_parameters(recurse=False)]


# ----- building the picture ---------------------------------------------------------------------
class _Drawing:
    """Nodes (id -> label, style, cluster), edges and clusters, emitted as DOT at the end."""

    def __init__(
        self, root: Tensor, show_data: bool, show_grad: bool, params: Any, model: Any
    ) -> None:
        self.root = root
        self.order = topological_order(root, constants=True)
        names = dict(params or {})
        owners, self.modules = ({}, {})
        if model is not None:
            names = {**_parameter_names(model), **names}
            owners, self.modules = _module_owners(self.order, model)
        self.labels = tensor_labels(root, names)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.node_of: dict[int, str] = {}
        for k, t in enumerate(self.order):
            if t is not root and _is_number_constant(t):  # drawn where it is used, below
                continue
            node = f"tensor{k}"
            self.node_of[id(t)] = node
            kind = _kind(t)
            label = _tensor_label(t, self.labels[id(t)], kind, show_data, show_grad)
            style = {**_STYLES[kind], **({"peripheries": "2"} if t is root else {})}
            self.nodes[node] = {"label": label, "attrs": style, "cluster": owners.get(id(t))}
            fn = t._ctx
            if fn is not None:
                op = f"op{k}"
                self.nodes[op] = {
                    "label": _op_label(fn),
                    "attrs": dict(_STYLES["operation"]),
                    "cluster": owners.get(id(t)),
                }
                for i, parent in enumerate(fn.inputs):
                    tail = self.node_of.get(id(parent))
                    if tail is None:  # a number: one box at each use (one object serves them all)
                        tail = f"number{k}_{i}"
                        label = _tensor_label(
                            parent, self.labels[id(parent)], "constant", False, False
                        )
                        self.nodes[tail] = {
                            "label": label,
                            "attrs": dict(_STYLES["constant"]),
                            "cluster": owners.get(id(t)),
                        }
                    self.edges.append((tail, op, {}))
                self.edges.append((op, node, {}))

    def collapse(self) -> None:
        """One box per innermost module: its tensors and operations become that box."""
        used = {n["cluster"] for n in self.nodes.values() if n["cluster"] is not None}
        inner = {c for c in used if not any(_parent(o, self.modules) == c for o in used)}
        box_of = {}
        for name in sorted(inner, key=list(self.modules).index):
            module = self.modules[name]
            box = f"module{len(box_of)}"
            box_of[name] = box
            params = ", ".join(
                f"{n} {_shape_text(tuple(p.shape))}"
                for n, p in module.named_parameters(recurse=False)
            )
            parent = _parent(name, self.modules)
            title = _cluster_title(name, module, parent)
            self.nodes[box] = {
                "label": "\\n".join(filter(None, [title, params])),
                "attrs": dict(_STYLES["module"]),
                "cluster": parent,
            }
        mapped = {}
        for node, info in list(self.nodes.items()):
            if info["cluster"] in box_of and node not in box_of.values():
                mapped[node] = box_of[info["cluster"]]
                del self.nodes[node]
        edges, seen = [], set()
        for tail, head, attrs in self.edges:
            tail, head = mapped.get(tail, tail), mapped.get(head, head)
            if tail != head and (tail, head) not in seen:
                seen.add((tail, head))
                edges.append((tail, head, attrs))
        self.edges = edges
        for name in inner:  # a collapsed module is a box, not a cluster around one
            self.modules.pop(name, None)

    def emit(self, rankdir: str | None) -> ComputationGraph:
        direction = rankdir or _choose_rankdir(self.nodes, self.edges)
        graph = ComputationGraph(
            name="autograd_lite",
            graph_attr={"rankdir": direction, "nodesep": "0.2", "ranksep": "0.3"},
        )
        graph.attr("node", fontname="Helvetica", fontsize="10", margin="0.06,0.03")
        graph.attr("edge", color="#555555", arrowsize="0.7", fontname="Helvetica", fontsize="9")
        members: dict[Any, list[str]] = {}
        for node, info in self.nodes.items():
            cluster = info["cluster"] if info["cluster"] in self.modules else None
            members.setdefault(cluster, []).append(node)
        drawn = set()  # clusters holding a node, and every cluster around them
        for name in members:
            while name is not None and name not in drawn:
                drawn.add(name)
                name = _parent(name, self.modules)
        children: dict[Any, list[str]] = {}
        for name in self.modules:
            if name in drawn:
                children.setdefault(_parent(name, self.modules), []).append(name)
        numbers = {name: k for k, name in enumerate(self.modules)}

        def fill(target: Any, cluster: Any) -> None:
            for child in children.get(cluster, []):
                with target.subgraph(name=f"cluster_{numbers[child]}") as sub:
                    sub.attr(
                        label=_cluster_title(child, self.modules[child], cluster),
                        style="rounded,dashed",
                        color="#888888",
                        fontname="Helvetica",
                        fontsize="10",
                    )
                    fill(sub, child)
            for node in members.get(cluster, []):
                info = self.nodes[node]
                target.node(node, info["label"], **info["attrs"])

        fill(graph, None)
        for tail, head, attrs in self.edges:
            graph.edge(tail, head, **attrs)
        return graph


def _is_number_constant(t: Any) -> bool:
    """A constant number (0-d, outside the graph): operations on Python numbers share them."""
    return t._ctx is None and not t.requires_grad and t.data is not None and t.data.ndim == 0


def _parent(name: str, modules: dict[str, Any]) -> str | None:
    """The name of the nearest drawn module around ``name``, or None."""
    while name:
        name = name.rpartition(".")[0]
        if name in modules:
            return name
    return None


def _cluster_title(name: str, module: Any, parent: str | None = None) -> str:
    kind = type(module).__name__
    shown = name[len(parent) + 1 :] if parent else name
    return kind if shown in ("", kind) else f"{shown}: {kind}"


def _parameter_names(model: Any) -> dict[str, Any]:
    if isinstance(model, dict):
        return {f"{k}.{n}": p for k, m in model.items() for n, p in m.named_parameters()}
    if isinstance(model, (list, tuple)):  # plain names (0.weight), prefixed only if they clash
        names: dict[str, Any] = {}
        for prefix, module in _named_modules(model):
            if "." not in prefix:
                for n, p in module.named_parameters():
                    names[n if n not in names else f"{prefix}.{n}"] = p
        return names
    return dict(model.named_parameters())


def _choose_rankdir(nodes: dict, edges: list) -> str:
    """ "TB" or "LR", whichever gives the picture the aspect nearer a page's (about 1.4:1).

    A rank is a node's longest distance from a source; the picture is about ranks deep and
    (widest rank) nodes broad, with node sizes estimated from their labels (Helvetica 10).
    """
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    waiting = dict.fromkeys(nodes, 0)
    for tail, head, _ in edges:
        succs[tail].append(head)
        waiting[head] += 1
    rank = dict.fromkeys(nodes, 0)
    ready = [n for n, count in waiting.items() if count == 0]
    while ready:  # Kahn's order: a node's rank is final once all its inputs are placed
        node = ready.pop()
        for nxt in succs[node]:
            rank[nxt] = max(rank[nxt], rank[node] + 1)
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    per_rank: dict[int, list[str]] = {}
    for node, r in rank.items():
        per_rank.setdefault(r, []).append(node)
    sizes = {n: _label_size(info["label"]) for n, info in nodes.items()}
    tb_w = max(sum(sizes[n][0] + 0.2 for n in ns) for ns in per_rank.values())
    tb_h = sum(max(sizes[n][1] for n in ns) + 0.3 for ns in per_rank.values())
    lr_w = sum(max(sizes[n][0] for n in ns) + 0.3 for ns in per_rank.values())
    lr_h = max(sum(sizes[n][1] + 0.2 for n in ns) for ns in per_rank.values())
    target = math.log(1.4)
    tb = abs(math.log(tb_w / tb_h) - target)
    lr = abs(math.log(lr_w / lr_h) - target)
    return "LR" if lr < tb else "TB"


def _label_size(label: str) -> tuple[float, float]:
    """(width, height) in inches of a node with this label, roughly, in Helvetica 10."""
    lines = label.split("\\n")
    return 0.2 + 0.075 * max(len(line) for line in lines), 0.1 + 0.17 * len(lines)


def _kind(t: Any) -> str:
    if t._ctx is not None:
        return "intermediate"
    return "parameter" if t.requires_grad else "constant"


def _tensor_label(t: Any, name: str, kind: str, show_data: bool, show_grad: bool) -> str:
    if kind == "constant" and t.name is None and t.data is not None and t.data.size == 1:
        return name  # a constant shows as its value, nothing more to say
    lines = [name, f"{_shape_text(t.shape)} {t.dtype}"]
    if show_data:
        # backward() without retain_graph released intermediate values; the structure remains
        lines.append("data released" if t.data is None else f"data {_array_text(t.data)}")
    if show_grad and t._grad is not None:  # leaves, and results that retain_grad()
        lines.append(f"grad {_array_text(t._grad)}")
    # DOT's own line break escape; array2string's row breaks become line breaks too.
    return "\\n".join(lines).replace("\n", "\\n")


def _op_label(fn: Any) -> str:
    params = getattr(fn, "params", None) or {}
    # None and False are the defaults (axis=None, keepdims=False): leaving them out saves room.
    shown = [f"{k}={_param_text(v)}" for k, v in params.items() if v is not None and v is not False]
    return "\\n".join([fn.name, ", ".join(shown)]) if shown else fn.name


def _shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else str(tuple(shape))


def _number(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.4g}"


def _array_text(array: np.ndarray) -> str:
    """Every value of a small array, rounded (a column vector on one line); the first few of a
    large one, and how many."""
    array = np.asarray(array)
    if array.size <= MAX_SHOWN_ELEMENTS:
        if array.ndim == 2 and array.shape[1] == 1:
            return "[" + ", ".join(f"[{_number(v)}]" for v in array[:, 0]) + "]"
        return np.array2string(array, separator=", ", formatter={"all": _number}, max_line_width=60)
    head = ", ".join(_number(v) for v in array.reshape(-1)[:3])
    return f"[{head}, … {array.size} values]"


def _param_text(value: Any) -> str:
    """An operation's parameter in a few characters: arrays (an index, a condition) abbreviated."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return np.array2string(value, separator=",", formatter={"all": _number})
        return f"<{value.dtype} array {_shape_text(value.shape)}>"
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if isinstance(value, tuple):
        inner = ", ".join(_param_text(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, (float, np.floating)):
        return _number(value)
    return str(value)


# ----- explain(...).draw() ----------------------------------------------------------------------
def draw_explanation(explanation: Any, show_data: bool = True, rankdir: str | None = None) -> Any:
    """The graph behind the explanation's output with the path from ``wrt`` marked: each tensor's
    adjoint ∂output/∂tensor, and on the path each edge's local derivative."""
    graph = explanation._graph
    output = graph.tensors[-1]
    drawing = _Drawing(output, show_data, False, None, None)
    adjoints = _adjoints(output)
    on_path = {id(t) for t in graph.tensors}
    out_name = graph.labels[id(output)]
    for t in drawing.order:
        if id(t) not in drawing.node_of:  # a number, drawn at each use without a label of its own
            continue
        node = drawing.nodes[drawing.node_of[id(t)]]
        if id(t) in adjoints:
            node["label"] += f"\\n∂{out_name}/∂· {_array_text(adjoints[id(t)])}"
        if id(t) in on_path:
            node["attrs"] = {**node["attrs"], **_PATH}
    ops = {f"op{k}": t for k, t in enumerate(drawing.order) if id(t) in on_path and t._ctx}
    labels = _edge_labels(explanation)
    edges = []
    for tail, head, attrs in drawing.edges:
        if head in ops and ops[head] is not graph.tensors[0]:
            t = ops[head]
            parents = [p for p in t._ctx.inputs if drawing.node_of.get(id(p)) == tail]
            if parents and id(parents[0]) in on_path:
                attrs = {**_PATH, **attrs}
                drawing.nodes[head]["attrs"] = {**drawing.nodes[head]["attrs"], **_PATH}
                text = labels.get((id(parents[0]), id(t))) or _scalar_local(t, parents[0])
                if text:
                    attrs["label"] = text
        elif tail in ops and ops[tail] is not graph.tensors[0]:
            attrs = {**_PATH, **attrs}
        edges.append((tail, head, attrs))
    drawing.edges = edges
    return drawing.emit(rankdir)


def _adjoints(output: Tensor) -> dict[int, np.ndarray]:
    """∂output/∂t for every tensor behind ``output``, through each operation's own backward
    (the engine's pass is not run: no .grad changes, no hook fires)."""
    order = topological_order(output)
    grads = {id(output): np.ones(output.shape, dtype=output.dtype)}
    for t in reversed(order):
        g = grads.get(id(t))
        if g is None or t._ctx is None:
            continue
        for parent, pg in t._ctx.input_grads(g):
            grads[id(parent)] = pg if id(parent) not in grads else grads[id(parent)] + pg
    return grads


def _scalar_local(out: Tensor, parent: Tensor) -> str:
    """∂out/∂parent when both hold one number (one operation, so one local derivative)."""
    if out.size != 1 or parent.size != 1:
        return ""
    total = 0.0
    for p, g in out._ctx.input_grads(np.ones(out.shape, dtype=out.dtype)):
        if p is parent:
            total += float(np.asarray(g).reshape(-1)[0])
    return _number(total)


def _edge_labels(explanation: Any) -> dict[tuple[int, int], str]:
    """(id(input), id(result)) -> "∂result[j]/∂input[i] = v" for the chain's one-operation links
    between tensors of more than one element (scalars get their exact local derivative)."""
    graph = explanation._graph
    found: dict[tuple[int, int], list[str]] = {}
    stack = list(explanation.links)
    while stack:
        link = stack.pop()
        for branch in link.branches[:3]:
            stack.extend(branch.links)
        if link.branches or not link.nodes:
            continue
        up, down = (graph.tensors[n[0]] for n in link.nodes)
        if up.size == 1 and down.size == 1:
            continue
        if down._ctx is not None and any(p is up for p in down._ctx.inputs):
            texts = found.setdefault((id(up), id(down)), [])
            if len(texts) < 3:
                texts.append(f"{link.symbol} = {_number(link.value)}")
    return {key: "\\n".join(texts) for key, texts in found.items()}
