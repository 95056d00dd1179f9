"""A layer's affine map, x @ weight.T + bias, as one operation, written as a user would write a
``Function``: what ``nn.functional.linear`` (and so ``nn.Linear``) computes for a batch of rows.

One operation rather than a transpose, a product and a sum, because on a small network recording
and taking back operations costs more than the arithmetic: a layer is one node instead of three.
Forward and backward make the NumPy calls those three operations made, in the same order and with
the same layouts, so values and gradients are the same to the bit.
"""

from __future__ import annotations

from autograd_lite import Function
from autograd_lite.ops.linalg import product_in_layout_of


class Linear(Function):
    """Z = X Wᵀ + b.   ∂L/∂X = G W,   ∂L/∂W = Gᵀ X,   ∂L/∂b = Σ_rows G.

    X is a batch of rows (N, in), W the weight (out, in) as in PyTorch, b the bias (out,) or no
    third input at all. PyTorch names its node AddmmBackward (MmBackward without a bias).
    """

    def forward(self, x, w, b=None):
        self.save(x, w)
        z = x @ w.T
        return z if b is None else z + b

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        # Each gradient laid out like its input, as MatMul's backward lays it out; ∂L/∂W is
        # ∂L/∂Wᵀ = Xᵀ G transposed back, which is what Transpose's backward did after MatMul's.
        gx = product_in_layout_of(g, w, x) if need[0] else None
        gw = product_in_layout_of(x.T, g, w.T).transpose() if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (g.sum(axis=(0,)) if need[2] else None)  # unbroadcast's sum, to the bit
