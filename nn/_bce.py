"""Binary cross-entropy of probabilities as one operation, written as a user would write a
``Function``: what ``binary_cross_entropy`` (and so ``nn.BCELoss``) computes.

One operation rather than two clamped logs, products, a sum, a negation, a weight and a mean, for
two reasons: a loss is one node instead of thirteen or more to record and take back, and all that
depends on the values (the check that p and y are probabilities, which logs are clamped, where a
slope is held) happens inside forward, so ``autograd_lite.compile`` replays a step that calls it,
with each call's data, checked.

Forward makes the NumPy calls of that composition on the same operands; backward makes its
backward's, summing and casting each gradient where and in the order its nodes did. Values and
gradients are the same to the bit, clamped logs, held slopes and signs of zero included.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from autograd_lite import Function
from autograd_lite.array_namespace import array_namespace

from ._reduction import reduce_losses, spread


class BinaryCrossEntropy(Function):
    """z = −w (y·clog p + (1 − y)·clog(1 − p)) with clog x = max(log x, −100); then the mean, the
    sum or none.   ∂z/∂p = w (−y·clog′(p) + (1 − y)·clog′(1 − p));
    ∂z/∂y = −w (clog p − clog(1 − p));   ∂z/∂w = −(y·clog p + (1 − y)·clog(1 − p)).

    clog′(x) is 1/x where that is finite (so ∂z/∂p = w (−y/p + (1 − y)/(1 − p)) where no log is
    clamped), 0 where the log is clamped (x ≤ e⁻¹⁰⁰, 0 included), and 1/tiny, the largest finite
    slope, in between (float32 x below 2.9e-39, float16 below 1.5e-5: see
    ``binary_cross_entropy``). The weight w (optional, 1 without) broadcasts to p's shape; the
    mean also divides each gradient by n. PyTorch names its node BinaryCrossEntropyBackward.
    """

    own_messages = True  # the checks in forward name the loss and what to do

    def forward(self, p, y, w=None, *, name, reduction):
        problem = probability_problem(name, p, y)
        if problem is not None:  # here, so that a compiled replay checks each call's data too
            raise ValueError(problem)
        tiny = smallest_invertible(p.dtype)
        log_p, log_q = ClampedLog(p, tiny, copy=True), ClampedLog(1 - p, tiny)
        not_y = 1 - y
        unweighted = -(y * log_p.value + not_y * log_q.value)
        losses = unweighted if w is None else unweighted * w
        kept = None if w is None else unweighted  # ∂z/∂w
        self.save(y, w, not_y, log_p, log_q, kept, tiny, reduction, losses.size)
        return reduce_losses(losses, reduction)

    def backward(self, g):
        y, w, not_y, log_p, log_q, unweighted, tiny, reduction, size = self.saved
        xp = array_namespace(g)
        need = self.needs_input_grad
        g = spread(g, reduction, size)
        p_in, q_in, cp, cq = log_p.inside, log_q.inside, log_p.value, log_q.value
        if not isinstance(y, np.ndarray):  # grad(create_graph=True): all as functions of p, y
            p = self.inputs[0]  # (p itself is not saved: the composition did not save it either)
            p_in, cp = log_p.recorded(p, tiny)
            q_in, cq = log_q.recorded(1 - p, tiny)
            not_y = 1 - y
            if w is not None:
                unweighted = -(y * cp + not_y * cq)
        # The composition's nodes, newest first: its Mul by w, Neg, Add; then (1 − y)·clog(1 − p)
        # and 1 − p, 1 − y; then y·clog p and clog p. Each gradient is cast to its node's dtype.
        gw = g * unweighted if w is not None and need[2] else None
        gt = -(g if w is None else _as(g * w, unweighted.dtype, xp))
        gp = gy = None
        if need[0]:
            gp = -log_q.backward(_as(gt * not_y, cq.dtype, xp), q_in, tiny)
        if need[1]:
            gy = -_as(gt * cq, not_y.dtype, xp) + _as(gt * cp, y.dtype, xp)
        if need[0]:
            gp = log_p.backward(_as(gt * y, cp.dtype, xp), p_in, tiny, gp)
        return (gp, gy) if w is None else (gp, gy, gw)


class ClampedLog:
    """max(log x, −100), and the gradient the composition's clamped log had: g/x where 1/x is
    finite, 0 where the log is clamped, g/tiny (the largest finite slope) in the band between,
    which only dtypes narrower than float64 have."""

    __slots__ = ("exact", "inside", "value", "saturated", "held")

    def __init__(self, x: np.ndarray, tiny: np.ndarray, copy: bool = False) -> None:
        with np.errstate(divide="ignore"):
            log_x = np.log(x)
        self.saturated = self.held = None
        if (
            x.size
            and x.flags.c_contiguous
            and np.minimum.reduce(log_x, axis=None) > -100
            and np.minimum.reduce(x, axis=None) >= tiny
        ):  # the usual batch, told with two minima: every log exact, exact = None stands for all
            # The composition's where(exact, x, 1) is then x, and its log the same contiguous
            # loop's log_x. A copy of an input (``copy``): the composition kept none of its own.
            self.exact, self.inside, self.value = None, x.copy() if copy else x, log_x
            return
        # NaN (only explain's NaN trace and a replay pass one: eager calls refuse it) is neither
        # clamped nor held, so that it shows in the loss, as it did through the composition
        clamped, small = log_x <= -100, x < tiny
        self.exact = ~(clamped | small)
        self.inside = np.where(self.exact, x, 1.0)  # keeps 0 (0/0 in backward) and tiny x out
        self.value = np.where(self.exact, np.log(self.inside), -100.0)  # this log's own bits
        saturated = small & ~clamped
        if saturated.any():  # the composition's (x − x)/tiny + log x there: x − x is +0
            self.saturated, self.held = saturated, np.where(saturated, log_x, 0.0)
            self.value = np.where(saturated, log_x, self.value)

    def backward(self, g: Any, inside: Any, tiny: np.ndarray, into: Any = None) -> Any:
        """``into`` + the gradient reaching x: the held slope's share first (its nodes were the
        newer), as the composition's backward added them."""
        xp = array_namespace(g)
        if self.saturated is not None:
            held = xp.where(self.saturated, g, 0) / tiny
            into = held if into is None else into + held
            g = xp.where(self.saturated, 0, g)
        through_log = (g if self.exact is None else xp.where(self.exact, g, 0)) / inside
        return through_log if into is None else into + through_log

    def recorded(self, x: Any, tiny: np.ndarray) -> tuple[Any, Any]:
        """The log's argument and value as Tensors of x, for a backward that is recorded."""
        if self.exact is None:
            return x, array_namespace(x).log(x)
        xp = array_namespace(x)
        inside = xp.where(self.exact, x, 1.0)
        value = xp.where(self.exact, xp.log(inside), -100.0)
        if self.saturated is not None:  # value log x, slope 1/tiny
            value = xp.where(self.saturated, (x - x.data) / tiny + self.held, value)
        return inside, value


