"""AdamW, RMSprop and Adagrad: each rule written out here in NumPy, and torch.optim's numbers,
parameter groups and state dicts (both ways) where PyTorch is installed."""

import numpy as np
import pytest
from mlp_training import (
    assert_optimizer_state_matches_torch,
    crossed_state_dicts,
    make_mlp,
    torch_train,
    torch_twin,
    train,
)

import nn

GRADS = [np.array([3.0, -2.0, 0.5]), np.array([0.1, 0.5, -4.0]), np.array([-1.0, 2.0, 0.0])]


def run(make_opt, grads=GRADS, start=(1.0, -2.0, 0.5)):
    p = nn.Parameter(np.array(start))
    opt = make_opt([p])
    for g in grads:
        p.grad = g.copy()
        opt.step()
    return p.data


# ----- the rules, by hand -----------------------------------------------------------------------
def test_adamw_decays_the_weights_then_takes_the_adam_step():
    lr, (b1, b2), eps, wd = 0.1, (0.9, 0.99), 1e-8, 0.3
    p, m, v = np.array([1.0, -2.0, 0.5]), 0.0, 0.0
    for t, g in enumerate(GRADS, start=1):
        p = p * (1 - lr * wd)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        p = p - lr / (1 - b1**t) * m / (np.sqrt(v / (1 - b2**t)) + eps)
    got = run(lambda ps: nn.optim.AdamW(ps, lr=lr, betas=(b1, b2), weight_decay=wd))
    np.testing.assert_allclose(got, p, rtol=1e-13)
    coupled = run(lambda ps: nn.optim.Adam(ps, lr=lr, betas=(b1, b2), weight_decay=wd))
    assert not np.allclose(coupled, p, rtol=1e-3)  # Adam's weight_decay is another rule
    assert nn.optim.AdamW([nn.Parameter([1.0])]).defaults["weight_decay"] == 0.01
    same = run(lambda ps: nn.optim.Adam(ps, lr=lr, weight_decay=wd, decoupled_weight_decay=True))
    np.testing.assert_array_equal(same, run(lambda ps: nn.optim.AdamW(ps, lr=lr, weight_decay=wd)))


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.7])
def test_rmsprop_rule(centered, momentum):
    lr, alpha, eps, wd = 0.05, 0.9, 1e-6, 0.1
    p = np.array([1.0, -2.0, 0.5])
    square, mean, buf = np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        g = g + wd * p
        square = alpha * square + (1 - alpha) * g * g
        mean = alpha * mean + (1 - alpha) * g
        avg = np.sqrt(square - mean**2 if centered else square) + eps
        buf = momentum * buf + g / avg
        p = p - lr * (buf if momentum else g / avg)
    got = run(
        lambda ps: nn.optim.RMSprop(
            ps, lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=momentum, centered=centered
        )
    )
    np.testing.assert_allclose(got, p, rtol=1e-13)


def test_adagrad_rule_with_lr_decay_and_initial_accumulator():
    lr, decay, init, eps, wd = 0.5, 0.1, 0.2, 1e-10, 0.05
    p, total = np.array([1.0, -2.0, 0.5]), np.full(3, init)
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * p
        total = total + g * g
        p = p - lr / (1 + (t - 1) * decay) * g / (np.sqrt(total) + eps)
    got = run(
        lambda ps: nn.optim.Adagrad(
            ps, lr=lr, lr_decay=decay, weight_decay=wd, initial_accumulator_value=init, eps=eps
        )
    )
    np.testing.assert_allclose(got, p, rtol=1e-13)


def test_maximize_climbs():
    for make in (nn.optim.AdamW, nn.optim.RMSprop, nn.optim.Adagrad):
        down = run(lambda ps, make=make: make(ps, lr=0.1), grads=GRADS[:1])
        up = run(lambda ps, make=make: make(ps, lr=0.1, maximize=True), grads=GRADS[:1])
        start = np.array([1.0, -2.0, 0.5])
        assert np.all(np.sign(up - start) == np.sign(GRADS[0]))
        assert np.all(np.sign(down - start) == -np.sign(GRADS[0]))


# ----- state, versions, dtypes ------------------------------------------------------------------
def test_state_entries_are_named_as_pytorch_names_them():
    def entries(opt):
        model = make_mlp()
        o = opt(model.parameters())
        before = {k for s in o.state.values() for k in s}
        train(model, o, 0, 1)
        return before, set(o.state_dict()["state"][0])

    assert entries(lambda ps: nn.optim.AdamW(ps)) == (set(), {"step", "exp_avg", "exp_avg_sq"})
    assert entries(lambda ps: nn.optim.RMSprop(ps, momentum=0.5, centered=True))[1] == {
        "step", "square_avg", "momentum_buffer", "grad_avg"
    }  # fmt: skip
    assert entries(lambda ps: nn.optim.RMSprop(ps))[1] == {"step", "square_avg"}
    # Adagrad starts every parameter's state at construction, as PyTorch does.
    assert entries(lambda ps: nn.optim.Adagrad(ps)) == ({"step", "sum"}, {"step", "sum"})


