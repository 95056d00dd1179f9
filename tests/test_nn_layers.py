"""Linear and the activation layers: shapes, errors, finite differences and PyTorch."""

import math

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd_lite import Tensor, gradcheck


def with_parameters(module, names, tensors):
    """Swap the named parameters for ``tensors`` (so gradcheck can vary them), returning the old."""
    old = []
    for name, tensor in zip(names, tensors, strict=True):
        *path, last = name.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        old.append(getattr(owner, last))
        setattr(owner, last, tensor)
    return old


def gradcheck_module(module, x):
    """gradcheck the module's output against its input and every parameter at once."""
    names = [name for name, _ in module.named_parameters()]
    params = [Tensor(p.data, requires_grad=True) for p in module.parameters()]

    def fn(x, *ps):
        old = with_parameters(module, names, ps)
        try:
            return module(x)
        finally:
            with_parameters(module, names, old)

    assert gradcheck(fn, Tensor(x, requires_grad=True), *params)


def test_linear_shapes_and_formula():
    rng = np.random.default_rng(0)
    layer = nn.Linear(3, 2, rng=rng)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    x = rng.normal(size=(5, 3))
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-15, atol=0)
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    assert no_bias(x).shape == (5, 2)
    assert layer(x[0]).shape == (2,)  # a single sample without a batch axis
    assert layer(rng.normal(size=(4, 5, 3))).shape == (4, 5, 2)


def test_linear_default_init_bounds_and_rng():
    layer = nn.Linear(16, 200, rng=np.random.default_rng(3))
    bound = 1 / math.sqrt(16)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.9 * bound  # spread over the whole interval
    again = nn.Linear(16, 200, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(layer.weight.data, again.weight.data)
    nn.manual_seed(5)
    a = nn.Linear(4, 4)
    nn.manual_seed(5)
    b = nn.Linear(4, 4)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_linear_wrong_feature_size_names_expected_and_got():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"last dimension is 3.*shape \(5, 4\)"):
        layer(np.zeros((5, 4)))
    with pytest.raises(ValueError):
        layer(Tensor(1.0))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_linear_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive integer"):
        nn.Linear(bad, 2)


def test_linear_gradcheck():
    rng = np.random.default_rng(1)
    gradcheck_module(nn.Linear(3, 2, rng=rng), rng.normal(size=(4, 3)))
    gradcheck_module(nn.Linear(3, 2, bias=False, rng=rng), rng.normal(size=(4, 3)))


@pytest.mark.parametrize("layer", [nn.Sigmoid(), nn.Tanh(), nn.ReLU()])
def test_activation_gradcheck(layer):
    x = np.random.default_rng(2).normal(size=(3, 4)) * 3
    x[np.abs(x) < 1e-3] = 0.5  # ReLU's kink is not differentiable
    gradcheck_module(layer, x)


def test_activations_match_formulas():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 800.0, -800.0]])
    np.testing.assert_allclose(nn.Sigmoid()(Tensor(x)).data, 0.5 * (1 + np.tanh(x / 2)), atol=1e-15)
    np.testing.assert_allclose(nn.Tanh()(Tensor(x)).data, np.tanh(x))
    np.testing.assert_array_equal(nn.ReLU()(Tensor(x)).data, np.maximum(x, 0))
    np.testing.assert_allclose(F.softmax(Tensor(x)).data.sum(), 1.0)
    np.testing.assert_allclose(
        F.log_softmax(Tensor(x), dim=1).data, x - np.logaddexp.reduce(x, axis=1, keepdims=True)
    )


def test_mlp_gradcheck():
    rng = np.random.default_rng(4)
    model = nn.Sequential(
        nn.Linear(2, 4, rng=rng), nn.Tanh(), nn.Linear(4, 3, rng=rng), nn.ReLU(),
        nn.Linear(3, 1, rng=rng), nn.Sigmoid(),
    )  # fmt: skip
    gradcheck_module(model, rng.normal(size=(5, 2)))


def test_float32_stays_float32():
    rng = np.random.default_rng(5)
    model = nn.Sequential(
        nn.Linear(2, 3, rng=rng, dtype=np.float32), nn.Tanh(),
        nn.Linear(3, 1, rng=rng, dtype=np.float32), nn.Sigmoid(),
    )  # fmt: skip
    x = rng.normal(size=(4, 2))  # float64 data is converted to the layer's dtype
    out = model(x)
    assert out.dtype == np.float32
    loss = nn.MSELoss()(out, rng.uniform(size=(4, 1)))
    assert loss.dtype == np.float32
    loss.backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    for opt in (nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                nn.optim.Adam(model.parameters())):  # fmt: skip
        opt.step()
        opt.step()
        assert all(p.data.dtype == np.float32 for p in model.parameters())


def test_matches_torch_values_and_grads():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    ours = nn.Sequential(
        nn.Linear(3, 5, rng=rng), nn.ReLU(), nn.Linear(5, 4, rng=rng), nn.Tanh(),
        nn.Linear(4, 2, rng=rng), nn.Sigmoid(),
    )  # fmt: skip
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
        torch.nn.Linear(4, 2), torch.nn.Sigmoid(),
    ).double()  # fmt: skip
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rng.normal(size=(7, 3))
    x_ours = Tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(out_ours.data, out_theirs.detach().numpy(), rtol=0, atol=1e-12)
    weights = rng.normal(size=out_ours.shape)
    (out_ours * weights).sum().backward()
    (out_theirs * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=0, atol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=0, atol=1e-12, err_msg=name)


def test_functional_activations_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).normal(size=(4, 5)) * 4
    x[0, 0], x[1, 1] = 1000.0, -1000.0
    t = torch.from_numpy(x)
    pairs = [
        (F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh), (F.relu, torch.relu),
        (lambda a: F.softmax(a, dim=1), lambda a: torch.softmax(a, dim=1)),
        (lambda a: F.log_softmax(a, dim=0), lambda a: torch.log_softmax(a, dim=0)),
    ]  # fmt: skip
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(Tensor(x)).data, theirs(t).numpy(), rtol=1e-14, atol=1e-300)
