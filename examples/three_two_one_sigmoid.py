"""The tutorials' 3-2-1 sigmoid network: one step of backpropagation, by formula and by autodiff.

Three inputs, two sigmoid hidden units, one sigmoid output, no biases; input x = [0.5, 0.1, −0.2],
target 0.6, learning rate 0.5, error E = ½(target − output)². The tutorial computes the weight
changes from error terms:

    δ_output = (target − output) · σ'(h_output)
    δ_hidden = δ_output · w_hidden→output · σ'(h_hidden)
    Δw_hidden→output = lr · δ_output · a_hidden
    Δw_input→hidden  = lr · x[:, None] · δ_hidden

Both weight changes are computed here twice: with those formulas in NumPy, and as −lr · ∂E/∂w
from the engine's backward pass. The two must agree to 1e-12; both are also compared with the
figures NumPy prints for the tutorial's code (the tutorial page shows the code, not its output,
so those figures are written here as that code prints them, to 8 decimals).
"""

from __future__ import annotations

import sys

import numpy as np
from _shared import Checks

from autograd_lite import Tensor

X = np.array([0.5, 0.1, -0.2])
TARGET = 0.6
LEARNING_RATE = 0.5
# The tutorial's layout: rows are inputs, columns hidden units (hidden_in = x @ W).
W_INPUT_HIDDEN = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])
W_HIDDEN_OUTPUT = np.array([0.1, -0.3])

# What `print` shows for the tutorial's code (NumPy's default: 8 decimals).
PRINTED_DELTA_W_HIDDEN_OUTPUT = [0.00804047, 0.00555918]
PRINTED_DELTA_W_INPUT_HIDDEN = [
    [1.77005547e-04, -5.11178506e-04],
    [3.54011093e-05, -1.02235701e-04],
    [-7.08022187e-05, 2.04471402e-04],
]
# Half a unit in the last printed place: 8 decimals, or 8 decimals of a mantissa in [1, 10).
PRINTED_ATOL = 5e-9
PRINTED_RTOL = 5e-9


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), in NumPy, for the hand-derived side."""
    return 1.0 / (1.0 + np.exp(-z))


def weight_changes_by_formula() -> dict[str, np.ndarray]:
    """The tutorial's error-term recipe, in plain NumPy."""
    hidden_in = X @ W_INPUT_HIDDEN
    hidden_out = sigmoid(hidden_in)
    output_in = hidden_out @ W_HIDDEN_OUTPUT
    output = sigmoid(output_in)
    output_error_term = (TARGET - output) * output * (1 - output)
    hidden_error_term = output_error_term * W_HIDDEN_OUTPUT * hidden_out * (1 - hidden_out)
    return {
        "output": np.asarray(output),
        "output_error_term": np.asarray(output_error_term),
        "hidden_error_term": hidden_error_term,
        "delta_w_hidden_output": LEARNING_RATE * output_error_term * hidden_out,
        "delta_w_input_hidden": LEARNING_RATE * X[:, None] * hidden_error_term,
    }


def weight_changes_by_autodiff() -> dict[str, np.ndarray]:
    """−lr · ∂E/∂w from the engine: the same step, with no derivative written by hand."""
    w_input_hidden = Tensor(W_INPUT_HIDDEN, requires_grad=True, name="w_input_hidden")
    w_hidden_output = Tensor(W_HIDDEN_OUTPUT, requires_grad=True, name="w_hidden_output")
    hidden_out = (Tensor(X) @ w_input_hidden).sigmoid()
    output = (hidden_out * w_hidden_output).sum().sigmoid()
    error = 0.5 * (TARGET - output) ** 2
    error.backward()
    return {
        "output": output.data,
        "delta_w_hidden_output": -LEARNING_RATE * w_hidden_output.grad,
        "delta_w_input_hidden": -LEARNING_RATE * w_input_hidden.grad,
    }


def main() -> int:
    """Print both computations beside the tutorial's figures; 0 if all agree, else 1."""
    formula = weight_changes_by_formula()
    autodiff = weight_changes_by_autodiff()
    checks = Checks("3-2-1 sigmoid")
    print(f"x = {X.tolist()}, target = {TARGET}, learning rate = {LEARNING_RATE}")
    print(
        f"  output {formula['output']:.10f}, output error term {formula['output_error_term']:.10f}"
    )
    print(f"  hidden error terms {formula['hidden_error_term']}")
    print("Error-term formulas (NumPy) against the tutorial's printed figures:")
    checks.close(
        "Δw hidden→output",
        formula["delta_w_hidden_output"],
        PRINTED_DELTA_W_HIDDEN_OUTPUT,
        atol=PRINTED_ATOL,
        name="formula",
    )
    checks.close(
        "Δw input→hidden",
        formula["delta_w_input_hidden"],
        PRINTED_DELTA_W_INPUT_HIDDEN,
        atol=0,
        rtol=PRINTED_RTOL,
        name="formula",
    )
    print("Autodiff (−lr · ∂E/∂w) against the formulas, to 1e-12:")
    checks.close(
        "output",
        autodiff["output"],
        formula["output"],
        atol=1e-12,
        reference_name="formula",
        name="autodiff",
    )
    for key, label in [
        ("delta_w_hidden_output", "Δw hidden→output"),
        ("delta_w_input_hidden", "Δw input→hidden"),
    ]:
        checks.close(
            label,
            autodiff[key],
            formula[key],
            atol=1e-12,
            reference_name="formula",
            name="autodiff",
        )
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
