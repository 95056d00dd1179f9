"""Issue 9, point 8: optimizer state follows its parameters (deepcopy, pickle, state dicts, groups).

Written as users write training code: snapshot-and-restore loops with Adam, a run stopped, saved
with nn.save, resumed in a fresh process, and parameter groups with their own learning rates.
"""

import copy
import math
import pickle
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlp_training import (
    assert_optimizer_state_matches_torch,
    batch,
    crossed_state_dicts,
    make_mlp,
    torch_train,
    torch_twin,
    train,
)

import nn
from autograd_lite import Tensor, no_grad

REPO = Path(__file__).resolve().parents[2]


def assert_same_bits(a, b):
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key


def owned_by(model, tensors):
    return all(any(t is p for p in model.parameters()) for t in tensors)


# ----- state keyed by the parameter, through deepcopy and pickle ------------------------------
def test_state_is_keyed_by_the_parameter_tensor_with_torchs_names():
    model, other = make_mlp(), make_mlp(seed=5)
    sgd = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    adam = nn.optim.Adam(other.parameters())
    train(model, sgd, 0, 1)
    train(other, adam, 0, 2)
    assert list(sgd.state) == list(model.parameters())  # the Tensors themselves, in order
    assert all(set(s) == {"momentum_buffer"} for s in sgd.state.values())
    assert [set(adam.state[p]) for p in other.parameters()] == [
        {"step", "exp_avg", "exp_avg_sq"}
    ] * 4
    assert all(adam.state[p]["step"] == 2 for p in other.parameters())
    assert adam.param_groups[0]["params"] == list(other.parameters())
    assert nn.optim.SGD(model.parameters(), lr=0.1).state == {}  # no momentum: no state


def test_snapshot_and_restore_loop_with_adam_matches_a_straight_run():
    model = make_mlp()
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    step = 0
    for _ in range(4):
        snapshot = copy.deepcopy((model, opt))
        train(model, opt, 1000, 1003)  # an exploratory branch, thrown away
        model, opt = snapshot
        assert owned_by(model, opt.state) and owned_by(model, opt.param_groups[0]["params"])
        train(model, opt, step, step + 2)
        step += 2
    straight = make_mlp()
    train(straight, nn.optim.Adam(straight.parameters(), lr=0.05), 0, step)
    assert_same_bits(model.state_dict(), straight.state_dict())


@pytest.mark.parametrize("roundtrip", ["deepcopy", "pickle"])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_copied_model_and_optimizer_continue_exactly_as_the_original(roundtrip, kind):
    model = make_mlp()
    opt = (
        nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        if kind == "sgd"
        else nn.optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
    )
    train(model, opt, 0, 3)
    if roundtrip == "deepcopy":
        model2, opt2 = copy.deepcopy((model, opt))
    else:
        model2, opt2 = pickle.loads(pickle.dumps((model, opt)))
    assert owned_by(model2, opt2.state) and len(opt2.state) == 4
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        for key, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert opt2.state[q][key] is not value
                np.testing.assert_array_equal(opt2.state[q][key], value)
    train(model, opt, 3, 6)
    train(model2, opt2, 3, 6)
    assert_same_bits(model.state_dict(), model2.state_dict())


