"""draw_graph: one node per tensor and per operation, the right labels, edges in data-flow order."""

import re
import shutil

import graphviz
import numpy as np
import pytest

from autograd_lite import Tensor, draw_graph, no_grad, where
from autograd_lite.graph import DotNotFoundError, render

NODE = re.compile(r'^\t(\w+) \[label=(?:"((?:[^"\\]|\\.)*)"|(\w+))(.*)\]$')
EDGE = re.compile(r"^\t(\w+) -> (\w+)$")
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's `dot` is not installed (CI has it)")


def parse(graph):
    """(nodes: id -> (label lines, attribute text), edges: list of (tail, head)) from graph.body."""
    nodes, edges = {}, []
    for line in graph.body:
        line = line.rstrip("\n")
        if m := NODE.match(line):
            label = m.group(2) if m.group(2) is not None else m.group(3)
            nodes[m.group(1)] = (label.split("\\n"), m.group(4))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
    return nodes, edges


def by_first_line(nodes):
    return {lines[0]: node_id for node_id, (lines, _) in nodes.items()}


def test_small_graph_has_one_node_per_tensor_and_operation_with_data_flow_edges():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    w = Tensor([0.5, -1.0, 2.0], name="w")
    product = x * w
    product.name = "product"
    total = product.sum(axis=0)
    total.name = "total"
    nodes, edges = parse(draw_graph(total))

    ids = by_first_line(nodes)
    assert sorted(ids) == ["Mul", "Sum", "product", "total", "w", "x"]
    assert len(nodes) == 6
    assert sorted(edges) == sorted(
        [
            (ids["x"], ids["Mul"]),
            (ids["w"], ids["Mul"]),
            (ids["Mul"], ids["product"]),
            (ids["product"], ids["Sum"]),
            (ids["Sum"], ids["total"]),
        ]
    )
    x_lines = nodes[ids["x"]][0]
    assert x_lines[1] == "(3,) float64"
    assert x_lines[2] == "data [1, 2, 3]"
    assert nodes[ids["total"]][0][1:] == ["scalar float64", "data 4.5"]
    assert nodes[ids["Sum"]][0] == ["Sum", "axis=0"]


def test_gradients_show_after_backward_rounded_to_four_digits():
    x = Tensor([[0.123456, -2.0]], requires_grad=True, name="x")
    loss = (x * Tensor([[3.0, 1.0]])).sum()
    before, _ = parse(draw_graph(loss))
    assert not any(line.startswith("grad") for lines, _ in before.values() for line in lines)
    loss.backward()  # frees the graph: drawing must still work
    nodes, _ = parse(draw_graph(loss))
    x_lines = nodes[by_first_line(nodes)["x"]][0]
    assert x_lines[2] == "data [[0.1235, -2]]"
    assert x_lines[3] == "grad [[3, 1]]"
    hidden, _ = parse(draw_graph(loss, show_data=False, show_grad=False))
    assert hidden[by_first_line(hidden)["x"]][0] == ["x", "(1, 2) float64"]


def test_large_tensors_are_abbreviated():
    x = Tensor(np.arange(100.0) / 7, requires_grad=True, name="big")
    nodes, _ = parse(draw_graph(x.sum()))
    data_line = nodes[by_first_line(nodes)["big"]][0][2]
    assert data_line == "data [0, 0.1429, 0.2857, … 100 values]"


def test_operation_labels_show_their_arguments_and_abbreviate_arrays():
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    picked = x[np.arange(40) % 4]
    masked = where(np.arange(20).reshape(4, 5) % 2 == 0, x, 0.0)
    out = (picked.sum(axis=1, keepdims=True) ** 3).mean() + masked[1:3, ...].max()
    labels = [lines for lines, _ in parse(draw_graph(out))[0].values()]
    ops = {lines[0]: lines[1:] for lines in labels if lines[0][0].isupper()}
    assert ops["Sum"] == ["axis=1, keepdims=True"]
    assert ops["PowScalar"] == ["exponent=3"]
    assert ops["Mean"] == []  # axis=None and keepdims=False are the defaults, left out
    assert ops["Where"] == ["cond=<bool array (4, 5)>"]
    getitem_args = [lines[1:] for lines in labels if lines[0] == "GetItem"]
    assert sorted(getitem_args) == [["index=(1:3, ...)"], ["index=<int64 array (40,)>"]]


