"""The Huber and smooth L1 losses as one operation each, written as a user would write a
``Function``: what ``huber_loss`` and ``smooth_l1_loss`` compute from input and target.

One operation rather than a subtraction, two branches, a ``where`` and a mean, for two reasons: a
loss is one node instead of eight to record and take back, and the mask |d| < δ is computed inside
forward from each call's values, so ``autograd_lite.compile`` replays a step that calls it (a mask
computed from ``.data`` outside operations makes such a step run eagerly).

Forward makes the NumPy calls that composition made, on the same operands (without its overflow
warning from the square of a |d| that takes the linear piece), and backward sums the three ways d
reached the loss in the order backward visited them there, so values and gradients are the same
to the bit: signs of zero, and the NaN gradient of an infinite d, included.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import Function
from autograd_lite.array_namespace import array_namespace

from ._reduction import reduce_losses, spread


class Huber(Function):
    """z = ½d² where |d| < δ, else δ(|d| − ½δ), for d = x − y; then the mean, the sum or none.
    ∂z/∂x = d where |d| < δ, else δ·sign d (at |d| = δ too);   ∂z/∂y = −∂z/∂x.

    The mean also divides each gradient by the number of elements n. PyTorch names its node
    HuberLossBackward.
    """

    def forward(self, x, y, delta, reduction):
        d, abs_d, half_d, small = _difference(x, y, delta)
        c = d.dtype
        linear = _number(delta, c) * (abs_d - _number(0.5 * delta, c))
        losses = np.where(small, _square(half_d, d), linear)
        self.save(d, half_d, small, _number(delta, c), reduction, losses.size)
        return reduce_losses(losses, reduction)

    def backward(self, g):
        d, half_d, small, delta, reduction, size = self.saved
        g = spread(g, reduction, size)
        xp = array_namespace(g)
        return _through_d(self, d, half_d, xp.where(small, g, 0), xp.where(small, 0, g) * delta)


class SmoothL1(Function):
    """z = ½d²/β where |d| < β, else |d| − ½β, for d = x − y and β > 0; then the mean, the sum
    or none.   ∂z/∂x = d/β where |d| < β, else sign d (at |d| = β too);   ∂z/∂y = −∂z/∂x.

    The mean also divides each gradient by the number of elements n. It is the Huber loss with
    δ = β, divided by β (computed as written here, which rounds differently). PyTorch names its
    node SmoothL1LossBackward.
    """

    def forward(self, x, y, beta, reduction):
        d, abs_d, half_d, small = _difference(x, y, beta)
        c = d.dtype
        quadratic = _square(half_d, d) / _number(beta, c)
        losses = np.where(small, quadratic, abs_d - _number(0.5 * beta, c))
        self.save(d, half_d, small, _number(beta, c), reduction, losses.size)
        return reduce_losses(losses, reduction)

    def backward(self, g):
        d, half_d, small, beta, reduction, size = self.saved
        g = spread(g, reduction, size)
        xp = array_namespace(g)
        return _through_d(self, d, half_d, xp.where(small, g, 0) / beta, xp.where(small, 0, g))


def _difference(x: np.ndarray, y: np.ndarray, width: float) -> tuple:
    d = x - y
    abs_d = np.abs(d)
    return d, abs_d, 0.5 * d, abs_d < width


def _square(half_d: np.ndarray, d: np.ndarray) -> np.ndarray:
    """½d·d, used only where |d| < the width: where it overflows (float16 beyond |d| = 362) the
    loss takes the linear piece, so that overflow is no error, neither a warning nor a report of
    detect_anomaly."""
    with np.errstate(over="ignore"):
        return half_d * d


def _number(value: float, dtype: Any) -> np.ndarray:
    """A Python number as the composition's constant operand of ``dtype`` (rounded to it)."""
    return np.asarray(value, dtype=dtype)


def _through_d(fn: Function, d: Any, half_d: Any, quadratic: Any, linear: Any) -> tuple:
    """∂L/∂x and ∂L/∂y from the gradients of the quadratic piece (½d·d) and of the linear one
    (through |d|), summed into d as the composition's backward summed them: through |d|, then
    through each factor of ½d·d. Those two halves, g·½d + (g·d)·½, are g·d except where it is a
    denormal (each half rounds on its own) and in the sign of a zero: kept, for the same bits."""
    xp = array_namespace(quadratic)
    if not isinstance(quadratic, np.ndarray):  # grad(create_graph=True): d as a function of x, y
        # taken from the inputs, not saved: the composition saved neither, so changing one in
        # place between forward and backward stays allowed
        x, y = fn.inputs
        d = x - y
        half_d = 0.5 * d
    gd = (linear * xp.sign(d) + quadratic * half_d) + (quadratic * d) * 0.5
    return gd, (-gd if fn.needs_input_grad[1] else None)
