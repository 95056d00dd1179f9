"""autograd_lite: reverse-mode automatic differentiation on NumPy arrays.

>>> from autograd_lite import Tensor
>>> x = Tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([2., 4.])
"""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .function import Function, unbroadcast
from .functions import cat, clamp, clip, logaddexp, maximum, minimum
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .gradients import grad
from .tensor import Tensor, concatenate, stack, where
from .tracing import compile

__all__ = [
    "compile",
    "Function",
    "GradcheckError",
    "Tensor",
    "concatenate",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "stack",
    "unbroadcast",
    "where",
]
__all__ += ["cat", "clamp", "clip", "logaddexp", "maximum", "minimum"]  # PyTorch's/NumPy's names

try:  # the pictures and the verification report (their own modules, added beside the engine)
    from .explain import explain  # noqa: F401
    from .graph import draw_graph  # noqa: F401

    __all__ += ["draw_graph", "explain"]
except ImportError:  # pragma: no cover
    pass
try:
    from .verify import assert_gradients_close, verify_gradients  # noqa: F401

    __all__ += ["assert_gradients_close", "verify_gradients"]
except ImportError:  # pragma: no cover
    pass


def __getattr__(name: str) -> object:
    # `autograd_lite.nn` is the package `nn`, imported on first use: nn imports autograd_lite, so
    # importing it here at the top would be circular.
    if name == "nn":
        import nn

        return nn
    raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")
