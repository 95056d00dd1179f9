"""A multilayer perceptron on scikit-learn's 8×8 handwritten digits, trained with minibatches.

1,797 images of 8×8 pixels (grey levels 0-16), ten classes; the data ship inside scikit-learn
(no download). Pixels are scaled to [0, 1], the split is stratified and seeded (80 % train,
20 % test), and the network is 64-128-10 with a ReLU hidden layer, trained with
``nn.CrossEntropyLoss`` on the logits and ``nn.optim.Adam`` (learning rate 3e-3, minibatches of
32, reshuffled every epoch by a seeded generator). A tqdm bar shows the epochs (plain lines when
the output is not a terminal); the loss and accuracy curves are saved as a PNG. At full length
(30 epochs) the test accuracy must reach 0.97; it measures 0.9778 (352 of 360 test images), in
about 3 s of training. (Seeds 1 and 2 give 0.9778 too; at learning rate 1e-3 the three seeds
gave 0.967-0.981.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from _shared import Checks, out_dir_for, progress, pyplot, save_figure
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nn
from autograd_lite import Tensor, no_grad

SEED = 0
HIDDEN = 128
BATCH_SIZE = 32
LEARNING_RATE = 3e-3
EPOCHS = 30
ACCURACY_FLOOR = 0.97


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, x_test (pixels in [0, 1]), y_train, y_test (integer labels)."""
    data = load_digits()
    return train_test_split(
        data.data / 16.0, data.target, test_size=0.2, random_state=SEED, stratify=data.target
    )


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Share of images whose largest logit is at the true label."""
    with no_grad():
        logits = model(Tensor(x)).data
    return float(np.mean(logits.argmax(axis=1) == y))


def plot_curves(history: dict[str, list[float]], out_dir: Path) -> Path:
    """Training loss and train/test accuracy per epoch, side by side, saved as a PNG."""
    plt = pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax_loss.plot(epochs, history["loss"], "o-", ms=3)
    ax_loss.set(xlabel="epoch", ylabel="mean training loss (cross-entropy)", yscale="log")
    ax_acc.plot(epochs, history["train_acc"], "o-", ms=3, label="training")
    ax_acc.plot(epochs, history["test_acc"], "s-", ms=3, label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy")
    ax_acc.legend()
    fig.suptitle("digits: 64-128-10 MLP, Adam, minibatches of 32")
    return save_figure(fig, out_dir, "digits_curves.png")


def main(
    epochs: int = EPOCHS, accuracy_floor: float = ACCURACY_FLOOR, out_dir: str | Path | None = None
) -> int:
    """Train, save the curves, report the test accuracy; 0 if it reaches ``accuracy_floor``."""
    out = out_dir_for(out_dir)
    x_train, x_test, y_train, y_test = digits_split()
    print(f"digits: {len(x_train)} training and {len(x_test)} test images, {epochs} epochs")
    rng = np.random.default_rng(SEED)
    model = nn.Sequential(nn.Linear(64, HIDDEN, rng=rng), nn.ReLU(), nn.Linear(HIDDEN, 10, rng=rng))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    history: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
    bar = progress(range(epochs), total=epochs, desc="epochs", unit="epoch")
    for _ in bar:
        order = rng.permutation(len(x_train))
        batch_losses = []
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            loss = loss_fn(model(Tensor(x_train[batch])), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
        history["loss"].append(float(np.mean(batch_losses)))
        history["train_acc"].append(accuracy(model, x_train, y_train))
        history["test_acc"].append(accuracy(model, x_test, y_test))
        bar.set_postfix(
            loss=f"{history['loss'][-1]:.4f}", test_acc=f"{history['test_acc'][-1]:.4f}"
        )
    bar.close()
    test_acc = history["test_acc"][-1]
    correct = round(test_acc * len(x_test))
    print(f"  test accuracy {test_acc:.4f} ({correct} of {len(x_test)} test images)")
    plot_curves(history, out)
    checks = Checks("digits")
    checks.true(
        "test accuracy", test_acc >= accuracy_floor, f"{test_acc:.4f} (floor {accuracy_floor})"
    )
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
