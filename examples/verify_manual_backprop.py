"""Check two hand-written NumPy backprops against the engine with ``verify_gradients``.

1. Tutorial 004's ReLU network (row layout: X is (N, in), weights_1 (in, hidden), weights_2
   (hidden, out), biases (1, k), ReLU after both layers, loss = mean((y − output)²)). Its published
   backprop has four mistakes:

   a. d_weights_2 multiplies the output error by the input X instead of the hidden activation;
   b. the hidden ReLU mask is taken of X instead of the hidden pre-activation;
   c. the output ReLU's own derivative (0 where the output pre-activation is negative) is ignored;
   d. the mean squared error's factor 2/N is missing.

   The report flags it; each mistake alone (the other three fixed) is flagged in exactly the
   parameters it touches; the corrected derivation passes.
2. Tutorial 003's tanh/sigmoid network (column layout: X is (n_x, m), W1 (n_h, n_x), …, mean
   cross-entropy) with its closed forms dZ2 = A2 − Y, … : every gradient passes.

The script exits non-zero unless every verdict is the expected one.
"""

from __future__ import annotations

import sys

import numpy as np

from autograd_lite import Tensor, verify_gradients
from autograd_lite.verify import GradientReport

MISTAKES = {
    "input_instead_of_hidden": "d_weights_2 uses X where the hidden activation belongs",
    "mask_of_input": "the hidden ReLU mask is (X > 0), not (hidden pre-activation > 0)",
    "output_relu_ignored": "the output ReLU's derivative is left out",
    "mean_factor_missing": "the factor 2/N of the mean squared error is left out",
}
# Which gradients each mistake corrupts when it is the only one left.
AFFECTED = {
    "input_instead_of_hidden": {"weights_2"},
    "mask_of_input": {"weights_1", "bias_1"},
    "output_relu_ignored": {"weights_1", "bias_1", "weights_2", "bias_2"},
    "mean_factor_missing": {"weights_1", "bias_1", "weights_2", "bias_2"},
}


# ----- tutorial 004: ReLU + mean squared error, row layout --------------------------------------
def relu_data(seed: int = 24) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Parameters, inputs and targets for the ReLU network.

    in = hidden = 3 on purpose: the published mask (X > 0) has X's shape (N, in) and multiplies
    the hidden error of shape (N, hidden), and d_weights_2 = Xᵀ·error has shape (in, out) where
    weights_2 is (hidden, out); with in ≠ hidden the published code stops with a shape error
    before there is anything to compare. X has negative entries and the weights mixed signs, so
    both ReLUs are off for some samples and on for others, and every mistake shows. (Seed 24:
    the output is off for 2 of the 8 samples, each hidden unit is on for some samples and off for
    others, and no element of the true gradient is 0.)
    """
    rng = np.random.default_rng(seed)
    n, n_in, n_hidden, n_out = 8, 3, 3, 1
    params = {
        "weights_1": rng.normal(0.0, 1.0, (n_in, n_hidden)),
        "bias_1": rng.normal(0.0, 0.5, (1, n_hidden)),
        "weights_2": rng.normal(0.0, 1.0, (n_hidden, n_out)),
        "bias_2": np.full((1, n_out), 0.1),
    }
    x = rng.normal(0.0, 1.0, (n, n_in))
    y = rng.uniform(0.0, 2.0, (n, n_out))
    return params, x, y


def relu_forward(p: dict, x: np.ndarray) -> dict[str, np.ndarray]:
    """The forward pass in NumPy, keeping what the backward pass needs."""
    z1 = x @ p["weights_1"] + p["bias_1"]
    a1 = np.maximum(z1, 0.0)
    z2 = a1 @ p["weights_2"] + p["bias_2"]
    return {"z1": z1, "a1": a1, "z2": z2, "output": np.maximum(z2, 0.0)}


def relu_mse_loss(p: dict[str, Tensor], x: np.ndarray, y: np.ndarray) -> Tensor:
    """The same network and loss through the engine."""
    hidden = (x @ p["weights_1"] + p["bias_1"]).relu()
    output = (hidden @ p["weights_2"] + p["bias_2"]).relu()
    return ((y - output) ** 2).mean()


def published_backprop(p: dict, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Tutorial 004's gradients, the same arithmetic as published (all four mistakes in it)."""
    output = relu_forward(p, x)["output"]
    out_err = output - y
    grad_w2 = x.T @ out_err
    grad_b2 = out_err.sum(axis=0, keepdims=True)
    hidden_err = (out_err @ p["weights_2"].T) * (x > 0)
    grad_w1 = x.T @ hidden_err
    grad_b1 = hidden_err.sum(axis=0, keepdims=True)
    return {"weights_1": grad_w1, "bias_1": grad_b1, "weights_2": grad_w2, "bias_2": grad_b2}


