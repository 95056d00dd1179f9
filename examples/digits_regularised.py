"""The digits classifier of ``digits.py`` with the tools of a real training script: ``Dropout``
after the hidden layer, ``AdamW`` (decoupled weight decay), a cosine learning-rate schedule over
the epochs and label smoothing in the cross-entropy; train/eval modes switched around evaluation.

Same data split, network sizes, seed, minibatches and number of epochs as ``digits.py`` (whose
plain recipe, Adam with no regulariser, is trained here too, for the comparison). The checks:
the test accuracy reaches digits.py's floor of 0.97, and at least the plain recipe's. Measured:
0.9806 (353 of 360 test images) against 0.9778 (352) for the plain recipe; over the model seeds
0-4 (the split fixed) 0.9806-0.9889 (mean 0.9833) against 0.9722-0.9778 (mean 0.975). Both runs
take about 1.5 s together.
"""

from __future__ import annotations

import sys

import digits
import numpy as np
from _shared import Checks

import nn
from autograd_lite import Tensor

DROPOUT = 0.2
LEARNING_RATE = 6e-3
WEIGHT_DECAY = 0.1
LABEL_SMOOTHING = 0.1


def train(regularised: bool, epochs: int) -> float:
    """Train digits.py's network (with the regularisers if ``regularised``); the test accuracy."""
    x_train, x_test, y_train, y_test = digits.digits_split()
    rng = np.random.default_rng(digits.SEED)  # one stream, drawn from as digits.py draws
    hidden = [nn.Linear(64, digits.HIDDEN, rng=rng), nn.ReLU()]
    if regularised:
        hidden.append(nn.Dropout(DROPOUT, rng=rng))
    model = nn.Sequential(*hidden, nn.Linear(digits.HIDDEN, 10, rng=rng))
    if regularised:
        optimizer = nn.optim.AdamW(model.parameters(), LEARNING_RATE, weight_decay=WEIGHT_DECAY)
        scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    else:
        optimizer = nn.optim.Adam(model.parameters(), lr=digits.LEARNING_RATE)
        scheduler, loss_fn = None, nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()  # dropout on
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), digits.BATCH_SIZE):
            batch = order[start : start + digits.BATCH_SIZE]
            loss = loss_fn(model(Tensor(x_train[batch])), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()  # once per epoch, after the epoch's optimizer steps
    model.eval()  # dropout off: evaluate the whole network
    return digits.accuracy(model, x_test, y_test)


def main(
    epochs: int = digits.EPOCHS,
    accuracy_floor: float = digits.ACCURACY_FLOOR,
    compare: bool = True,
) -> int:
    """Train both recipes and check the regularised one; 0 if every check holds."""
    print(
        f"digits, regularised: dropout {DROPOUT}, AdamW (lr {LEARNING_RATE}, weight decay "
        f"{WEIGHT_DECAY}), cosine schedule over {epochs} epochs, label smoothing {LABEL_SMOOTHING}"
    )
    accuracy = train(regularised=True, epochs=epochs)
    checks = Checks("digits_regularised")
    checks.true(
        "test accuracy", accuracy >= accuracy_floor, f"{accuracy:.4f} (floor {accuracy_floor})"
    )
    if compare:
        plain = train(regularised=False, epochs=epochs)
        checks.true(
            "vs plain recipe",
            accuracy >= plain,
            f"{accuracy:.4f} regularised, {plain:.4f} digits.py's Adam without regularisers",
        )
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
