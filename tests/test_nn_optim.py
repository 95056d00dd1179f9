"""SGD and Adam: torch.optim's update rules, step for step."""

import numpy as np
import pytest

import nn
from autograd_lite import Tensor


def make_mlp(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(3, 5, rng=rng), nn.Tanh(), nn.Linear(5, 2, rng=rng), nn.Sigmoid()
    )


def batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(8, 3)), rng.uniform(size=(8, 2))


def train(model, opt, steps=5):
    x, y = batch()
    for _ in range(steps):
        opt.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        opt.step()


OPTIMIZERS = [
    ("SGD", {"lr": 0.5}),
    ("SGD", {"lr": 0.3, "momentum": 0.9}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}),
]


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_five_steps_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = make_mlp()
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2), torch.nn.Sigmoid()
    ).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    train(ours, getattr(nn.optim, name)(ours.parameters(), **kwargs))
    opt = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    x, y = (torch.from_numpy(a) for a in batch())
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.mse_loss(theirs(x), y).backward()
        opt.step()
    reference = theirs.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value, reference[key].numpy(), rtol=0, atol=1e-10, err_msg=key)
    assert not np.allclose(make_mlp().state_dict()["0.weight"], ours.state_dict()["0.weight"])


def test_sgd_momentum_rule_by_hand():
    p = nn.Parameter([1.0, -2.0])
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.5)
    grads = [np.array([1.0, 2.0]), np.array([-3.0, 0.5]), np.array([0.25, 0.0])]
    expected, buf = np.array([1.0, -2.0]), None
    for g in grads:
        p.grad = g.copy()
        opt.step()
        buf = g if buf is None else 0.5 * buf + g  # the first step takes the gradient itself
        expected = expected - 0.1 * buf
        np.testing.assert_allclose(p.data, expected, rtol=1e-15)


def test_adam_first_step_moves_each_weight_by_lr():
    # With bias correction, step 1 is lr · g / (|g| + eps·...): about lr in the sign of g.
    p = nn.Parameter([1.0, 1.0, 1.0])
    opt = nn.optim.Adam([p], lr=0.01)
    p.grad = np.array([3.0, -0.2, 1e-2])
    opt.step()
    np.testing.assert_allclose(p.data, [0.99, 1.01, 0.99], rtol=0, atol=1e-7)


def test_step_updates_in_place_and_skips_parameters_without_grad():
    model = make_mlp()
    params = list(model.parameters())
    arrays = [p.data for p in params]
    before = model.state_dict()
    opt = nn.optim.Adam(model.parameters(), lr=0.1)  # a generator is accepted
    x, y = batch()
    nn.MSELoss()(model(x), y).backward()
    model[2].bias.grad = None
    opt.step()
    assert all(
        p is q and p.data is a for p, q, a in zip(model.parameters(), params, arrays, strict=True)
    )
    after = model.state_dict()
    np.testing.assert_array_equal(after["2.bias"], before["2.bias"])
    assert not np.array_equal(after["2.weight"], before["2.weight"])


def test_zero_grad_sets_none():
    model = make_mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    x, y = batch()
    nn.MSELoss()(model(x), y).backward()
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    opt.step()  # nothing to do, and no error


def test_training_lowers_the_loss():
    model = make_mlp()
    x, y = batch()
    first = nn.MSELoss()(model(x), y).item()
    train(model, nn.optim.Adam(model.parameters(), lr=0.05), steps=30)
    assert nn.MSELoss()(model(x), y).item() < 0.5 * first


def test_bad_arguments():
    p = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="lr"):
        nn.optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="momentum"):
        nn.optim.SGD([p], lr=0.1, momentum=-1)
    with pytest.raises(ValueError, match="betas"):
        nn.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        nn.optim.Adam([p], eps=-1e-8)
    with pytest.raises(ValueError, match="empty"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="list"):
        nn.optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="not a Tensor"):
        nn.optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="requires_grad"):
        nn.optim.SGD([Tensor([1.0])], lr=0.1)


def test_a_parameter_listed_twice_is_updated_once():
    p = nn.Parameter([1.0])
    opt = nn.optim.SGD([p, p], lr=1.0)
    p.grad = np.array([1.0])
    opt.step()
    np.testing.assert_array_equal(p.data, [0.0])