def relu_backprop(p: dict, x: np.ndarray, y: np.ndarray, mistakes: frozenset) -> dict:
    """The backprop with any subset of the four mistakes (see MISTAKES); none is the right one."""
    unknown = set(mistakes) - set(MISTAKES)
    if unknown:
        raise ValueError(f"unknown mistakes {sorted(unknown)}; choose from {sorted(MISTAKES)}")
    f = relu_forward(p, x)
    # d(mean over all N·out elements of (output − y)²)/d(output) = 2(output − y)/(N·out).
    d_output = f["output"] - y
    if "mean_factor_missing" not in mistakes:
        d_output = d_output * 2 / y.size
    d_z2 = d_output if "output_relu_ignored" in mistakes else d_output * (f["z2"] > 0)
    layer_input = x if "input_instead_of_hidden" in mistakes else f["a1"]
    mask = x > 0 if "mask_of_input" in mistakes else f["z1"] > 0
    d_z1 = (d_z2 @ p["weights_2"].T) * mask
    return {
        "weights_1": x.T @ d_z1,
        "bias_1": d_z1.sum(axis=0, keepdims=True),
        "weights_2": layer_input.T @ d_z2,
        "bias_2": d_z2.sum(axis=0, keepdims=True),
    }


def relu_report(mistakes: frozenset | None = None) -> GradientReport:
    """The verification report of the published backprop (``None``) or one with ``mistakes``."""
    params, x, y = relu_data()
    manual = (
        published_backprop(params, x, y)
        if mistakes is None
        else relu_backprop(params, x, y, frozenset(mistakes))
    )
    return verify_gradients(lambda p: relu_mse_loss(p, x, y), params, manual)


# ----- tutorial 003: tanh hidden layer, sigmoid output, cross-entropy, column layout ------------
def tanh_data(seed: int = 3) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Parameters W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1); X (n_x, m); Y (n_y, m)."""
    rng = np.random.default_rng(seed)
    n_x, n_h, n_y, m = 2, 4, 1, 6
    params = {
        "W1": rng.normal(0.0, 1.0, (n_h, n_x)),
        "b1": rng.normal(0.0, 0.1, (n_h, 1)),
        "W2": rng.normal(0.0, 1.0, (n_y, n_h)),
        "b2": np.zeros((n_y, 1)),
    }
    x = rng.normal(0.0, 1.0, (n_x, m))
    y = (rng.uniform(size=(n_y, m)) > 0.5).astype(float)
    return params, x, y


def cross_entropy_loss(p: dict[str, Tensor], x: np.ndarray, y: np.ndarray) -> Tensor:
    a1 = (p["W1"] @ x + p["b1"]).tanh()
    a2 = (p["W2"] @ a1 + p["b2"]).sigmoid()
    m = y.shape[1]
    return -(y * a2.log() + (1 - y) * (1 - a2).log()).sum() / m


def tanh_backprop(p: dict, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Tutorial 003's closed forms: sigmoid + cross-entropy make dZ2 simply A2 − Y."""
    m = x.shape[1]
    a1 = np.tanh(p["W1"] @ x + p["b1"])
    a2 = 1.0 / (1.0 + np.exp(-(p["W2"] @ a1 + p["b2"])))
    d_z2 = a2 - y
    d_z1 = (p["W2"].T @ d_z2) * (1.0 - a1**2)
    return {
        "W1": d_z1 @ x.T / m,
        "b1": d_z1.sum(axis=1, keepdims=True) / m,
        "W2": d_z2 @ a1.T / m,
        "b2": d_z2.sum(axis=1, keepdims=True) / m,
    }


def tanh_report() -> GradientReport:
    params, x, y = tanh_data()
    manual = tanh_backprop(params, x, y)
    return verify_gradients(lambda p: cross_entropy_loss(p, x, y), params, manual)


# ----- the tour ---------------------------------------------------------------------------------
def _show(title: str, report: GradientReport, expected_failures: set[str]) -> bool:
    as_expected = set(report.failed) == expected_failures
    print(f"\n== {title}")
    print(report)
    wanted = f"flags {sorted(expected_failures)}" if expected_failures else "passes"
    print(f"-> expected: {wanted}: {'as expected' if as_expected else 'NOT AS EXPECTED'}")
    return as_expected


def main() -> int:
    """Print every report; 0 when each verdict is the expected one, else 1."""
    everything = set(AFFECTED["output_relu_ignored"])
    results = [_show("Tutorial 004, the published backprop", relu_report(), everything)]
    for mistake, description in MISTAKES.items():
        only_this = frozenset({mistake})
        results.append(
            _show(
                f"Only this mistake left: {description}", relu_report(only_this), AFFECTED[mistake]
            )
        )
    results.append(_show("Tutorial 004, corrected", relu_report(frozenset()), set()))
    results.append(_show("Tutorial 003, tanh/sigmoid closed forms", tanh_report(), set()))
    ok = all(results)
    print("\nall verdicts as expected" if ok else "\nSOME VERDICTS ARE NOT AS EXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