def test_parameters_constants_and_intermediates_look_different():
    w = Tensor([1.0], requires_grad=True, name="w")
    c = Tensor([2.0], name="c")
    out = (w * c).sum()
    nodes, _ = parse(draw_graph(out))
    ids = by_first_line(nodes)
    styles = {name: nodes[ids[name]][1] for name in ["w", "c", "t0", "t1", "Mul"]}
    assert len({styles["w"], styles["c"], styles["t0"], styles["Mul"]}) == 4
    assert "peripheries=2" in styles["t1"]  # the root
    assert "peripheries" not in styles["t0"]


def test_generated_names_follow_the_computation_order_and_params_label_tensors():
    weight = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    bias = Tensor([0.5, 0.5], requires_grad=True)
    x = Tensor([1.0, -1.0])
    out = ((x @ weight.T + bias).sigmoid()).sum()
    nodes, _ = parse(draw_graph(out, params={"0.weight": weight, "0.bias": bias}))
    names = [lines[0] for lines, _ in nodes.values() if not lines[0][0].isupper()]
    assert names[:2] == ["t0", "0.weight"]  # x is computed (given) first, then the weight
    assert "0.bias" in names
    generated = [n for n in names if n.startswith("t")]
    assert generated == [f"t{i}" for i in range(len(generated))]


def test_a_tensor_used_twice_is_one_node_with_two_edges():
    x = Tensor([2.0], requires_grad=True, name="x")
    nodes, edges = parse(draw_graph((x * x).sum()))
    ids = by_first_line(nodes)
    assert edges.count((ids["x"], ids["Mul"])) == 2
    assert sum(lines[0] == "x" for lines, _ in nodes.values()) == 1


def test_long_chain_draws_without_recursion():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(2000):  # twice Python's default recursion limit
        y = y * 1.0
    nodes, edges = parse(draw_graph(y.sum(), show_data=False))
    assert len(nodes) == 1 + 2 * 2000 + 2000 + 2  # x, each Mul and its result, each constant, Sum
    assert len(edges) == 3 * 2000 + 2


def test_a_leaf_and_a_no_grad_result_draw_as_one_node():
    with no_grad():
        y = Tensor([1.0], requires_grad=True) * 2
    nodes, edges = parse(draw_graph(y))
    assert len(nodes) == 1 and edges == []


def test_rankdir_and_bad_input():
    graph = draw_graph(Tensor([1.0]), rankdir="TB")
    assert "rankdir=TB" in graph.source
    assert isinstance(graph, graphviz.Digraph)
    with pytest.raises(TypeError, match="expects a Tensor, got ndarray"):
        draw_graph(np.ones(3))


@needs_dot
def test_renders_svg_and_shows_inline_in_jupyter(tmp_path):
    x = Tensor([1.0, 2.0], requires_grad=True, name="x_input")
    graph = draw_graph((x * 2).sum())
    path = render(graph, tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    assert path.endswith("graph.svg") and svg.lstrip().startswith("<?xml") and "x_input" in svg
    assert list(tmp_path.iterdir()) == [tmp_path / "graph.svg"]  # no stray DOT file
    bundle = graph._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
    render(graph, tmp_path / "graph.png")
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG")


def test_missing_dot_names_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    graph = draw_graph((Tensor([1.0], requires_grad=True) * 2).sum())
    assert graph.source.startswith("digraph")  # DOT text needs nothing installed
    for attempt in (
        lambda: render(graph, tmp_path / "g.svg"),
        lambda: graph.render(tmp_path / "g", format="svg"),
        lambda: graph.pipe(format="svg"),
        graph._repr_mimebundle_,
    ):
        with pytest.raises(DotNotFoundError, match=r"apt-get install graphviz") as info:
            attempt()
        assert isinstance(info.value, graphviz.ExecutableNotFound)
        assert "package graphviz" in str(info.value)


def test_model_parameters_are_labelled_with_their_names():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "Linear") or not hasattr(nn, "Sequential"):
        pytest.skip("nn.Linear / nn.Sequential are not written yet")
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())
    out = model(Tensor([[0.05, 0.10]])).sum()
    nodes, _ = parse(draw_graph(out, params=dict(model.named_parameters())))
    names = {lines[0] for lines, _ in nodes.values()}
    assert {"0.weight", "0.bias"} <= names
    weight_lines = nodes[by_first_line(nodes)["0.weight"]][0]
    assert weight_lines[1] == "(2, 2) float64" or weight_lines[1] == "(2, 2) float32"
