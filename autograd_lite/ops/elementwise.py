"""Element-wise operations. ``g`` is the gradient of the final scalar with respect to the output.

Each backward is written once for arrays and Tensors (see ``array_namespace``): with operators,
and ``xp`` for the rest, so that it can be differentiated again.
"""

from __future__ import annotations

import numpy as np

from ..array_namespace import array_namespace, stable_sigmoid
from ..function import Function


def as_floating(x: np.ndarray) -> np.ndarray:
    """``x`` itself if it is floating, else ``x`` as float64, the library's default floating dtype.

    A float-valued function of integers or bools is computed in float64, as PyTorch computes it in
    its default dtype: NumPy would pick float16 for (u)int8 and bool, float32 for (u)int16 (three
    and seven digits), and steps such as −|x| wrap around for unsigned integers. Callers test
    ``x.dtype.kind != "f"`` first, so that a float input costs no call (every operation runs it).
    """
    return x if x.dtype.kind == "f" else x.astype(np.float64)


class Add(Function):
    """z = x + y.   ∂z/∂x = 1,   ∂z/∂y = 1."""

    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g, g


class Sub(Function):
    """z = x − y.   ∂z/∂x = 1,   ∂z/∂y = −1."""

    def forward(self, x, y):
        return x - y

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    """z = x · y.   ∂z/∂x = y,   ∂z/∂y = x."""

    def forward(self, x, y):
        self.save(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved
        need_x, need_y = self.needs_input_grad  # a constant operand needs no gradient
        return (g * y if need_x else None), (g * x if need_y else None)


class Div(Function):
    """z = x / y.   ∂z/∂x = 1/y,   ∂z/∂y = −x/y²."""

    def forward(self, x, y):
        self.save(x, y)
        return x / y

    def backward(self, g):
        x, y = self.saved
        gx = g / y
        return gx, (-gx * x / y if self.needs_input_grad[1] else None)


class Neg(Function):
    """z = −x.   ∂z/∂x = −1."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class PowScalar(Function):
    """z = xᵖ for a constant number p.   ∂z/∂x = p·xᵖ⁻¹ (0 when p = 0)."""

    def forward(self, x, exponent):
        self.save(x, exponent)
        return x**exponent

    def backward(self, g):
        x, p = self.saved
        if p == 2:  # the squared error's case, without the cost of a general power; 2.0, not
            return (g * 2.0 * x,)  # 2, as NumPy casts a Python float faster than an int
        if p == 0:  # x⁰ is constant; p·x⁻¹ would give 0·∞ = NaN at x = 0 (PyTorch gives 0)
            return (array_namespace(g).zeros_like(x),)
        return (g * p * x ** (p - 1),)


class Pow(Function):
    """z = xʸ, y a tensor.   ∂z/∂x = y·xʸ⁻¹ (0 at x = y = 0),   ∂z/∂y = xʸ·ln x (0 where x = 0)."""

    def forward(self, x, y):
        z = x**y
        self.save(x, y, z)
        return z

    def backward(self, g):
        x, y, z = self.saved
        xp = array_namespace(g)
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:  # 0 at x = y = 0, as PyTorch, not 0·0⁻¹ = NaN; elsewhere
                # the formula itself, so that its derivative in y survives at y = 0
                gx = g * xp.where((y == 0) & (x == 0), 0.0, y * x ** (y - 1))
            if self.needs_input_grad[1]:
                gy = g * xp.where(x == 0, 0.0, z * xp.log(xp.where(x == 0, 1.0, x)))
        return gx, gy


class Exp(Function):
    """z = eˣ.   ∂z/∂x = eˣ = z."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        z = np.exp(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (g * z,)


class Log(Function):
    """z = ln x.   ∂z/∂x = 1/x."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        self.save(x)
        return np.log(x)

    def backward(self, g):
        (x,) = self.saved
        return (g / x,)


class Sqrt(Function):
    """z = √x.   ∂z/∂x = 1/(2√x) = 1/(2z)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        z = np.sqrt(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (g / (2 * z),)


class Abs(Function):
    """z = |x|.   ∂z/∂x = sign(x), taken as 0 at x = 0 (as PyTorch does)."""

    def forward(self, x):
        self.save(x)
        return np.abs(x)

    def backward(self, g):
        (x,) = self.saved
        return (g * array_namespace(g).sign(x),)


class Tanh(Function):
    """z = tanh x.   ∂z/∂x = 1 − tanh²x = 1 − z²."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        z = np.tanh(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (g * (1 - z * z),)


class Sigmoid(Function):
    """z = σ(x) = 1/(1 + e⁻ˣ).   ∂z/∂x = σ(x)(1 − σ(x)) = z(1 − z)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        z = stable_sigmoid(x)  # without overflow at large |x|
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return (g * z * (1.0 - z),)  # 1.0, not 1: NumPy casts a Python float faster than an int


class ReLU(Function):
    """z = max(0, x).   ∂z/∂x = 1 where x > 0, else 0 (0 at x = 0, as PyTorch does)."""

    def forward(self, x):
        z = np.maximum(x, 0)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        # The mask in g's dtype: a product of one dtype costs less than one that casts bools.
        return (g * (z > 0.0).astype(g.dtype),)


class Cast(Function):
    """z = x as another dtype.   ∂z/∂x = 1: the gradient goes back in x's dtype."""

    def forward(self, x, dtype):
        self.save(x.dtype)
        return x.astype(dtype)

    def backward(self, g):
        (dtype,) = self.saved
        return (array_namespace(g).astype(g, dtype),)
