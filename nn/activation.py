"""Activation modules: each applies its ``nn.functional`` function elementwise (``Softmax`` and
``LogSoftmax`` along one axis). They hold no parameters; their options are attributes under
PyTorch's names and show in ``repr`` as PyTorch shows them."""

from __future__ import annotations

from autograd_lite import Tensor

from . import functional as F
from .module import Module


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class _Activation(Module):
    """An elementwise activation with PyTorch's constructor: ``inplace=True`` is refused (the
    engine never overwrites a value a graph may need), so ``inplace`` is always False."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        F._no_inplace(type(self).__name__, inplace)
        self.inplace = False


class ReLU(_Activation):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class ReLU6(_Activation):
    """min(max(x, 0), 6), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu6(x)


class LeakyReLU(_Activation):
    """x for x >= 0, ``negative_slope`` · x below: a small gradient keeps negative units alive."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(_Activation):
    """x for x > 0, ``alpha`` (e^x − 1) below."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class CELU(_Activation):
    """x for x > 0, ``alpha`` (e^(x/alpha) − 1) below (continuously differentiable ELU)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(_Activation):
    """scale · ELU(x, alpha) with the constants of self-normalising networks."""

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(x)


class GELU(Module):
    """x · Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` uses the tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_Activation):
    """x · σ(x) (swish)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x)


class Mish(_Activation):
    """x · tanh(softplus(x))."""

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(x)


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, a smooth ReLU; linear where beta x > ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(x)


class Hardtanh(_Activation):
    """x clipped to [``min_val``, ``max_val``]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: need min_val < max_val; got {min_val} and {max_val}")
        self.min_val = min_val
        self.max_val = max_val

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Hardsigmoid(_Activation):
    """x/6 + 1/2 clipped to [0, 1]: a piecewise-linear sigmoid."""

    def forward(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(x)


class Hardswish(_Activation):
    """x · hardsigmoid(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(x)


class LogSigmoid(Module):
    """log σ(x), finite for large |x|."""

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class _AlongDim(Module):
    """Base of Softmax and LogSoftmax: the axis has no default, because PyTorch's implicit
    choice (axis 0 for 1-D and 3-D inputs, 1 otherwise) is deprecated and easy to get wrong."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is None:
            raise TypeError(
                f"{type(self).__name__} needs the axis to normalise over: "
                f"nn.{type(self).__name__}(dim=-1) for the last one (class scores of (N, C): "
                f"dim=1 or -1)"
            )
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"{type(self).__name__}: dim must be an int; got {dim!r}")
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """e^x / Σ e^x along ``dim``: each slice becomes a probability distribution."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, dim=self.dim)


class LogSoftmax(_AlongDim):
    """x - log Σ e^x along ``dim``, computed stably (pair it with ``nn.NLLLoss``)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, dim=self.dim)
