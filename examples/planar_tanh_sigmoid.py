"""The tutorials' tanh/sigmoid network: a tanh hidden layer, one sigmoid output, cross-entropy.

Two parts, both built from ``nn`` (``nn.Linear``, ``nn.Tanh``, ``nn.Sigmoid``, ``nn.BCELoss``,
``nn.optim.SGD``):

1. The tutorial's own run, reproduced figure for figure: its small test case (X: 2×3 and Y: 1×3
   drawn from NumPy's legacy generator seeded with 1), 4 hidden units, weights from
   ``rand(...) * 0.01`` and zero biases, learning rate 0.5, 10,000 full-batch steps, the cost
   printed every 1,000 steps (0.693230, 0.642704, …, 0.012093). Those figures come out only if
   its gradients are divided by m = 400, not by the 3 examples: its ``back_propagation`` reads a
   global ``m`` left over from the 400-point planar data set. Dividing by 400 instead of 3 is
   plain gradient descent on the mean cost with learning rate 0.5 · 3/400 = 0.00375, which is what
   this script runs. At the first step the engine's gradients are also checked against the
   tutorial's closed forms (dZ2 = A2 − Y, dW2 = dZ2·A1ᵀ/m, dZ1 = W2ᵀdZ2 ∗ (1 − A1²), dW1 = dZ1·Xᵀ/m)
   to 1e-12.
2. A two-class planar "flower" data set (400 points on the petals of a rose curve, this script's
   own generator, seed fixed), 4 tanh units, learning rate 1.2, 10,000 full-batch steps, the cost
   logged every 1,000 steps, the training accuracy printed and asserted (≥ 0.85), and the decision
   boundary saved as a PNG.

``nn`` keeps the PyTorch layout (a row per example) where the tutorial keeps a column per example;
``nn.Linear.weight`` has the tutorial's W shape, (units out, units in), so the weights carry over.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from _shared import Checks, out_dir_for, pyplot, save_figure
from verify_manual_backprop import tanh_backprop as closed_form_gradients

import nn
from autograd_lite import Tensor, no_grad

TUTORIAL_COSTS = [
    0.693230,
    0.642704,
    0.451822,
    0.128380,
    0.055486,
    0.033372,
    0.023442,
    0.017932,
    0.014464,
    0.012093,
]
TUTORIAL_LR = 0.5
TUTORIAL_M_IN_BACKPROP = 400  # the stray global: the planar data set's size
LOG_EVERY = 1000
FLOWER_LR = 1.2
FLOWER_ACCURACY_FLOOR = 0.85


def tutorial_test_case() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """X (2, 3), Y (1, 3) and the initial W1, b1, W2, b2, drawn in the tutorial's order."""
    legacy = np.random.RandomState(1)  # the tutorial seeds NumPy's global legacy generator
    x = legacy.randn(2, 3)
    y = (legacy.randn(1, 3) > 0).astype(float)
    params = {
        "W1": legacy.rand(4, 2) * 0.01,
        "b1": np.zeros((4, 1)),
        "W2": legacy.rand(1, 4) * 0.01,
        "b2": np.zeros((1, 1)),
    }
    return x, y, params


def tanh_sigmoid_net(params: dict[str, np.ndarray]) -> nn.Sequential:
    """2-n_h-1 network: Linear, Tanh, Linear, Sigmoid, loaded with column-layout parameters."""
    n_hidden, n_in = params["W1"].shape
    model = nn.Sequential(
        nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, 1), nn.Sigmoid()
    )
    model.load_state_dict(
        {
            "0.weight": params["W1"],
            "0.bias": params["b1"].ravel(),
            "2.weight": params["W2"],
            "2.bias": params["b2"].ravel(),
        }
    )
    return model


def train(
    model: nn.Sequential, x_rows: np.ndarray, y_rows: np.ndarray, lr: float, steps: int
) -> list[tuple[int, float]]:
    """Full-batch gradient descent on the mean cross-entropy; (step, cost) every LOG_EVERY."""
    loss_fn = nn.BCELoss()
    optimizer = nn.optim.SGD(model.parameters(), lr=lr)
    inputs, targets = Tensor(x_rows), Tensor(y_rows)
    log = []
    for step in range(steps):
        cost = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        if step % LOG_EVERY == 0:
            log.append((step, cost.item()))
            print(f"  step {step:>6}: cost {cost.item():.6f}")
    return log


