"""The tutorials' 2-2-2 worked example: two inputs, two sigmoid hidden units, two sigmoid outputs.

Forward pass, squared error E = Σ ½(t − o)², one step of gradient descent (learning rate 0.5,
biases fixed), then 10,000 steps. Every number is printed beside the tutorial's figure and the
script exits non-zero if they disagree. The computation graph, with every value and gradient at
the tutorial's weights, is drawn to ``examples/out/worked_example_222_graph.svg`` (without
Graphviz's ``dot`` program: its DOT text, ``.dot``, and the command that renders it), and
``explain`` writes out the chain rule for ∂E/∂w5 and ∂E/∂w1 as the tutorial does.

The tutorial's own figures after the first step update the hidden weights with the already-updated
output weights. This script does plain gradient descent, every gradient taken at the original
weights (what any autodiff engine and PyTorch do), so E after one step is 0.2910277737 rather than
the tutorial's 0.291027924, and E after 10,000 steps is 3.5101878e-05 (the tutorial: 3.5102e-05).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
from _shared import Checks, out_dir_for

from autograd_lite import Tensor, draw_graph, explain, no_grad
from autograd_lite.graph import DotNotFoundError, render

X = np.array([0.05, 0.10])
TARGET = np.array([0.01, 0.99])
W_HIDDEN = np.array([[0.15, 0.20], [0.25, 0.30]])  # rows: h1 = (w1, w2), h2 = (w3, w4)
W_OUTPUT = np.array([[0.40, 0.45], [0.50, 0.55]])  # rows: o1 = (w5, w6), o2 = (w7, w8)
B_HIDDEN, B_OUTPUT = 0.35, 0.60
LEARNING_RATE = 0.5

# The tutorial's figures (net/out of each neuron, the error, the updated weights).
TUTORIAL = {
    "net_h1": 0.3775,
    "out_h1": 0.593269992,
    "out_h2": 0.596884378,
    "net_o1": 1.105905967,
    "out_o1": 0.75136507,
    "out_o2": 0.772928465,
    "E_total": 0.298371109,
    "w1..w4": [0.149780716, 0.19956143, 0.24975114, 0.29950229],
    "w5..w8": [0.35891648, 0.408666186, 0.511301270, 0.561370121],
}
# The tutorial's chain rule: ∂E/∂w5 = 0.74136507 × 0.186815602 × 0.593269992 = 0.082167041,
# ∂E/∂w1 = 0.036350306 × 0.241300709 × 0.05 = 0.000438568.
TUTORIAL_GRADIENTS = {"∂E/∂w5": 0.082167041, "∂E/∂w1": 0.000438568}
PLAIN_GD_E_AFTER_1 = 0.2910277737
PLAIN_GD_E_AFTER_10000 = 3.5101878e-05


def forward(w_hidden: Tensor, w_output: Tensor) -> dict[str, Tensor]:
    """The network's every intermediate value, by name (the names label the graph's picture)."""
    net_h = w_hidden @ Tensor(X, name="x") + B_HIDDEN
    out_h = net_h.sigmoid()
    net_o = w_output @ out_h + B_OUTPUT
    out_o = net_o.sigmoid()
    error = (0.5 * (Tensor(TARGET, name="target") - out_o) ** 2).sum()
    values = {"net_h": net_h, "out_h": out_h, "net_o": net_o, "out_o": out_o, "E_total": error}
    for name, value in values.items():
        value.name = name
    return values


def draw(out_dir: str | Path | None = None) -> Path:
    """Draw E_total's computation graph at the tutorial's weights, after backward, so that every
    weight shows its gradient: an SVG, or without Graphviz's ``dot`` the DOT text. The path."""
    w_hidden = Tensor(W_HIDDEN, requires_grad=True, name="w1..w4")
    w_output = Tensor(W_OUTPUT, requires_grad=True, name="w5..w8")
    error = forward(w_hidden, w_output)["E_total"]
    error.backward(retain_graph=True)  # a plain backward releases the values the picture shows
    graph = draw_graph(error)
    path = out_dir_for(out_dir) / "worked_example_222_graph.svg"
    try:
        render(graph, path)
    except DotNotFoundError:
        path = path.with_suffix(".dot")
        path.write_text(graph.source, encoding="utf-8")
        print(f"  Graphviz's dot is not installed: the graph's DOT text is in {path}")
        print(f"  (apt-get install graphviz, then: dot -Tsvg {path} -o {path.with_suffix('.svg')})")
        return path
    print(f"  computation graph with values and gradients drawn to {path}")
    return path