# ----- state_dict / load_state_dict -----------------------------------------------------------
def test_state_dict_layout_is_pytorchs_and_is_plain_data():
    model = make_mlp()
    opt = nn.optim.Adam(
        [{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.5}], lr=0.1
    )
    train(model, opt, 0, 2)
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert sorted(sd["state"]) == [0, 1, 2, 3]  # parameters numbered in order across groups
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    params = list(model.parameters())
    for i, entry in sd["state"].items():
        assert entry["step"] == 2 and type(entry["step"]) is int
        np.testing.assert_array_equal(entry["exp_avg"], opt.state[params[i]]["exp_avg"])
        entry["exp_avg"] += 1.0  # a copy: the optimizer does not see this
    assert not np.array_equal(sd["state"][0]["exp_avg"], opt.state[params[0]]["exp_avg"])
    assert all(not isinstance(p, Tensor) for g in sd["param_groups"] for p in g["params"])


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_loaded_state_continues_bitwise_and_is_copied_in(kind):
    def build():
        model = make_mlp()
        groups = [{"params": model[0].parameters(), "lr": 0.02}, {"params": model[2].parameters()}]
        if kind == "sgd":
            return model, nn.optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True)
        return model, nn.optim.Adam(groups, lr=0.05, weight_decay=0.01)

    straight, opt = build()
    train(straight, opt, 0, 6)
    model, opt = build()
    train(model, opt, 0, 3)
    saved_model, saved_opt = copy.deepcopy((model.state_dict(), opt.state_dict()))
    resumed, opt2 = build()
    resumed.load_state_dict(saved_model)
    opt2.load_state_dict(saved_opt)
    for entry in saved_opt["state"].values():  # changing the dict afterwards changes nothing
        for value in entry.values():
            if isinstance(value, np.ndarray):
                value[...] = 123.0
    saved_opt["param_groups"][0]["lr"] = 99.0
    train(resumed, opt2, 3, 6)
    assert_same_bits(resumed.state_dict(), straight.state_dict())


def test_load_state_dict_takes_the_saved_hyperparameters_and_casts_to_float32():
    model = make_mlp(dtype=np.float32)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    train(model, opt, 0, 1)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.25
    sd["state"][0]["momentum_buffer"] = sd["state"][0]["momentum_buffer"].astype(np.float64)
    group = opt.param_groups[0]
    opt.load_state_dict(sd)
    assert opt.param_groups[0] is group and group["lr"] == 0.25
    assert opt.param_groups[0]["params"][0] is model[0].weight
    assert opt.state[model[0].weight]["momentum_buffer"].dtype == np.float32


def bad_state_dicts():
    model = make_mlp()
    opt = nn.optim.Adam(model.parameters())
    train(model, opt, 0, 1)
    good = opt.state_dict()
    sgd = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train(model, sgd, 0, 1)

    def edit(fn):
        sd = copy.deepcopy(good)
        fn(sd)
        return sd

    return opt, [
        (edit(lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0]))), "2 parameter"),
        (edit(lambda sd: sd["param_groups"][0]["params"].pop()), "3 parameters"),
        (edit(lambda sd: sd["state"][1].update(exp_avg=np.zeros((2, 2)))), r"state\[1\]"),
        (edit(lambda sd: sd["state"][2].pop("exp_avg_sq")), "exp_avg_sq"),
        (edit(lambda sd: sd["state"][0].update(step=-1)), "step"),
        (edit(lambda sd: sd["state"].update({7: {}})), "out of range"),
        (edit(lambda sd: sd["param_groups"][0].update(betas=(0.9, 2.0))), "betas"),
        (edit(lambda sd: sd["param_groups"][0].update(lr=-1.0)), "lr"),
        (sgd.state_dict(), "momentum_buffer"),
        ({"model": good}, "'state' and 'param_groups'"),
    ]


def test_bad_state_dicts_are_clear_errors_and_leave_the_optimizer_unchanged():
    opt, cases = bad_state_dicts()
    before = opt.state_dict()
    for sd, message in cases:
        with pytest.raises(ValueError, match=message):
            opt.load_state_dict(sd)
        after = opt.state_dict()
        assert after["param_groups"] == before["param_groups"]
        for i, entry in before["state"].items():
            for key, value in entry.items():
                np.testing.assert_array_equal(after["state"][i][key], value)


