"""Pictures of the computation graph: ``draw_graph(root)`` gives a ``graphviz.Digraph``.

Tensors are boxes, operations are ellipses, and the edges follow the data: input tensor -> op ->
output tensor. Parameters (leaves that require grad) are blue boxes with a bold border, constants
are grey dashed boxes, intermediate results are white rounded boxes and the root has a double
border. The DOT text (``graph.source``) needs nothing installed; turning it into SVG or PNG needs
Graphviz's ``dot`` program (Debian/Ubuntu: ``apt-get install graphviz``).
"""

from __future__ import annotations

import os
from typing import Any

import graphviz
import numpy as np

from .engine import topological_order
from .tensor import Tensor

__all__ = ["ComputationGraph", "DotNotFoundError", "draw_graph", "render"]

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
    "operation": {"shape": "ellipse", "style": "filled", "fillcolor": "#ffeda0"},
}
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
    rankdir: str = "LR",
    params: dict[str, Tensor] | None = None,
) -> ComputationGraph:
    """The graph of operations behind ``root`` as a ``graphviz.Digraph`` (a ``ComputationGraph``).

    Each tensor is labelled with its name (from ``params``, else ``tensor.name``, else a generated
    ``t0``, ``t1``, … in the order the values are computed), shape and dtype; a tensor of at most
    12 elements also shows its value (``show_data``) and, once ``backward`` has filled it, its
    gradient (``show_grad``), rounded to 4 significant digits. Each operation shows its name and
    parameters (axis, keepdims, exponent, …). ``params`` maps names to tensors, e.g.
    ``dict(model.named_parameters())``, to label a model's weights. Drawing after ``backward``
    works: a freed graph still knows its inputs. ``rankdir`` is Graphviz's layout direction
    ("LR" left to right, "TB" top to bottom).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph expects a Tensor, got {type(root).__name__}")
    labels = {id(t): name for name, t in (params or {}).items()}
    order = topological_order(root, constants=True)
    graph = ComputationGraph(name="autograd_lite", graph_attr={"rankdir": rankdir})
    graph.attr("node", fontname="Helvetica", fontsize="10")
    graph.attr("edge", color="#555555", arrowsize="0.7")

    node_ids: dict[int, str] = {}
    generated = 0
    for t in order:
        node_id = f"tensor{len(node_ids)}"
        node_ids[id(t)] = node_id
        name = labels.get(id(t)) or t.name
        if name is None:
            name, generated = f"t{generated}", generated + 1
        kind = _kind(t)
        label = _tensor_label(t, name, show_data, show_grad)
        extra = {"peripheries": "2"} if t is root else {}
        graph.node(node_id, label, **_STYLES[kind], **extra)
        fn = t._ctx
        if fn is not None:
            op_id = f"op{node_id[len('tensor') :]}"
            graph.node(op_id, _op_label(fn), **_STYLES["operation"])
            for parent in fn.inputs:
                graph.edge(node_ids[id(parent)], op_id)
            graph.edge(op_id, node_id)
    return graph


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


def _kind(t: Tensor) -> str:
    if t._ctx is not None:
        return "intermediate"
    return "parameter" if t.requires_grad else "constant"


def _tensor_label(t: Tensor, name: str, show_data: bool, show_grad: bool) -> str:
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
    """Every value of a small array, rounded; the first few of a large one, and how many."""
    if array.size <= MAX_SHOWN_ELEMENTS:
        return np.array2string(
            np.asarray(array),
            separator=", ",
            formatter={"all": _number},
            max_line_width=60,
        )
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
