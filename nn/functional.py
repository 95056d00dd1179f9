"""Activations, layers' computations and losses as functions of Tensors, as in
``torch.nn.functional`` (same names, same arguments).

Every loss checks its arguments before computing anything: input and target shapes must match
exactly (nothing is broadcast silently), and an input or target holding NaN is a ``ValueError``
(a NaN loss would only make every gradient NaN; the cause is upstream, e.g. a learning rate that
is too large). A target that does not require grad is converted to the input's dtype, so a float32
model's loss stays float32 when given float64 or integer targets. The losses live in
``nn/_loss_functions.py``, whose docstring has the rest of the rules.

Losses take ``reduction="mean"`` (default), ``"sum"`` or ``"none"`` (the elementwise losses).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import Tensor, no_grad, where

from . import init
from ._linear import Linear as LinearOperation
from ._loss_functions import (
    REDUCTIONS,
    _tensor,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

__all__ = [
    "REDUCTIONS",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mish",
    "mse_loss",
    "nll_loss",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]


# ----- activations ----------------------------------------------------------------------------
def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^(-x)), elementwise; stable for large |x|."""
    return _tensor(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    """tanh(x), elementwise."""
    return _tensor(x, "tanh").tanh()


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise (gradient 0 at x = 0, as PyTorch)."""
    _no_inplace("relu", inplace)
    return _tensor(x, "relu").relu()


# The rest of the activation family: each is one operation of autograd_lite (a Tensor method,
# with its derivative in docs/operations.md); these add PyTorch's signatures. ``inplace=True`` is
# refused as for dropout.
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x >= 0, negative_slope · x below."""
    _no_inplace("leaky_relu", inplace)
    return _tensor(input, "leaky_relu").leaky_relu(negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x − 1) below."""
    _no_inplace("elu", inplace)
    return _tensor(input, "elu").elu(alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale · elu(x, alpha) with SELU's fixed constants (self-normalising networks)."""
    _no_inplace("selu", inplace)
    return _tensor(input, "selu").selu()


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^(x/alpha) − 1) below."""
    _no_inplace("celu", inplace)
    return _tensor(input, "celu").celu(alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x · Φ(x) (Φ the standard normal CDF), or its tanh approximation (``"tanh"``)."""
    return _tensor(input, "gelu").gelu(approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x · σ(x) (also called swish)."""
    _no_inplace("silu", inplace)
    return _tensor(input, "silu").silu()


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · tanh(softplus(x))."""
    _no_inplace("mish", inplace)
    return _tensor(input, "mish").mish()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""
    return _tensor(input, "softplus").softplus(beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return _tensor(input, "softsign").softsign()


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """x clipped to [min_val, max_val]."""
    _no_inplace("hardtanh", inplace)
    return _tensor(input, "hardtanh").hardtanh(min_val, max_val)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """x/6 + 1/2 clipped to [0, 1]."""
    _no_inplace("hardsigmoid", inplace)
    return _tensor(input, "hardsigmoid").hardsigmoid()


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · hardsigmoid(x)."""
    _no_inplace("hardswish", inplace)
    return _tensor(input, "hardswish").hardswish()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """x clipped to [0, 6]."""
    _no_inplace("relu6", inplace)
    return _tensor(input, "relu6").relu6()


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x), finite for large |x|."""
    return _tensor(input, "logsigmoid").logsigmoid()


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``dim``."""
    return _tensor(x, "softmax").softmax(axis=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - log(sum(e^x)) along ``dim``, computed stably (finite at |x| = 1000)."""
    return _tensor(x, "log_softmax").log_softmax(axis=dim)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with ``weight`` of shape (out, in) as in PyTorch."""
    x = _tensor(x, "linear")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: the input's last dimension must be in_features = {weight.shape[1]}; got an "
            f"input of shape {x.shape}"
        )
    if x.ndim == 2 and weight.ndim == 2:  # a batch of rows: one operation (nn/_linear.py)
        if bias is None:
            return LinearOperation.apply(x, weight)
        if getattr(bias, "shape", None) == (weight.shape[0],):
            return LinearOperation.apply(x, weight, bias)
    y = x @ weight.T  # a single row, stacks of batches, a bias that broadcasts otherwise
    return y if bias is None else y + bias


# ----- layers' computations -------------------------------------------------------------------
def dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1 - p) (inverted
    dropout: the expected value is unchanged, so evaluation needs no rescaling).

    Without ``training`` (a module in ``eval()``) the input comes back unchanged. The mask is
    drawn from ``rng`` (a ``np.random.Generator``), else from the generator that
    ``nn.manual_seed`` seeds, so runs repeat. The gradient is the same mask and scale.
    """
    p = _probability("dropout", p)
    _no_inplace("dropout", inplace)
    x = _tensor(input, "dropout")
    if not training or p == 0.0:
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: input must be floating point; got dtype {x.dtype}")
    if p == 1.0:
        return x * np.zeros((), x.dtype)  # all dropped; 1/(1 - p) would be inf
    rng = init._default_rng if rng is None else rng
    kept = rng.random(x.shape) >= p
    return x * (kept / (1.0 - p)).astype(x.dtype)


def layer_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) · weight + bias over the last ``len(normalized_shape)`` axes
    of each sample (biased variance, as PyTorch), so every sample is normalised on its own."""
    x = _tensor(input, "layer_norm")
    shape = _shape_tuple("layer_norm", normalized_shape)
    k = len(shape)
    if x.shape[x.ndim - k :] != shape or x.ndim < k:
        raise ValueError(
            f"layer_norm: the input's last {k} dimension(s) must be normalized_shape = {shape}; "
            f"got an input of shape {x.shape}"
        )
    axes = tuple(range(x.ndim - k, x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    var = (centred * centred).mean(axis=axes, keepdims=True)
    y = centred / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


def batch_norm(
    input: Tensor,
    running_mean: Tensor | np.ndarray | None,
    running_var: Tensor | np.ndarray | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1 of (N, C) or (N, C, L)) over the batch (and L).

    ``training``: with the batch's mean and biased variance (the gradient flows through both),
    and the running statistics, if given, move towards the batch's in place:
    r ← (1 − momentum) r + momentum · s, with the unbiased variance n/(n − 1)·var for
    ``running_var`` (PyTorch's rule). Otherwise with the running statistics, as constants.
    """
    x = _tensor(input, "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, L); got shape {x.shape}")
    c = x.shape[1]
    stats_shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        n = x.size // c
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training; got an input "
                f"of shape {x.shape}. Use a batch of at least 2, or call model.eval()"
            )
        axes = (0, *range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        y = centred / (var + eps).sqrt()
        _update_running(running_mean, mean.data.reshape(c), momentum)
        _update_running(running_var, var.data.reshape(c) * (n / (n - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: without training=True the running_mean and running_var are needed"
            )
        mean = np.asarray(_plain(running_mean), dtype=x.dtype).reshape(stats_shape)
        var = np.asarray(_plain(running_var), dtype=x.dtype).reshape(stats_shape)
        y = (x - mean) * (1 / np.sqrt(var + eps))
    if weight is not None:
        y = y * weight.reshape(stats_shape)
    return y if bias is None else y + bias.reshape(stats_shape)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by the integer indices ``input``: shape input.shape + (dim,).

    The gradient adds up into the picked rows (an index used twice gets both). The row
    ``padding_idx`` is looked up as usual but gets no gradient, so it stays as it is (zeros,
    from ``nn.Embedding``), as in PyTorch.
    """
    indices = np.asarray(input.data if isinstance(input, Tensor) else input)
    rows = weight.shape[0]
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be integers; got dtype {indices.dtype}. Convert with "
            f"indices.astype(int)"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        bad = indices[(indices < 0) | (indices >= rows)]
        raise IndexError(
            f"embedding: indices must be in [0, {rows}) for a table of {rows} rows; got "
            f"{bad[:5].tolist()}"
        )
    out = weight[indices]
    if padding_idx is not None:
        padded = indices == padding_idx
        if padded.any():
            out = where(padded[..., None], weight.data[indices], out)
    return out


def _update_running(running: Any, batch_value: np.ndarray, momentum: float) -> None:
    if running is None:
        return
    old = _plain(running)
    new = momentum * batch_value + (1 - momentum) * old
    if isinstance(running, Tensor):
        with no_grad():  # a buffer changes in place through the library: its version moves
            running.copy_(new)
    else:
        running[...] = new


def _plain(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _probability(name: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{name}: p must be a probability in [0, 1]; got {p!r}")
    return float(p)


def _no_inplace(name: str, inplace: Any) -> None:
    if inplace:
        raise ValueError(
            f"{name}: inplace=True is not supported: the engine refuses in-place changes of "
            f"values that a graph may need. Leave inplace=False (the result is a new Tensor)"
        )


def _shape_tuple(name: str, shape: Any) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not shape or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in shape):
        raise ValueError(f"{name}: normalized_shape must be an int or a tuple of ints; got {shape}")
    if any(s < 1 for s in shape):
        raise ValueError(f"{name}: normalized_shape must be positive sizes; got {shape}")
    return tuple(int(s) for s in shape)
