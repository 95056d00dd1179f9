"""A small MLP, its batches and a training loop, shared by the optimizer tests; its PyTorch twin
and the crossing of optimizer state dicts between the two (PyTorch imported only there)."""

import numpy as np

import nn


def make_mlp(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(3, 5, rng=rng, dtype=dtype), nn.Tanh(), nn.Linear(5, 2, rng=rng, dtype=dtype)
    )


def batch(step, dtype=np.float64):
    rng = np.random.default_rng(100 + step)
    return rng.normal(size=(8, 3)).astype(dtype), rng.normal(size=(8, 2)).astype(dtype)


def train(model, opt, start, stop):
    for step in range(start, stop):
        x, y = batch(step, model[0].weight.dtype)
        opt.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        opt.step()


def torch_twin(model):
    """The same network in PyTorch, with the same weights."""
    import torch

    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    theirs = theirs.double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return theirs


def torch_train(theirs, opt, start, stop):
    import torch

    for step in range(start, stop):
        x, y = (torch.from_numpy(a) for a in batch(step))
        opt.zero_grad()
        torch.nn.functional.mse_loss(theirs(x), y).backward()
        opt.step()


def crossed_state_dicts(name, ours, opt, theirs, topt):
    """Fresh optimizers ``name`` (lr 0.5) of both libraries, ours loaded with torch's state dict
    and torch's with ours (torch's step is a 0-d tensor, ours an int; arrays cross as tensors)."""
    import torch

    fresh = getattr(nn.optim, name)(ours.parameters(), lr=0.5)
    fresh.load_state_dict(topt.state_dict())  # torch's into ours
    sd = opt.state_dict()
    for entry in sd["state"].values():
        entry.update({k: torch.from_numpy(v) for k, v in entry.items() if k != "step"})
    fresh_torch = getattr(torch.optim, name)(theirs.parameters(), lr=0.5)
    fresh_torch.load_state_dict(sd)  # ours into torch's
    return fresh, fresh_torch


def assert_optimizer_state_matches_torch(opt, topt):
    """Our optimizer's state dict holds PyTorch's entries and numbers, and the same groups."""
    ours_sd, theirs_sd = opt.state_dict(), topt.state_dict()
    assert sorted(ours_sd["state"]) == sorted(theirs_sd["state"])
    for i, entry in theirs_sd["state"].items():
        assert set(ours_sd["state"][i]) == set(entry)
        for key, value in entry.items():
            np.testing.assert_allclose(ours_sd["state"][i][key], value.numpy(), atol=1e-10)
    pairs = zip(ours_sd["param_groups"], theirs_sd["param_groups"], strict=True)
    for ours_group, their_group in pairs:
        for key, value in ours_group.items():
            assert their_group[key] == value, key