def reproduce_tutorial_run(steps: int, checks: Checks) -> None:
    """The tutorial's test-case run: step-0 gradients and the logged costs, checked."""
    x, y, params = tutorial_test_case()
    model = tanh_sigmoid_net(params)
    print("Step 0 gradients, engine beside the tutorial's closed forms, to 1e-12:")
    cost = nn.BCELoss()(model(Tensor(x.T)), Tensor(y.T))
    cost.backward()
    expected = closed_form_gradients(params, x, y)
    engine = {
        "W1": model[0].weight.grad,
        "b1": model[0].bias.grad[:, None],
        "W2": model[2].weight.grad,
        "b2": model[2].bias.grad[:, None],
    }
    for name in expected:
        checks.close(f"d{name}", engine[name], expected[name], 1e-12, 0, "formula")
    model.zero_grad()

    lr = TUTORIAL_LR * x.shape[1] / TUTORIAL_M_IN_BACKPROP
    print(f"Training (learning rate 0.5 · 3/400 = {lr}, {steps:,} steps):")
    log = train(model, x.T, y.T, lr, steps)
    print("Cost every 1,000 steps, engine beside the tutorial's printout (6 decimals):")
    for (step, engine_cost), printed in zip(log, TUTORIAL_COSTS, strict=False):
        checks.close(f"step {step}", engine_cost, printed, atol=5e-7)


def flower_data(n_points: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two classes on the petals of the rose r = 4·sin(4θ), with noise: X (n, 2), y (n, 1).

    Class 0 takes the angles of one half-turn, class 1 the other, so each class owns four
    interleaved petals and no straight line separates them.
    """
    rng = np.random.default_rng(seed)
    per_class = n_points // 2
    points, labels = [], []
    for label in (0, 1):
        theta = np.linspace(label * np.pi, (label + 1) * np.pi, per_class)
        theta = theta + rng.normal(0.0, 0.2, per_class)
        radius = 4.0 * np.sin(4.0 * theta) + rng.normal(0.0, 0.2, per_class)
        points.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        labels.append(np.full(per_class, float(label)))
    return np.concatenate(points), np.concatenate(labels)[:, None]


def plot_decision_boundary(
    model: nn.Sequential, x: np.ndarray, y: np.ndarray, accuracy: float, out_dir: Path
) -> Path:
    """The model's class regions over the plane, the data on top, saved as a PNG."""
    plt = pyplot()
    lo, hi = x.min(axis=0) - 1.0, x.max(axis=0) + 1.0
    grid_u, grid_v = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    with no_grad():
        grid_p = model(Tensor(np.column_stack([grid_u.ravel(), grid_v.ravel()]))).data
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(grid_u, grid_v, grid_p.reshape(grid_u.shape) > 0.5, cmap="coolwarm", alpha=0.3)
    ax.scatter(x[:, 0], x[:, 1], c=y.ravel(), cmap="coolwarm", s=12, edgecolors="k", lw=0.3)
    ax.set_title(f"tanh(4) + sigmoid on the flower set: accuracy {accuracy:.1%}")
    ax.set_aspect("equal")
    return save_figure(fig, out_dir, "planar_decision_boundary.png")


def flower_run(steps: int, out_dir: Path) -> float:
    """Train on the flower set, save the decision boundary; the training accuracy."""
    x, y = flower_data()
    rng = np.random.default_rng(2)
    model = nn.Sequential(
        nn.Linear(2, 4, rng=rng), nn.Tanh(), nn.Linear(4, 1, rng=rng), nn.Sigmoid()
    )
    print(f"Flower data set: {len(x)} points, learning rate {FLOWER_LR}, {steps:,} steps")
    train(model, x, y, FLOWER_LR, steps)
    with no_grad():
        accuracy = float(np.mean((model(Tensor(x)).data > 0.5) == (y > 0.5)))
    print(f"  training accuracy {accuracy:.4f}")
    plot_decision_boundary(model, x, y, accuracy, out_dir)
    return accuracy


def main(
    tutorial_steps: int = 10_000,
    flower_steps: int = 10_000,
    accuracy_floor: float = FLOWER_ACCURACY_FLOOR,
    out_dir: str | Path | None = None,
) -> int:
    """Both runs; 0 if every figure matches and the flower accuracy reaches ``accuracy_floor``."""
    out = out_dir_for(out_dir)
    checks = Checks("planar tanh/sigmoid")
    print("Part 1: the tutorial's test case")
    reproduce_tutorial_run(tutorial_steps, checks)
    print("Part 2: the flower data set")
    accuracy = flower_run(flower_steps, out)
    checks.true(
        "flower accuracy",
        accuracy >= accuracy_floor,
        f"{accuracy:.4f} (floor {accuracy_floor})",
    )
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
