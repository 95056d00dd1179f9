"""The tutorials' linear 2-2-1 network started symmetric: every weight 1, every bias 0.

Two inputs, two hidden units with no activation, one output, squared error (y − ŷ)², data set
[[x1, x2, y]] = [[1, 1, 1]], learning rate 0.1, 10 epochs of per-example gradient descent.
The loss starts at (1 − 4)² = 9.0 and is 2.8224 after the first update, as the tutorial says.

The loss trace is computed twice: with the tutorial's hand-derived gradients in NumPy (the
reference), and with ``nn`` (``nn.Linear`` layers, ``nn.MSELoss``, ``nn.optim.SGD``); the two must
agree to 1e-12, and the first two losses must be the tutorial's 9.0 and 2.8224.

Min/avg/max loss: as in the tutorial, these are taken over the examples of the data set within
each epoch (each example's loss just before its own update). The tutorial's data set has a
single example, so the three curves coincide; the picture shows them anyway, as the tutorial does.

The two hidden units stay identical for ever: they start equal, see the same input and send to
the output through equal weights, so they receive equal gradients and move together. Only random
initialisation breaks this symmetry. With no activation the network is a linear map anyway, so a
hidden layer adds nothing a single linear unit could not do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from _shared import Checks, out_dir_for, pyplot, save_figure

import nn
from autograd_lite import Tensor

DATA = np.array([[1.0, 1.0, 1.0]])  # rows: x1, x2, target
LEARNING_RATE = 0.1
EPOCHS = 10
TUTORIAL_FIRST_LOSSES = [9.0, 2.8224]


def losses_by_hand(epochs: int) -> np.ndarray:
    """Per-example losses, shape (epochs, examples), from the tutorial's gradient formulas."""
    w_hidden, b_hidden = np.ones((2, 2)), np.zeros(2)  # w_hidden[j] feeds hidden unit j
    w_out, b_out = np.ones(2), 0.0
    losses = np.zeros((epochs, len(DATA)))
    for epoch in range(epochs):
        for i, (x1, x2, y) in enumerate(DATA):
            x = np.array([x1, x2])
            hidden = w_hidden @ x + b_hidden
            y_pred = w_out @ hidden + b_out
            losses[epoch, i] = (y - y_pred) ** 2
            d_pred = -2.0 * (y - y_pred)  # ∂loss/∂ŷ; every gradient below uses the old weights
            grad_w_hidden = d_pred * np.outer(w_out, x)
            grad_b_hidden = d_pred * w_out
            grad_w_out, grad_b_out = d_pred * hidden, d_pred
            w_hidden -= LEARNING_RATE * grad_w_hidden
            b_hidden -= LEARNING_RATE * grad_b_hidden
            w_out = w_out - LEARNING_RATE * grad_w_out
            b_out -= LEARNING_RATE * grad_b_out
    return losses


def symmetric_model() -> nn.Sequential:
    """2-2-1 with no activation, every weight 1 and every bias 0 (PyTorch's parameter names)."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model.load_state_dict(
        {
            "0.weight": np.ones((2, 2)),
            "0.bias": np.zeros(2),
            "1.weight": np.ones((1, 2)),
            "1.bias": np.zeros(1),
        }
    )
    return model


def train_with_nn(epochs: int) -> tuple[nn.Sequential, np.ndarray]:
    """The same training with ``nn``: the model and the per-example losses (epochs, examples)."""
    model = symmetric_model()
    loss_fn = nn.MSELoss()
    optimizer = nn.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    losses = np.zeros((epochs, len(DATA)))
    for epoch in range(epochs):
        for i, row in enumerate(DATA):
            x, y = Tensor(row[None, :2]), Tensor(row[None, 2:])
            loss = loss_fn(model(x), y)
            losses[epoch, i] = loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % 5 == 0 or epoch == epochs - 1:
            print(f"  epoch {epoch:>2}: avg loss {losses[epoch].mean():.10g}")
    return model, losses


def plot_losses(losses: np.ndarray, out_dir: Path) -> Path:
    """Min, average and max over the examples of each epoch's losses, saved as a PNG."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(len(losses))
    ax.plot(epochs, losses.min(axis=1), "o-", label="min loss over the examples")
    ax.plot(epochs, losses.mean(axis=1), "s--", label="avg loss")
    ax.plot(epochs, losses.max(axis=1), "^:", label="max loss")
    ax.set(xlabel="epoch", ylabel="loss (y − ŷ)²", yscale="log")
    ax.set_title("linear 2-2-1, symmetric start (one example: the three curves coincide)")
    ax.legend()
    return save_figure(fig, out_dir, "linear_221_losses.png")


def main(epochs: int = EPOCHS, out_dir: str | Path | None = None) -> int:
    """Train, print the loss trace beside the hand-derived one, check symmetry; 0 if all hold."""
    out = out_dir_for(out_dir)
    checks = Checks("linear 2-2-1")
    print(f"data {DATA.tolist()}, learning rate {LEARNING_RATE}, {epochs} epochs")
    model, losses = train_with_nn(epochs)
    reference = losses_by_hand(epochs)
    print("Loss per epoch, nn beside the tutorial's hand-derived gradients (NumPy), to 1e-12:")
    for epoch in range(epochs):
        checks.close(f"epoch {epoch}", losses[epoch], reference[epoch], 1e-12, 0, "by hand", "nn")
    print("The tutorial's own figures:")
    first = losses[: len(TUTORIAL_FIRST_LOSSES), 0]
    checks.close("first losses", first, TUTORIAL_FIRST_LOSSES[: len(first)], atol=1e-12, name="nn")

    state = model.state_dict()
    w_hidden, b_hidden, w_out = state["0.weight"], state["0.bias"], state["1.weight"]
    print(f"Hidden weights after training (a row per unit):\n{w_hidden}")
    print(f"Hidden biases {b_hidden}, output weights {w_out}")
    print(
        "Why they stay equal: both hidden units start identical, see the same inputs and reach the "
        "output through equal weights, so they get identical gradients and move in lock-step; "
        "without a non-linearity the whole network is one linear map anyway."
    )
    checks.true(
        "hidden units equal",
        np.array_equal(w_hidden[0], w_hidden[1]) and b_hidden[0] == b_hidden[1],
        f"unit 0 {w_hidden[0]} (bias {b_hidden[0]:.6g}), "
        f"unit 1 {w_hidden[1]} (bias {b_hidden[1]:.6g})",
    )
    checks.true(
        "all 4 hidden weights",  # equal inputs x1 = x2 also make each unit's two weights equal
        np.all(w_hidden == w_hidden.flat[0]),
        f"all = {w_hidden.flat[0]:.10g}",
    )
    checks.true(
        "output weights equal", w_out.flat[0] == w_out.flat[1], f"both {w_out.flat[0]:.10g}"
    )
    plot_losses(losses, out)
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