# ----- parameter groups ---------------------------------------------------------------------
def test_each_group_uses_its_own_hyperparameters():
    a, b = nn.Parameter([1.0, 2.0]), nn.Parameter([3.0])
    opt = nn.optim.SGD([{"params": [a], "lr": 0.5}, {"params": b, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    assert [g["momentum"] for g in opt.param_groups] == [0.0, 0.5]
    for _ in range(2):
        a.grad, b.grad = np.array([1.0, -1.0]), np.array([2.0])
        opt.step()
    np.testing.assert_array_equal(a.data, [1.0 - 2 * 0.5, 2.0 + 2 * 0.5])
    # b: buffer 2 then 0.5·2 + 2 = 3, so 3 − 0.1·2 − 0.1·3
    np.testing.assert_allclose(b.data, [3.0 - 0.2 - 0.3], rtol=0, atol=1e-15)
    assert set(opt.state) == {b}


def test_add_param_group_and_group_errors():
    a, b, c = nn.Parameter([1.0]), nn.Parameter([2.0]), nn.Parameter([3.0])
    opt = nn.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "betas": [0.5, 0.6]})
    assert opt.param_groups[1]["betas"] == (0.5, 0.6) and opt.param_groups[1]["lr"] == 0.1
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [c, a]})
    with pytest.raises(ValueError, match="more than one parameter group"):
        nn.optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="'lr'"):
        nn.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b]}])
    nn.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.2}])  # lr in every group
    with pytest.raises(TypeError, match="set"):
        nn.optim.SGD([{"params": {a}}], lr=0.1)
    with pytest.raises(TypeError, match="not a mix"):
        nn.optim.SGD([{"params": [a]}, b], lr=0.1)
    with pytest.raises(ValueError, match="params"):
        nn.optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="group 1: momentum"):
        nn.optim.SGD([{"params": [a]}, {"params": [b], "momentum": -1}], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        nn.optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="amsgrad"):
        nn.optim.Adam([a], amsgrad="no")
    assert len(opt.param_groups) == 2  # the failed add left the groups as they were


# ----- hyperparameters: by hand, and against torch.optim ---------------------------------------
def one_param_run(opt_factory, grads, start=(1.0, -2.0)):
    p = nn.Parameter(list(start))
    opt = opt_factory([p])
    for g in grads:
        p.grad = np.array(g, dtype=float)
        opt.step()
    return p.data


GRADS = [[1.0, 2.0], [-3.0, 0.5], [0.25, 4.0]]


def test_sgd_options_by_hand():
    p0, lr, wd, mu, damp = np.array([1.0, -2.0]), 0.1, 0.01, 0.9, 0.3
    expected, buf = p0.copy(), None
    for g in map(np.array, GRADS):
        d = g + wd * expected
        buf = d if buf is None else mu * buf + (1 - damp) * d
        expected = expected - lr * buf
    got = one_param_run(
        lambda ps: nn.optim.SGD(ps, lr=lr, momentum=mu, dampening=damp, weight_decay=wd), GRADS
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)
    expected, buf = p0.copy(), None
    for g in map(np.array, GRADS):
        buf = g if buf is None else mu * buf + g
        expected = expected - lr * (g + mu * buf)  # Nesterov: the look-ahead step
    got = one_param_run(lambda ps: nn.optim.SGD(ps, lr=lr, momentum=mu, nesterov=True), GRADS)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)


def test_maximize_is_descent_on_the_negated_gradient():
    negated = [[-x for x in g] for g in GRADS]
    for factory in (
        lambda kw: lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, **kw),
        lambda kw: lambda ps: nn.optim.Adam(ps, lr=0.1, **kw),
    ):
        up = one_param_run(factory({"maximize": True}), GRADS)
        np.testing.assert_array_equal(up, one_param_run(factory({}), negated))
        assert not np.array_equal(up, one_param_run(factory({}), GRADS))


