"""Pictures a learner can read: gradients on intermediates, modules as clusters, constants by value,
a page-shaped layout (checked on the DOT text, and on the rendered SVG when ``dot`` is present)."""

from __future__ import annotations

import re
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import Tensor, draw_graph
from autograd_lite.graph import record_modules

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed (CI has it)")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def labels(graph) -> dict[str, list[str]]:
    """node id -> its label's lines, from the DOT text."""
    found = {}
    for m in re.finditer(
        r'^\s*(\w+) \[label=(?:"((?:[^"\\]|\\.)*)"|([^\s\]]+))', graph.source, re.M
    ):
        found[m.group(1)] = (m.group(2) if m.group(2) is not None else m.group(3)).split("\\n")
    return found


def node_named(graph, name: str) -> list[str]:
    (lines,) = [lines for lines in labels(graph).values() if lines[0] == name]
    return lines


def tutorial_222():
    """The worked example's own forward pass (examples/worked_example_222.py), its weights."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import worked_example_222 as example
    finally:
        sys.path.remove(str(EXAMPLES))
    w_hidden = Tensor(example.W_HIDDEN, requires_grad=True, name="w1..w4")
    w_output = Tensor(example.W_OUTPUT, requires_grad=True, name="w5..w8")
    return example.forward(w_hidden, w_output), w_hidden, w_output


def test_gradients_show_on_every_tensor_that_has_one_without_a_warning():
    values, w_hidden, w_output = tutorial_222()
    values["out_h"].retain_grad()
    values["E_total"].backward(retain_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading the picture's gradients warns about nothing
        graph = draw_graph(values["E_total"])
    expected = values["out_h"].grad
    assert node_named(graph, "out_h")[-1] == f"grad [{expected[0]:.4g}, {expected[1]:.4g}]"
    assert node_named(graph, "w5..w8")[-2].startswith("grad [[0.08217, ")  # ∂E/∂w5 = 0.082167041
    assert not any(line.startswith("grad") for line in node_named(graph, "net_h"))  # not retained


def test_constants_are_labelled_by_their_value_and_column_vectors_take_one_line():
    x = Tensor([[1.0], [2.5], [-3.0]], requires_grad=True, name="x")
    big = Tensor(np.ones((2, 2)))
    out = (0.5 * x).sum() * Tensor(7.0, name="seven") + big.sum()
    found = labels(draw_graph(out))
    firsts = [lines[0] for lines in found.values()]
    assert ["0.5"] in found.values()  # the value alone, no t0, no shape line
    assert "seven" in firsts  # a named constant keeps its name
    assert node_named(draw_graph(out), "x")[2] == "data [[1], [2.5], [-3]]"
    generated = [name for name in firsts if re.fullmatch(r"t\d+", name)]
    assert generated == [f"t{i}" for i in range(len(generated))]  # the (2, 2) constant among them


def test_the_direction_follows_the_graphs_shape_unless_given():
    values, _, _ = tutorial_222()
    assert "rankdir=TB" in draw_graph(values["E_total"]).source  # a long chain runs down
    assert "rankdir=LR" in draw_graph(values["E_total"], rankdir="LR").source
    leaves = [Tensor(float(i), requires_grad=True) for i in range(12)]
    wide = sum(leaves[1:], start=leaves[0])  # many inputs, few steps... still one long chain
    assert "rankdir=TB" in draw_graph(wide).source
    flat = Tensor(np.arange(12.0), requires_grad=True)
    bushy = sum((flat[i] * float(i) for i in range(12)), start=flat[0] * 0.0)
    assert re.search(r"rankdir=(TB|LR)", draw_graph(bushy).source)


def aspect(graph) -> float:
    svg = graph.pipe(format="svg").decode()
    width, height = (
        float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    )
    return width / height


@needs_dot
def test_the_2_2_2_picture_fits_a_page_once_rendered():
    values, _, _ = tutorial_222()
    values["E_total"].backward(retain_graph=True)
    assert aspect(draw_graph(values["E_total"])) <= 3.0
    assert aspect(draw_graph(values["E_total"], rankdir="LR")) > 10  # what "LR" used to give


def mlp_and_loss():
    nn = pytest.importorskip("nn")
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss_fn = nn.CrossEntropyLoss()
    return nn, model, loss_fn, Tensor(rng.normal(size=(5, 4)), name="x"), np.array([0, 1, 2, 1, 0])


def clusters(graph) -> dict[str, list[str]]:
    """cluster label -> the node ids declared directly inside it."""
    found: dict[str, list[str]] = {}
    stack: list = []  # the labels of the clusters we are in; None until its label line
    for line in graph.source.splitlines():
        text = line.strip()
        if text.startswith("subgraph cluster_"):
            stack.append(None)
        elif text == "}":
            if stack:
                stack.pop()
        elif stack and stack[-1] is None and not re.match(r"\w+ \[", text):
            m = re.search(r'label=(?:"([^"]*)"|(\S+))', text)
            stack[-1] = m.group(1) or m.group(2)
            found[stack[-1]] = []
        elif stack and (m := re.match(r"(\w+) \[label=", text)):
            found[stack[-1]].append(m.group(1))
    return found


def test_each_module_is_a_labelled_cluster_holding_its_own_tensors():
    nn, model, loss_fn, x, y = mlp_and_loss()
    with record_modules(model, loss_fn):
        loss = loss_fn(model(x), y)
    assert "forward" not in vars(model[0])  # the modules are as they were
    graph = draw_graph(loss, model=[model, loss_fn])
    found = clusters(graph)
    assert set(found) == {"Sequential", "0: Linear", "1: ReLU", "2: Linear", "CrossEntropyLoss"}
    names = labels(graph)
    inside = {c: {names[n][0] for n in nodes} for c, nodes in found.items()}
    assert {"0.weight", "0.bias", "Linear"} <= inside["0: Linear"]  # the layer's one operation
    assert {"2.weight", "2.bias"} <= inside["2: Linear"]
    relu = [names[n] for n in found["1: ReLU"]]  # the operation and the (5, 8) it made
    assert sorted(lines[0] for lines in relu)[0] == "ReLU" and len(relu) == 2
    assert [lines[1] for lines in relu if lines[0] != "ReLU"] == ["(5, 8) float64"]
    assert "LogSoftmax" in inside["CrossEntropyLoss"]
    assert "x" not in set().union(*inside.values())  # the input belongs to no module
    assert found["Sequential"] == []  # its tensors are all inside its children


def test_collapsed_modules_make_a_handful_of_boxes():
    nn, model, loss_fn, x, y = mlp_and_loss()
    with record_modules(model, loss_fn):
        loss = loss_fn(model(x), y)
    graph = draw_graph(loss, model=[model, loss_fn], collapse_modules=True)
    found = labels(graph)
    assert len(found) == 5  # x, Linear, ReLU, Linear, the loss
    firsts = sorted(lines[0] for lines in found.values())
    assert firsts == ["0: Linear", "1: ReLU", "2: Linear", "CrossEntropyLoss", "x"]
    assert node_named(graph, "0: Linear")[1] == "weight (8, 4), bias (8,)"
    edges = re.findall(r"^\s*(\w+) -> (\w+)$", graph.source, re.M)
    by_name = {lines[0]: node for node, lines in found.items()}
    chain = ["x", "0: Linear", "1: ReLU", "2: Linear", "CrossEntropyLoss"]
    assert edges == [(by_name[a], by_name[b]) for a, b in zip(chain, chain[1:], strict=False)]


def test_without_recording_the_parameters_tell_which_operations_are_a_layers():
    nn, model, loss_fn, x, y = mlp_and_loss()
    loss = loss_fn(model(x), y)  # no record_modules
    found = clusters(draw_graph(loss, model=model))
    assert set(found) == {"Sequential", "0: Linear", "2: Linear"}  # ReLU has no parameter
    names = labels(draw_graph(loss, model=model))
    inside = [names[n][0] for n in found["0: Linear"]]
    assert sorted(n for n in inside if not n.startswith("t")) == ["0.bias", "0.weight", "Linear"]
    assert len(inside) == 4  # and what it made: x @ W.T + b


def test_record_modules_nests_and_restores_and_records_nothing_outside():
    nn, model, loss_fn, x, y = mlp_and_loss()
    with record_modules(model):
        with record_modules(model, loss_fn):  # the inner block wraps only what is not wrapped
            loss = loss_fn(model(x), y)
        assert "forward" in vars(model[0]) and "forward" not in vars(loss_fn)
    assert "forward" not in vars(model[0])
    assert "CrossEntropyLoss" in clusters(draw_graph(loss, model=[model, loss_fn]))
    with pytest.raises(TypeError, match="nn.Module or a list/dict of them"):
        draw_graph(loss, model=[object()])