def probability_problem(name: str, p: np.ndarray, y: np.ndarray) -> str | None:
    """Why p (the input) or y (the target) does not hold probabilities in [0, 1], or None."""
    if p.size and (np.minimum.reduce(p, axis=None) < 0 or np.maximum.reduce(p, axis=None) > 1):
        return (
            f"{name}: input must hold probabilities in [0, 1]; got values from {p.min()} to "
            f"{p.max()}. Apply sigmoid first, or use binary_cross_entropy_with_logits on the raw "
            f"scores"
        )
    # fmin and fmax skip NaN, as elementwise comparisons do (NaN is refused before, eagerly)
    if y.size and (np.fmin.reduce(y, axis=None) < 0 or np.fmax.reduce(y, axis=None) > 1):
        outside = (y < 0) | (y > 1)
        first = tuple(int(i) for i in np.argwhere(outside)[0])
        return (
            f"{name}: target must hold probabilities in [0, 1]; got "
            f"{y[outside][:5].tolist()} (first at index {first}). Use 0/1 labels or soft labels "
            f"between them"
        )
    return None


@functools.cache
def smallest_invertible(dtype: np.dtype) -> np.ndarray:
    """The smallest positive number of ``dtype`` whose reciprocal is finite (float32: 2.9e-39)."""
    one, tiny = np.ones((), dtype), np.asarray(1 / np.finfo(dtype).max, dtype)
    with np.errstate(over="ignore", divide="ignore"):
        while not np.isfinite(one / tiny):  # 1/max rounds to a denormal one step too small
            tiny = np.nextafter(tiny, one)
    return np.asarray(tiny, dtype)


def _as(a: Any, dtype: np.dtype, xp: Any) -> Any:
    """``a`` cast to ``dtype``, as the engine casts a gradient to the dtype of its node's input."""
    return a if a.dtype == dtype else xp.astype(a, dtype)
