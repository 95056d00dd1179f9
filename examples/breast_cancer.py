"""A binary classifier with a sigmoid hidden layer on scikit-learn's breast-cancer data set.

569 tumours, 30 measurements each, malignant or benign; the data ship inside scikit-learn (no
download). The features are standardised with the training set's mean and spread, the split is
stratified and seeded (75 % train, 25 % test), and the network is 30-16-1 with a sigmoid hidden
layer, trained full-batch with ``nn.BCEWithLogitsLoss`` (the output sigmoid folded into the loss,
which is the stable way to write it) and ``nn.optim.Adam``. The test accuracy must reach 0.93.
"""

from __future__ import annotations

import sys

import numpy as np
from _shared import Checks
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import nn
from autograd_lite import Tensor, no_grad

SEED = 0
HIDDEN = 16
LEARNING_RATE = 0.01
EPOCHS = 100
ACCURACY_FLOOR = 0.93


def standardised_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, x_test (scaled by the training set's statistics), y_train, y_test (n, 1)."""
    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data,
        data.target.astype(float),
        test_size=0.25,
        random_state=SEED,
        stratify=data.target,
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return (x_train - mean) / std, (x_test - mean) / std, y_train[:, None], y_test[:, None]


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Share of examples whose logit has the target's sign (logit > 0 means malignant = 1)."""
    with no_grad():
        logits = model(Tensor(x)).data
    return float(np.mean((logits > 0) == (y > 0.5)))


def main(epochs: int = EPOCHS, accuracy_floor: float = ACCURACY_FLOOR) -> int:
    """Train and report the test accuracy; 0 if it reaches ``accuracy_floor``."""
    x_train, x_test, y_train, y_test = standardised_split()
    print(f"breast cancer: {len(x_train)} training and {len(x_test)} test examples, 30 features")
    rng = np.random.default_rng(SEED)
    model = nn.Sequential(
        nn.Linear(30, HIDDEN, rng=rng), nn.Sigmoid(), nn.Linear(HIDDEN, 1, rng=rng)
    )
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    inputs, targets = Tensor(x_train), Tensor(y_train)
    for epoch in range(epochs):
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 20 == 0 or epoch == epochs - 1:
            print(f"  epoch {epoch:>4}: training loss {loss.item():.4f}")
    train_acc, test_acc = accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)
    print(f"  training accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}")
    checks = Checks("breast cancer")
    checks.true(
        "test accuracy", test_acc >= accuracy_floor, f"{test_acc:.4f} (floor {accuracy_floor})"
    )
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
