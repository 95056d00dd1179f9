"""Learning-rate schedulers: PyTorch's closed forms written out here, the recursion's agreement
with them, resuming, state dicts (through nn.save, and to and from torch.optim.lr_scheduler)."""

import math

import numpy as np
import pytest

import nn
from nn.optim import lr_scheduler as sched


def optimizer(lrs=(0.1, 0.03)):
    groups = [{"params": [nn.Parameter(np.zeros(2))], "lr": lr} for lr in lrs]
    return nn.optim.SGD(groups, lr=0.5)


def trace(make, epochs=25, lrs=(0.1, 0.03)):
    """get_last_lr() after construction and after each of ``epochs`` steps."""
    opt = optimizer(lrs)
    scheduler = make(opt)
    seen = [scheduler.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr())
        assert seen[-1] == [g["lr"] for g in opt.param_groups]
    return np.array(seen)


def closed(base, formula, epochs=25):
    return np.array([[formula(b, e) for b in base] for e in range(epochs + 1)])


BASE = (0.1, 0.03)


def warmup(epoch):
    return min(1.0, (epoch + 1) / 4) * 0.95**epoch


SCHEDULES = {
    "step": (
        lambda o: sched.StepLR(o, step_size=4, gamma=0.5),
        lambda b, e: b * 0.5 ** (e // 4),
    ),
    "exponential": (
        lambda o: sched.ExponentialLR(o, gamma=0.9),
        lambda b, e: b * 0.9**e,
    ),
    "cosine": (  # past T_max it climbs back, as PyTorch's does
        lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
        lambda b, e: 0.001 + (b - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2,
    ),
    "lambda": (lambda o: sched.LambdaLR(o, warmup), lambda b, e: b * warmup(e)),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedules_follow_their_closed_forms(name):
    make, formula = SCHEDULES[name]
    np.testing.assert_allclose(trace(make), closed(BASE, formula), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["step", "exponential", "cosine"])
def test_step_with_an_epoch_jumps_by_the_closed_form(name):
    make, formula = SCHEDULES[name]
    opt = optimizer()
    scheduler = make(opt)
    scheduler.step(13)
    np.testing.assert_allclose(scheduler.get_last_lr(), [formula(b, 13) for b in BASE], rtol=1e-14)


def test_the_recursion_carries_a_change_made_from_outside():
    opt = optimizer()
    scheduler = sched.ExponentialLR(opt, gamma=0.5)
    opt.param_groups[0]["lr"] = 1.0
    scheduler.step()
    assert scheduler.get_last_lr() == [0.5, 0.015]


def test_lambda_lr_per_group_and_its_state_dict():
    class Warmup:  # a callable object: its attributes are saved, as in PyTorch
        def __init__(self, epochs):
            self.epochs = epochs

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.epochs)

    opt = optimizer()
    scheduler = sched.LambdaLR(opt, [Warmup(4), lambda e: 0.5**e])
    assert scheduler.get_last_lr() == [0.1 * 0.25, 0.03]
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 4}, None]
    state["lr_lambdas"][0] = {"epochs": 2}
    scheduler.load_state_dict(state)
    assert scheduler.lr_lambdas[0].epochs == 2
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        sched.LambdaLR(opt, [warmup])


def test_state_dict_through_nn_save_resumes_the_schedule(tmp_path):
    make, _ = SCHEDULES["cosine"]
    opt = optimizer()
    scheduler = make(opt)
    for _ in range(7):
        opt.step()
        scheduler.step()
    nn.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "c")
    saved = nn.load(tmp_path / "c")
    assert set(saved["scheduler"]) == {
        "T_max", "eta_min", "base_lrs", "last_epoch", "_step_count", "_last_lr"
    }  # fmt: skip
    opt2 = optimizer()
    scheduler2 = make(opt2)  # created first, then loaded, as PyTorch's docs advise
    opt2.load_state_dict(saved["optimizer"])
    scheduler2.load_state_dict(saved["scheduler"])
    for _ in range(10):
        for o, s in ((opt, scheduler), (opt2, scheduler2)):
            o.step()
            s.step()
        assert scheduler2.get_last_lr() == scheduler.get_last_lr()


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = optimizer()
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(opt, step_size=2, last_epoch=3)
    sched.StepLR(opt, step_size=2)  # sets initial_lr
    resumed = sched.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    assert resumed.last_epoch == 4 and resumed.base_lrs == [0.1, 0.03]


def test_bad_arguments_are_clear_errors():
    opt = optimizer()
    with pytest.raises(TypeError, match="nn.optim optimizer"):
        sched.StepLR("sgd", step_size=2)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        sched.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive int"):
        sched.CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(ValueError, match="gamma must be a number >= 0"):
        sched.ExponentialLR(opt, gamma=-0.5)
    state = sched.StepLR(opt, step_size=2).state_dict()
    with pytest.raises(ValueError, match="another scheduler"):
        sched.ExponentialLR(opt, gamma=0.5).load_state_dict(state)
    with pytest.raises(ValueError, match="2 parameter groups"):
        state["base_lrs"] = [0.1]
        sched.StepLR(opt, step_size=2).load_state_dict(state)


# ----- PyTorch ----------------------------------------------------------------------------------
def torch_pair(torch, ours_make, theirs_make, lrs=BASE):
    ours_opt = optimizer(lrs)
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    theirs_opt = torch.optim.SGD(groups, lr=0.5)
    return ours_opt, ours_make(ours_opt), theirs_opt, theirs_make(theirs_opt)


TORCH_CASES = {
    "step": ("StepLR", {"step_size": 3, "gamma": 0.3}),
    "exponential": ("ExponentialLR", {"gamma": 0.8}),
    "cosine": ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.002}),
    "lambda": ("LambdaLR", {"lr_lambda": warmup}),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_schedules_and_state_dicts_match_torch(name):
    torch = pytest.importorskip("torch")
    cls, kwargs = TORCH_CASES[name]
    opt, ours, topt, theirs = torch_pair(
        torch,
        lambda o: getattr(sched, cls)(o, **kwargs),
        lambda o: getattr(torch.optim.lr_scheduler, cls)(o, **kwargs),
    )
    for epoch in range(20):  # cosine: past T_max, through its bottom twice
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15)
        opt.step(), topt.step()
        ours.step(), theirs.step()
        if epoch == 9:  # cross over: ours into torch's, torch's into ours
            ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
            assert set(ours_state) <= set(theirs_state)
            assert set(theirs_state) - set(ours_state) <= {
                "_get_lr_called_within_step", "_is_initial"
            }  # fmt: skip
            ours.load_state_dict(theirs_state)
            theirs.load_state_dict(ours_state)
    assert ours.last_epoch == theirs.last_epoch == 20
