"""A small MLP, its batches and a training loop, shared by the optimizer tests."""

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