def test_adam_amsgrad_by_hand():
    lr, (b1, b2), eps = 0.1, (0.9, 0.5), 1e-8  # a short memory, so that v falls below its max
    grads = [[3.0, 2.0], [0.1, 0.5], [0.1, 4.0]]
    p, m, v, vmax = np.array([1.0, -2.0]), 0.0, 0.0, 0.0
    for t, g in enumerate(map(np.array, grads), start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        p = p - lr / (1 - b1**t) * m / (np.sqrt(vmax / (1 - b2**t)) + eps)
    got = one_param_run(lambda ps: nn.optim.Adam(ps, lr=lr, betas=(b1, b2), amsgrad=True), grads)
    np.testing.assert_allclose(got, p, rtol=1e-13, atol=0)
    plain = one_param_run(lambda ps: nn.optim.Adam(ps, lr=lr, betas=(b1, b2)), grads)
    assert not np.allclose(plain, p, rtol=1e-6, atol=0)  # the max matters for these gradients


TORCH_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.02, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), TORCH_CASES)
def test_groups_and_options_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = make_mlp()
    theirs = torch_twin(ours)

    def groups(model):
        return [{"params": model[0].parameters(), "lr": 0.02}, {"params": model[2].parameters()}]

    opt = getattr(nn.optim, name)(groups(ours), **kwargs)
    train(ours, opt, 0, 5)
    topt = getattr(torch.optim, name)(groups(theirs), **kwargs)
    torch_train(theirs, topt, 0, 5)
    for key, value in ours.state_dict().items():
        expected = theirs.state_dict()[key].numpy()
        np.testing.assert_allclose(value, expected, rtol=0, atol=1e-10, err_msg=key)
    assert_optimizer_state_matches_torch(opt, topt)


@pytest.mark.parametrize(("name", "kwargs"), [("SGD", {"momentum": 0.9}), ("Adam", {})])
def test_state_dicts_cross_to_and_from_torch(name, kwargs):
    # The same layout: torch's optimizer state loads into ours and ours into torch's, and both
    # continue alike (torch's step is a 0-d tensor, ours an int; arrays cross as tensors).
    torch = pytest.importorskip("torch")
    ours = make_mlp()
    theirs = torch_twin(ours)
    opt = getattr(nn.optim, name)(ours.parameters(), lr=0.1, **kwargs)
    topt = getattr(torch.optim, name)(theirs.parameters(), lr=0.1, **kwargs)
    train(ours, opt, 0, 2)
    torch_train(theirs, topt, 0, 2)
    fresh, fresh_torch = crossed_state_dicts(name, ours, opt, theirs, topt)
    train(ours, fresh, 2, 4)
    torch_train(theirs, fresh_torch, 2, 4)
    for key, value in ours.state_dict().items():
        expected = theirs.state_dict()[key].numpy()
        np.testing.assert_allclose(value, expected, rtol=0, atol=1e-10, err_msg=key)


# ----- every update goes through the Tensor API: versions move, bits stay ---------------------
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_step_bumps_versions_and_keeps_float32_bits(kind):
    model = make_mlp(dtype=np.float32)
    arrays = [p.data for p in model.parameters()]
    versions = [p._version for p in model.parameters()]
    opt = (
        nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        if kind == "sgd"
        else nn.optim.Adam(model.parameters(), lr=0.1)
    )
    train(model, opt, 0, 1)
    x, y = batch(1, np.float32)
    opt.zero_grad()
    nn.MSELoss()(model(x), y).backward()
    before = [p.data.copy() for p in model.parameters()]
    grads = [p.grad for p in model.parameters()]
    states = [copy.deepcopy(opt.state[p]) for p in model.parameters()]
    opt.step()
    rows = zip(model.parameters(), arrays, versions, before, grads, states, strict=True)
    for p, a, v0, old, g, s in rows:
        assert p.data is a and p.dtype == np.float32 and p._version == v0 + 2
        assert all(x.dtype == np.float32 for x in s.values() if isinstance(x, np.ndarray))
        if kind == "sgd":  # the old in-place formula, p.data -= lr * (momentum·b + g), in float32
            buf = s["momentum_buffer"]
            buf *= 0.9
            buf += g
            old -= 0.1 * buf
        else:
            m, v, t = s["exp_avg"], s["exp_avg_sq"], s["step"] + 1
            m += (1 - 0.9) * (g - m)
            v *= 0.999
            v += (1 - 0.999) * (g * g)
            old -= 0.1 / (1 - 0.9**t) * (m / (np.sqrt(v) / math.sqrt(1 - 0.999**t) + 1e-8))
        assert old.dtype == np.float32 and old.tobytes() == p.data.tobytes()