@pytest.mark.parametrize("name", ["AdamW", "RMSprop", "Adagrad"])
def test_steps_update_in_place_bump_versions_and_keep_float32(name):
    model = make_mlp(dtype=np.float32)
    arrays = [p.data for p in model.parameters()]
    versions = [p._version for p in model.parameters()]
    opt = getattr(nn.optim, name)(model.parameters(), lr=0.01)
    train(model, opt, 0, 2)
    for p, a, v in zip(model.parameters(), arrays, versions, strict=True):
        assert p.data is a and p.dtype == np.float32 and p._version > v
    arrays_in_state = [v for s in opt.state.values() for v in s.values() if hasattr(v, "dtype")]
    assert arrays_in_state and all(a.dtype == np.float32 for a in arrays_in_state)


def test_state_dict_round_trip_through_nn_save_resumes_exactly(tmp_path):
    for make in (
        lambda ps: nn.optim.AdamW(ps, lr=0.05, amsgrad=True),
        lambda ps: nn.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
        lambda ps: nn.optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    ):
        model, twin = make_mlp(), make_mlp()
        opt = make(model.parameters())
        train(model, opt, 0, 3)
        nn.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.npz")
        checkpoint = nn.load(tmp_path / "c.npz")
        twin.load_state_dict(checkpoint["model"])
        resumed = make(twin.parameters())
        resumed.load_state_dict(checkpoint["opt"])
        train(model, opt, 3, 6)
        train(twin, resumed, 3, 6)
        for key, value in model.state_dict().items():
            assert value.tobytes() == twin.state_dict()[key].tobytes(), key


def test_bad_hyperparameters_are_clear_errors():
    p = [nn.Parameter([1.0])]
    with pytest.raises(ValueError, match=r"alpha .* must be in \[0, 1\]"):
        nn.optim.RMSprop(p, alpha=1.5)
    with pytest.raises(ValueError, match="lr_decay must be a number >= 0"):
        nn.optim.Adagrad(p, lr_decay=-1)
    with pytest.raises(ValueError, match="centered must be True or False"):
        nn.optim.RMSprop(p, centered="yes")
    opt = nn.optim.AdamW(p)
    state = opt.state_dict()
    state["param_groups"][0]["decoupled_weight_decay"] = False
    with pytest.raises(ValueError, match="AdamW always decouples"):
        opt.load_state_dict(state)
    with pytest.raises(ValueError, match="does not keep"):
        nn.optim.Adagrad(p).load_state_dict(nn.optim.RMSprop(p).state_dict() | {
            "state": {0: {"step": 1, "square_avg": np.ones(1)}}})  # fmt: skip


# ----- PyTorch ----------------------------------------------------------------------------------
CASES = [
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True, "betas": (0.8, 0.9)}),
    ("AdamW", {"lr": 0.05, "maximize": True, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1, "momentum": 0.8, "centered": True}),
    ("RMSprop", {"lr": 0.01, "eps": 1e-4, "centered": True, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.02, "initial_accumulator_value": 0.3},
    ),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "maximize": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES)
def test_groups_and_steps_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = make_mlp()
    theirs = torch_twin(ours)

    def groups(model):
        return [{"params": model[0].parameters(), "lr": 0.02}, {"params": model[2].parameters()}]

    opt = getattr(nn.optim, name)(groups(ours), **kwargs)
    topt = getattr(torch.optim, name)(groups(theirs), **kwargs)
    train(ours, opt, 0, 6)
    torch_train(theirs, topt, 0, 6)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), atol=1e-10, err_msg=key)
    assert_optimizer_state_matches_torch(opt, topt)


@pytest.mark.parametrize(("name", "kwargs"), [CASES[1], CASES[4], CASES[7]])
def test_state_dicts_cross_to_and_from_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = make_mlp()
    theirs = torch_twin(ours)
    opt = getattr(nn.optim, name)(ours.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    train(ours, opt, 0, 2)
    torch_train(theirs, topt, 0, 2)
    fresh, fresh_torch = crossed_state_dicts(name, ours, opt, theirs, topt)
    train(ours, fresh, 2, 5)
    torch_train(theirs, fresh_torch, 2, 5)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), atol=1e-10, err_msg=key)
