"""Autodiff against the tutorials' hand-derived gradients, written out here in NumPy.

Intermediate gradients (the error terms, ∂J/∂Z) are read from the engine by adding a zero
"probe" leaf to the pre-activation: Z + probe has the value Z, and probe.grad is ∂J/∂Z.
"""

import numpy as np

from autograd_lite import Tensor


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def probe(shape) -> Tensor:
    return Tensor(np.zeros(shape), requires_grad=True)


# ----- tutorial 003: tanh hidden layer, sigmoid output, cross-entropy, column layout ----------


def test_tanh_sigmoid_cross_entropy_gradients_equal_the_closed_form(rng):
    n_x, n_h, m = 3, 5, 8
    X = rng.normal(size=(n_x, m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(np.float64)
    W1, b1 = rng.normal(size=(n_h, n_x)), rng.normal(size=(n_h, 1))
    W2, b2 = rng.normal(size=(1, n_h)), rng.normal(size=(1, 1))

    # The closed form, from the forward values.
    A1 = np.tanh(W1 @ X + b1)
    A2 = sigmoid(W2 @ A1 + b2)
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1**2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m

    # The engine.
    params = {
        name: Tensor(v, requires_grad=True) for name, v in dict(W1=W1, b1=b1, W2=W2, b2=b2).items()
    }
    probe1, probe2 = probe((n_h, m)), probe((1, m))
    a1 = (params["W1"] @ X + params["b1"] + probe1).tanh()
    a2 = (params["W2"] @ a1 + params["b2"] + probe2).sigmoid()
    cost = -(Y * a2.log() + (1 - Y) * (1 - a2).log()).sum() / m
    cost.backward()

    expected_cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
    assert abs(cost.item() - expected_cost) < 1e-12
    np.testing.assert_allclose(a2.data, A2, rtol=0, atol=1e-14)
    # The tutorial's dZ is ∂J/∂Z times m (it divides by m only in dW and db).
    for name, engine, closed in [
        ("dZ2", probe2.grad * m, dZ2),
        ("dZ1", probe1.grad * m, dZ1),
        ("dW1", params["W1"].grad, dW1),
        ("db1", params["b1"].grad, db1),
        ("dW2", params["W2"].grad, dW2),
        ("db2", params["b2"].grad, db2),
    ]:
        assert engine.shape == closed.shape, name
        np.testing.assert_allclose(engine, closed, rtol=0, atol=1e-10, err_msg=name)


# ----- tutorial 000: 3-2-1 sigmoid network, no biases, one step of lr 0.5 ---------------------

X_000 = np.array([0.5, 0.1, -0.2])
TARGET_000 = 0.6
LEARNRATE_000 = 0.5
W_INPUT_HIDDEN = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])
W_HIDDEN_OUTPUT = np.array([0.1, -0.3])


def tutorial_000_by_hand():
    """The tutorial's recipe: error term = error · f'(h); change = lr · error term · input."""
    hidden_in = X_000 @ W_INPUT_HIDDEN
    hidden_out = sigmoid(hidden_in)
    output_in = hidden_out @ W_HIDDEN_OUTPUT
    output = sigmoid(output_in)
    output_error_term = (TARGET_000 - output) * sigmoid(output_in) * (1 - sigmoid(output_in))
    hidden_error = output_error_term * W_HIDDEN_OUTPUT
    hidden_error_term = hidden_error * sigmoid(hidden_in) * (1 - sigmoid(hidden_in))
    delta_hidden_output = LEARNRATE_000 * output_error_term * hidden_out
    delta_input_hidden = LEARNRATE_000 * X_000[:, None] * hidden_error_term
    return output_error_term, hidden_error_term, delta_hidden_output, delta_input_hidden


def test_3_2_1_error_terms_and_weight_changes_equal_the_tutorials_formulas():
    """The tutorial's updates are gradient descent on E = ½ (target − output)².

    Its error terms are −∂E/∂(pre-activation) and its weight changes are −lr · ∂E/∂w. (The stored
    tutorial text prints no output, so there are no printed figures to compare with.)
    """
    by_hand = tutorial_000_by_hand()

    w_ih = Tensor(W_INPUT_HIDDEN, requires_grad=True)
    w_ho = Tensor(W_HIDDEN_OUTPUT, requires_grad=True)
    hidden_probe, output_probe = probe((2,)), probe(())
    hidden_out = (X_000 @ w_ih + hidden_probe).sigmoid()
    output = (hidden_out @ w_ho + output_probe).sigmoid()
    error = 0.5 * (TARGET_000 - output) ** 2
    error.backward()

    engine = (
        -output_probe.grad,
        -hidden_probe.grad,
        -LEARNRATE_000 * w_ho.grad,
        -LEARNRATE_000 * w_ih.grad,
    )
    names = ["output error term", "hidden error term", "Δw hidden→output", "Δw input→hidden"]
    for name, mine, theirs in zip(names, engine, by_hand, strict=True):
        assert np.shape(mine) == np.shape(theirs), name
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12, err_msg=name)


def test_3_2_1_weight_changes_to_eight_digits():
    """The figures the tutorial's code prints when run, to NumPy's 8 decimals.

    The stored tutorial page shows its code but not its output; these are pinned from running
    that code's formulas in NumPy, so that a change in the engine's numbers cannot go unseen.

    hidden_in = x·W = [0.25 + 0.01 − 0.02, −0.30 − 0.02 − 0.14] = [0.24, −0.46]; the output is
    below the target, so both hidden→output weights grow.
    """
    w_ih = Tensor(W_INPUT_HIDDEN, requires_grad=True)
    w_ho = Tensor(W_HIDDEN_OUTPUT, requires_grad=True)
    output = ((X_000 @ w_ih).sigmoid() @ w_ho).sigmoid()
    (0.5 * (TARGET_000 - output) ** 2).backward()
    np.testing.assert_allclose(-LEARNRATE_000 * w_ho.grad, [0.00804047, 0.00555918], rtol=1e-6)
    np.testing.assert_allclose(
        -LEARNRATE_000 * w_ih.grad,
        [
            [1.77005547e-04, -5.11178506e-04],
            [3.54011093e-05, -1.02235701e-04],
            [-7.08022187e-05, 2.04471402e-04],
        ],
        rtol=1e-6,
    )