def test_step_between_backward_passes_is_refused_not_wrong():
    model = make_mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    x, y = batch(0)
    out = model(x)
    loss1, loss2 = nn.MSELoss()(out, y), (out * out).sum()
    loss1.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="opt|step"):
        loss2.backward()


@pytest.mark.parametrize("change", ["init", "load_state_dict"])
def test_init_and_load_state_dict_bump_versions(change):
    model = make_mlp()
    weight = model[0].weight
    array, version = weight.data, weight._version
    out = model(batch(0)[0]).sum()
    if change == "init":
        assert nn.init.xavier_uniform_(weight, rng=np.random.default_rng(1)) is weight
        expected = nn.init.xavier_uniform_(Tensor(np.zeros((5, 3))), rng=np.random.default_rng(1))
    else:
        model.load_state_dict(make_mlp(seed=1).state_dict())
        expected = make_mlp(seed=1)[0].weight
    assert weight.data is array and weight._version == version + 1
    np.testing.assert_array_equal(weight.data, expected.data)
    with pytest.raises(RuntimeError, match="changed in place"):
        out.backward()
    with no_grad():
        weight.copy_(np.zeros((5, 3)))  # and the user's own update, the documented way, works
    assert weight._version == version + 2


# ----- a run stopped, saved with nn.save, resumed in a fresh process ---------------------------
RESUME_SCRIPT = """
import sys
import numpy as np
import nn

K, N = 4, 9

def build(kind):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 6, rng=rng), nn.Tanh(), nn.Linear(6, 2, rng=rng))
    groups = [{"params": model[0].parameters(), "lr": 0.03}, {"params": model[2].parameters()}]
    if kind == "sgd":
        return model, nn.optim.SGD(groups, lr=0.1, momentum=0.9)
    return model, nn.optim.Adam(groups, lr=0.01, betas=(0.8, 0.99))

def train(model, opt, start, stop):
    for step in range(start, stop):
        rng = np.random.default_rng(100 + step)
        x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
        opt.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        opt.step()

if __name__ == "__main__":
    mode, folder = sys.argv[1], sys.argv[2]
    final = {}
    for kind in ("sgd", "adam"):
        model, opt = build(kind)
        path = f"{folder}/{kind}.ckpt"
        if mode == "first":
            train(model, opt, 0, K)
            nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": K}, path)
        else:
            checkpoint = nn.load(path)
            model.load_state_dict(checkpoint["model"])
            opt.load_state_dict(checkpoint["optimizer"])
            train(model, opt, checkpoint["step"], N)
            final[kind] = model.state_dict()
    if mode == "second":
        nn.save(final, f"{folder}/final.ckpt")
"""


def test_a_run_resumed_in_a_fresh_process_ends_bitwise_equal(tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    for mode in ("first", "second"):
        subprocess.run(
            [sys.executable, str(script), mode, str(tmp_path)], cwd=REPO, check=True, timeout=60
        )
    checkpoint = nn.load(tmp_path / "adam.ckpt")
    assert checkpoint["step"] == 4 and checkpoint["optimizer"]["state"][0]["step"] == 4
    resumed = nn.load(tmp_path / "final.ckpt")
    helpers = runpy.run_path(str(script))  # the same code, uninterrupted, in this process
    for kind in ("sgd", "adam"):
        model, opt = helpers["build"](kind)
        helpers["train"](model, opt, 0, helpers["N"])
        assert_same_bits(resumed[kind], model.state_dict())
        assert not np.array_equal(
            resumed[kind]["0.weight"], helpers["build"](kind)[0][0].weight.data
        )