def explain_w5_w1(checks: Checks) -> None:
    """Print the chain rule for ∂E/∂w5 and ∂E/∂w1 read off the recorded graph by ``explain``
    (w5 is w_output[0, 0], w1 is w_hidden[0, 0]) and check the results against the tutorial's."""
    w_hidden = Tensor(W_HIDDEN, requires_grad=True, name="w_hidden")
    w_output = Tensor(W_OUTPUT, requires_grad=True, name="w_output")
    error = forward(w_hidden, w_output)["E_total"]
    for label, weight in (("∂E/∂w5", w_output), ("∂E/∂w1", w_hidden)):
        explanation = explain(error, weight, index=(0, 0))
        print(f"{label}, w{label[-1]} being {weight.name}[0, 0]:")
        print(textwrap.indent(str(explanation), "  "))
        check(checks, label, explanation.value, TUTORIAL_GRADIENTS[label], 9)


def train(steps: int, log_every: int = 0) -> tuple[Tensor, Tensor, list[float]]:
    """``steps`` of plain gradient descent from the tutorial's weights: weights and errors
    (each error measured before its step). ``log_every`` > 0 prints E that often."""
    w_hidden = Tensor(W_HIDDEN, requires_grad=True, name="w1..w4")
    w_output = Tensor(W_OUTPUT, requires_grad=True, name="w5..w8")
    errors = []
    for step in range(steps):
        error = forward(w_hidden, w_output)["E_total"]
        errors.append(error.item())
        if log_every and step % log_every == 0:
            print(f"  step {step:>6}: E = {errors[-1]:.10g}")
        w_hidden.zero_grad()
        w_output.zero_grad()
        error.backward()
        with no_grad():
            w_hidden.data -= LEARNING_RATE * w_hidden.grad
            w_output.data -= LEARNING_RATE * w_output.grad
    return w_hidden, w_output, errors


def check(
    checks: Checks, label: str, engine, expected, digits: int, source: str = "tutorial"
) -> bool:
    """Engine against a figure given to ``digits`` decimals: within half a unit of the last."""
    return checks.close(label, engine, expected, 0.5 * 10.0**-digits, reference_name=source)


def main(steps: int = 10_000, out_dir: str | Path | None = None) -> int:
    """Every figure beside the tutorial's, the graph drawn into ``out_dir`` (``examples/out``);
    ``steps`` of training at the end (the 10,000-step figure is checked only when ``steps`` is
    10,000). 0 if all match, else 1."""
    checks = Checks("2-2-2 worked example")
    values = forward(Tensor(W_HIDDEN), Tensor(W_OUTPUT))
    print("Forward pass (tutorial figure beside the engine's):")
    for args in [
        ("net_h1", values["net_h"].data[0], TUTORIAL["net_h1"], 9),
        ("out_h1", values["out_h"].data[0], TUTORIAL["out_h1"], 9),
        ("out_h2", values["out_h"].data[1], TUTORIAL["out_h2"], 9),
        ("net_o1", values["net_o"].data[0], TUTORIAL["net_o1"], 9),
        ("out_o1", values["out_o"].data[0], TUTORIAL["out_o1"], 8),
        ("out_o2", values["out_o"].data[1], TUTORIAL["out_o2"], 9),
        ("E_total", values["E_total"].item(), TUTORIAL["E_total"], 9),
    ]:
        check(checks, *args)
    print("The computation graph, every value and gradient at the tutorial's weights:")
    draw(out_dir)
    print("The chain rule, written out by explain():")
    explain_w5_w1(checks)
    w_hidden, w_output, errors = train(1)
    print("After one step of gradient descent (learning rate 0.5, biases fixed):")
    check(checks, "w5..w8", w_output.data.ravel(), TUTORIAL["w5..w8"], 8)
    check(checks, "w1..w4", w_hidden.data.ravel(), TUTORIAL["w1..w4"], 8)
    after_one = forward(w_hidden, w_output)["E_total"].item()
    check(checks, "E after 1 step", after_one, PLAIN_GD_E_AFTER_1, 10, "plain GD")
    print("  (the tutorial prints 0.291027924: it updated w1..w4 with the new w5..w8)")
    if steps > 1:
        print(f"Training for {steps:,} steps:")
        # the last recorded error is the one after `steps` updates
        _, _, errors = train(steps + 1, log_every=max(steps // 5, 1))
        print(f"After {steps:,} steps: E = {errors[-1]:.10g}")
        if steps == 10_000:
            check(checks, "E after 10,000", errors[-1], PLAIN_GD_E_AFTER_10000, 12, "plain GD")
        else:
            checks.true(
                "E decreasing", errors[-1] < after_one, f"{errors[-1]:.6g} < {after_one:.6g}"
            )
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
