"""The operations beyond the core, as Tensor methods with PyTorch's names and signatures.

A mixin of ``Tensor`` (kept apart so that tensor.py stays readable in one sitting): one line per
method, handing over to an operation in ``ops``, whose docstring states its derivative (and
docs/operations.md lists it). ``arguments`` turns what users pass (``dim``/``axis``,
``keepdim``/``keepdims``, ``correction``/``ddof``, shapes) into the operation's form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import arguments
from .ops import activations_piecewise as kinked
from .ops import activations_smooth as smooth
from .ops import exp_log, piecewise, reductions_more, shape, shape_more, special

if TYPE_CHECKING:
    from .tensor import Tensor


class MoreOperations:
    """Methods ``Tensor`` inherits; ``self`` is always a Tensor."""

    __slots__ = ()

    def __mod__(self, other: Any) -> Tensor:
        return piecewise.Mod.apply(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return piecewise.Mod.apply(other, self)

    remainder = __mod__  # PyTorch's spelling (rounding_mode= is not taken)

    def var(
        self,
        dim: Any = None,
        *,
        correction: float | None = None,
        keepdim: bool = False,
        axis: Any = None,
        keepdims: bool = False,
        ddof: float | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "var")
        c = arguments.correction(correction, ddof, unbiased)
        return reductions_more.Var.apply(self, axis=axis, keepdims=keepdims, correction=c)

    def std(
        self,
        dim: Any = None,
        *,
        correction: float | None = None,
        keepdim: bool = False,
        axis: Any = None,
        keepdims: bool = False,
        ddof: float | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "std")
        c = arguments.correction(correction, ddof, unbiased)
        return reductions_more.Std.apply(self, axis=axis, keepdims=keepdims, correction=c)

    def prod(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool = False
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "prod")
        return reductions_more.Prod.apply(self, axis=axis, keepdims=keepdims)

    def min(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "min")
        return reductions_more.Min.apply(self, axis=axis, keepdims=keepdims)

    def logsumexp(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool = False
    ) -> Tensor:
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "logsumexp")
        return reductions_more.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def argmax(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool = False
    ) -> Tensor:
        """The index of the first maximum (flat for dim=None): an integer Tensor, no gradient."""
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "argmax")
        return type(self)(reductions_more.argmax(self.data, axis, keepdims))

    def argmin(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool = False
    ) -> Tensor:
        """The index of the first minimum (flat for dim=None): an integer Tensor, no gradient."""
        axis, keepdims = arguments.reduction(self.ndim, axis, keepdims, dim, keepdim, "argmin")
        return type(self)(reductions_more.argmin(self.data, axis, keepdims))

    def maximum(self, other: Any) -> Tensor:
        return piecewise.Maximum.apply(self, other)

    def minimum(self, other: Any) -> Tensor:
        return piecewise.Minimum.apply(self, other)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        return piecewise.Clip.apply(self, *arguments.clip_bounds(min, max))

    clamp = clip

    def sign(self) -> Tensor:
        return piecewise.Sign.apply(self)

    def logaddexp(self, other: Any) -> Tensor:
        return exp_log.LogAddExp.apply(self, other)

    def square(self) -> Tensor:
        return exp_log.Square.apply(self)

    def reciprocal(self) -> Tensor:
        return exp_log.Reciprocal.apply(self)

    def rsqrt(self) -> Tensor:
        return exp_log.Rsqrt.apply(self)

    def log1p(self) -> Tensor:
        return exp_log.Log1p.apply(self)

    def expm1(self) -> Tensor:
        return exp_log.Expm1.apply(self)

    def log2(self) -> Tensor:
        return exp_log.Log2.apply(self)

    def log10(self) -> Tensor:
        return exp_log.Log10.apply(self)

    def exp2(self) -> Tensor:
        return exp_log.Exp2.apply(self)

    def sin(self) -> Tensor:
        return special.Sin.apply(self)

    def cos(self) -> Tensor:
        return special.Cos.apply(self)

    def erf(self) -> Tensor:
        return special.Erf.apply(self)

    def squeeze(self, dim: Any = None) -> Tensor:
        return shape.Reshape.apply(self, shape=arguments.squeezed(self.shape, dim))

    def unsqueeze(self, dim: int) -> Tensor:
        return shape.Reshape.apply(self, shape=arguments.unsqueezed(self.shape, dim))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape.Reshape.apply(self, shape=arguments.flattened(self.shape, start_dim, end_dim))

    def expand(self, *sizes: Any) -> Tensor:
        """PyTorch's expand: -1 keeps an axis; only length-1 axes grow; new axes go in front."""
        return shape.BroadcastTo.apply(self, shape=arguments.expanded(self.shape, sizes))

    def repeat(self, *sizes: Any) -> Tensor:
        """PyTorch's repeat, which is NumPy's tile: one count per axis (more add leading axes)."""
        return shape_more.Tile.apply(self, reps=arguments.repeats(self.shape, sizes))

    def tile(self, *reps: Any) -> Tensor:
        """NumPy's and PyTorch's tile: fewer counts than axes repeat the last axes."""
        return shape_more.Tile.apply(self, reps=arguments.tiles(self.shape, reps))

    def flip(self, *dims: Any) -> Tensor:
        """The elements in reverse order along ``dims`` (every axis when none are given)."""
        return shape_more.Flip.apply(self, axes=arguments.flip_axes(self.ndim, dims))

    def gather(self, dim: int, index: Any) -> Tensor:
        """PyTorch's gather: out[i][j] = self[i][index[i][j]] for dim = 1."""
        return shape.GetItem.apply(self, index=arguments.gather_index(self.shape, dim, index))

    # Activations (also in nn.functional, with PyTorch's signatures)
    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return kinked.LeakyReLU.apply(self, negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        return kinked.ELU.apply(self, alpha=alpha)

    def selu(self) -> Tensor:
        return kinked.SELU.apply(self)

    def celu(self, alpha: float = 1.0) -> Tensor:
        return kinked.CELU.apply(self, alpha=alpha)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        return kinked.Hardtanh.apply(self, min_val=min_val, max_val=max_val)

    def relu6(self) -> Tensor:
        return kinked.ReLU6.apply(self)

    def hardsigmoid(self) -> Tensor:
        return kinked.Hardsigmoid.apply(self)

    def hardswish(self) -> Tensor:
        return kinked.Hardswish.apply(self)

    def gelu(self, approximate: str = "none") -> Tensor:
        return smooth.GELU.apply(self, approximate=approximate)

    def silu(self) -> Tensor:
        return smooth.SiLU.apply(self)

    def mish(self) -> Tensor:
        return smooth.Mish.apply(self)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        return smooth.Softplus.apply(self, beta=beta, threshold=threshold)

    def softsign(self) -> Tensor:
        return smooth.Softsign.apply(self)

    def logsigmoid(self) -> Tensor:
        return smooth.LogSigmoid.apply(self)
