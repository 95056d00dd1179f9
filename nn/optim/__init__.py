"""Optimizers with ``torch.optim``'s update rules, parameter groups and state dicts.

``step()`` updates each parameter in place through the Tensor API under ``no_grad()`` (the
Parameter objects and their arrays stay the same; each update bumps the tensor's version, so a
backward through a graph that saved the old values raises instead of giving a wrong gradient) and
skips parameters whose ``.grad`` is None; ``zero_grad()`` sets every ``.grad`` to None.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer, required
from .rmsprop import Adagrad, RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler", "required"]
