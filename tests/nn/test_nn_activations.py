"""The activation layers and their nn.functional forms: each is the Tensor method of the same name
(same bits), matches its formula written here in NumPy, central differences, and PyTorch."""

import math

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd_lite import Tensor, gradcheck, gradgradcheck

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
erf = np.vectorize(math.erf)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def clip(x, low, high):
    return np.minimum(np.maximum(x, low), high)


# (layer, functional call, formula); options differ from the defaults where there are any, so
# that an option which is not passed on shows.
CASES = {
    "LeakyReLU": (
        nn.LeakyReLU(0.2),
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
    ),
    "ELU": (nn.ELU(1.5), lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x))),
    "CELU": (
        nn.CELU(0.7),
        lambda x: F.celu(x, 0.7),
        lambda x: np.maximum(x, 0) + np.minimum(0, 0.7 * np.expm1(x / 0.7)),
    ),
    "SELU": (
        nn.SELU(),
        F.selu,
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    ),
    "GELU": (nn.GELU(), F.gelu, lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2)))),
    "GELU-tanh": (
        nn.GELU("tanh"),
        lambda x: F.gelu(x, "tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    "SiLU": (nn.SiLU(), F.silu, lambda x: x * sigmoid(x)),
    "Mish": (nn.Mish(), F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "Softplus": (
        nn.Softplus(2.0, 5.0),
        lambda x: F.softplus(x, 2.0, 5.0),
        lambda x: np.where(2 * x > 5, x, np.log1p(np.exp(2 * x)) / 2),
    ),
    "Softsign": (nn.Softsign(), F.softsign, lambda x: x / (1 + np.abs(x))),
    "Hardtanh": (
        nn.Hardtanh(-2.0, 1.5),
        lambda x: F.hardtanh(x, -2.0, 1.5),
        lambda x: clip(x, -2.0, 1.5),
    ),
    "Hardsigmoid": (nn.Hardsigmoid(), F.hardsigmoid, lambda x: clip(x / 6 + 0.5, 0, 1)),
    "Hardswish": (nn.Hardswish(), F.hardswish, lambda x: x * clip(x / 6 + 0.5, 0, 1)),
    "ReLU6": (nn.ReLU6(), F.relu6, lambda x: clip(x, 0, 6)),
    "LogSigmoid": (nn.LogSigmoid(), F.logsigmoid, lambda x: -np.log1p(np.exp(-x))),
}
X = np.concatenate([np.linspace(-7.3, 7.1, 37), [-3.0, -2.0, -1.0, 0.0, 1.5, 3.0, 6.0]])
SMOOTH = np.linspace(-4.1, 4.3, 9) + 0.013  # off every kink (0, ±3, 6, -2, 1.5, 2.5)


@pytest.mark.parametrize("name", CASES)
def test_layer_functional_and_formula_agree(name):
    layer, functional, formula = CASES[name]
    x = Tensor(X)
    by_layer = layer(x).data
    np.testing.assert_array_equal(by_layer, functional(x).data)
    np.testing.assert_allclose(by_layer, formula(X), rtol=1e-13, atol=1e-15)
    assert layer(X).shape == X.shape  # arrays are taken as constants, as by the functions


@pytest.mark.parametrize("name", CASES)
def test_gradients_and_second_derivatives(name):
    layer, _, _ = CASES[name]
    x = Tensor(SMOOTH.reshape(3, 3), requires_grad=True)
    assert gradcheck(layer, x)
    assert gradgradcheck(layer, x)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_layer_is_finite_at_1000(dtype):
    for layer, _, _ in CASES.values():
        x = Tensor(np.array([-1000.0, -50.0, 0.5, 50.0, 1000.0], dtype), requires_grad=True)
        y = layer(x)
        y.sum().backward()
        assert y.dtype == dtype and np.isfinite(y.data).all() and np.isfinite(x.grad).all()


def test_options_and_refusals():
    with pytest.raises(ValueError, match="inplace=True is not supported"):
        nn.LeakyReLU(0.1, inplace=True)
    with pytest.raises(ValueError, match="inplace=True"):
        F.relu(Tensor([1.0]), inplace=True)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="min_val < max_val"):
        nn.Hardtanh(1.0, -1.0)
    assert nn.ReLU(inplace=False).inplace is False


def test_reprs_and_values_match_torch():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    theirs = {
        "LeakyReLU": tn.LeakyReLU(0.2),
        "ELU": tn.ELU(1.5),
        "CELU": tn.CELU(0.7),
        "SELU": tn.SELU(),
        "GELU": tn.GELU(),
        "GELU-tanh": tn.GELU("tanh"),
        "SiLU": tn.SiLU(),
        "Mish": tn.Mish(),
        "Softplus": tn.Softplus(2.0, 5.0),
        "Softsign": tn.Softsign(),
        "Hardtanh": tn.Hardtanh(-2.0, 1.5),
        "Hardsigmoid": tn.Hardsigmoid(),
        "Hardswish": tn.Hardswish(),
        "ReLU6": tn.ReLU6(),
        "LogSigmoid": tn.LogSigmoid(),
    }
    rng = np.random.default_rng(0)
    for name, (layer, _, _) in CASES.items():
        assert repr(layer) == repr(theirs[name])
        a, b = Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        out_a, out_b = layer(a), theirs[name](b)
        np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-12, atol=1e-15)
        g = rng.normal(size=X.shape)
        (out_a * g).sum().backward()
        (out_b * torch.from_numpy(g)).sum().backward()
        # PyTorch's CELU and Hardsigmoid backwards multiply by a float32-rounded constant (1/alpha,
        # 1/6), so they are float64 to about 1e-8 only; the rest agree to 1e-10.
        atol = 1e-7 if name in ("CELU", "Hardsigmoid") else 1e-10
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=0, atol=atol, err_msg=name)
