"""nn: layers, losses, optimizers and state dicts on autograd_lite, with PyTorch's habits.

>>> import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
>>> opt = nn.optim.SGD(model.parameters(), lr=0.5)
"""

from . import functional, init, optim
from .export import from_torch, to_torch
from .init import manual_seed
from .layers import Linear, ReLU, Sigmoid, Tanh
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter, Sequential
from .serialization import load, save

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Linear",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "from_torch",
    "functional",
    "init",
    "load",
    "manual_seed",
    "optim",
    "save",
    "to_torch",
]
