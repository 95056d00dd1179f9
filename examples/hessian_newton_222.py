"""Second derivatives of the tutorials' 2-2-2 network: the Hessian of E_total in w5..w8, a
Hessian-vector product, and a Newton step.

``grad(E, w, create_graph=True)`` gives the gradient as a graph; the gradient of each of its
elements is a row of the Hessian. It is printed beside central differences of the gradient and
beside the formula worked out by hand: output neuron k sees w_k1, w_k2 only through
net_ok = w_k1·h1 + w_k2·h2 + b2, so its block is c_k·h·hᵀ with
c_k = d²E_k/dnet_ok² = o_k(1 − o_k)[o_k(1 − o_k) + (o_k − t_k)(1 − 2o_k)], and the Hessian has
rank 2. It is also indefinite: c_1 < 0, because out_o1 = 0.75 must fall to 0.01 across the part
of the sigmoid where the squared error curves downwards. Newton's step −H⁺g therefore heads for
the stationary point of the quadratic model, a maximum along o1, and E rises; the saddle-free
variant (|H| in place of H, Dauphin et al. 2014) descends. The script checks every figure and
exits non-zero on a mismatch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
from _shared import Checks
from worked_example_222 import B_HIDDEN, B_OUTPUT, TARGET, W_HIDDEN, W_OUTPUT, X, forward

import autograd_lite as ag
from autograd_lite import Tensor

NAMES = ["w5", "w6", "w7", "w8"]  # W_OUTPUT.ravel(): o1 = (w5, w6), o2 = (w7, w8)
V = np.array([1.0, -2.0, 0.5, 1.5])  # the vector of the Hessian-vector product


def error(w5_w8: Tensor) -> Tensor:
    """E_total as a function of the output weights (a flat Tensor of four), w1..w4 fixed."""
    return forward(Tensor(W_HIDDEN), w5_w8.reshape(2, 2))["E_total"]


def gradient(w5_w8: np.ndarray) -> np.ndarray:
    """∂E/∂(w5..w8): one reverse pass, no graph kept."""
    w = Tensor(w5_w8, requires_grad=True)
    (g,) = ag.grad(error(w), w)
    return g.data


def hessian(w5_w8: np.ndarray) -> np.ndarray:
    """Row i is the gradient of ∂E/∂w_i, through the graph that create_graph=True recorded."""
    w = Tensor(w5_w8, requires_grad=True)
    (g,) = ag.grad(error(w), w, create_graph=True)
    return np.array([ag.grad(g[i], w, retain_graph=True)[0].data for i in range(w.size)])


def hessian_vector_product(w5_w8: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H·v without forming H: the gradient of g·v, one more reverse pass (Pearlmutter 1994)."""
    w = Tensor(w5_w8, requires_grad=True)
    (g,) = ag.grad(error(w), w, create_graph=True)
    (hv,) = ag.grad((g * v).sum(), w)
    return hv.data


def central_differences(f: Callable[[np.ndarray], np.ndarray], w: np.ndarray, eps: float = 1e-6):
    """Column j: (f(w + eps·e_j) − f(w − eps·e_j)) / (2 eps)."""
    steps = np.eye(w.size) * eps
    return np.array([(f(w + s) - f(w - s)) / (2 * eps) for s in steps]).T


def by_hand() -> dict[str, np.ndarray]:
    """Hidden outputs h, outputs o, and the curvature c_k = d²E_k/dnet_ok² of each output."""
    h = 1 / (1 + np.exp(-(W_HIDDEN @ X + B_HIDDEN)))
    net_o = W_OUTPUT @ h + B_OUTPUT
    o = 1 / (1 + np.exp(-net_o))
    slope = (o - TARGET) * o * (1 - o)  # dE_k/dnet_ok
    c = o * (1 - o) * (o * (1 - o) + (o - TARGET) * (1 - 2 * o))
    return {
        "h": h,
        "net_o": net_o,
        "slope": slope,
        "c": c,
        "H": np.kron(np.diag(c), np.outer(h, h)),
    }


def newton_direction(h: np.ndarray, g: np.ndarray, saddle_free: bool = False) -> np.ndarray:
    """−H⁺g over the eigen-directions where H curves (the other two are flat: H has rank 2);
    with ``saddle_free``, |λ| in place of each eigenvalue λ, so that every step goes downhill."""
    eigenvalues, vectors = np.linalg.eigh(h)
    curved = np.abs(eigenvalues) > 1e-10 * np.abs(eigenvalues).max()
    scale = np.abs(eigenvalues[curved]) if saddle_free else eigenvalues[curved]
    return -vectors[:, curved] @ ((vectors[:, curved].T @ g) / scale)


def print_side_by_side(left: np.ndarray, right: np.ndarray, titles: tuple[str, str]) -> None:
    print(f"       {titles[0]:<55}{titles[1]}")
    for name, a, b in zip(NAMES, left, right, strict=True):
        row = "".join(f"{x:>13.9f}" for x in a), "".join(f"{x:>13.9f}" for x in b)
        print(f"  {name:<4}{row[0]}   {row[1]}")


def main() -> int:
    checks = Checks("2-2-2 Hessian and Newton step")
    w0 = W_OUTPUT.ravel()
    e0 = error(Tensor(w0)).item()
    g, h, hand = gradient(w0), hessian(w0), by_hand()
    numeric = central_differences(gradient, w0)
    print("Hessian of E_total with respect to w5..w8 (columns in the same order):")
    print_side_by_side(
        h, numeric, ("grad of grad (create_graph=True)", "central differences, eps 1e-6")
    )
    worst = np.abs(h - numeric).max()
    checks.true("H vs central", worst <= 1e-6, f"max |difference| = {worst:.2g} (<= 1e-6)")
    worst_hand = np.abs(h - hand["H"]).max()
    checks.true("H vs by hand", worst_hand <= 1e-15, f"max |H − c_k·h·hᵀ| = {worst_hand:.2g}")
    checks.true("symmetric", np.abs(h - h.T).max() <= 1e-15, "H = Hᵀ (each row its own pass)")
    c1, c2 = hand["c"]
    print(f"  curvatures d²E_k/dnet_ok²: c_1 = {c1:.9f} (concave), c_2 = {c2:.9f}")
    eigenvalues = np.linalg.eigvalsh(h)
    expected = np.sort(np.concatenate([hand["c"] * (hand["h"] @ hand["h"]), [0.0, 0.0]]))
    print(f"  eigenvalues {np.array2string(eigenvalues, precision=6)}: c_k·|h|² and two zeros")
    checks.close("eigenvalues", eigenvalues, expected, 1e-15, reference_name="by hand")

    print(f"Hessian-vector product, v = {V}:")
    hv = hessian_vector_product(w0, V)
    checks.close("H·v", hv, h @ V, 1e-15, reference_name="H @ v")
    along_v = (gradient(w0 + 1e-6 * V) - gradient(w0 - 1e-6 * V)) / 2e-6
    checks.close("H·v", hv, along_v, 1e-8, reference_name="central")

    print(f"One step on w5..w8 from E = {e0:.10f} (gradient {np.array2string(g, precision=6)}):")
    newton = newton_direction(h, g)
    e_newton = error(Tensor(w0 + newton)).item()
    # By hand: Newton on E_k(net_ok), moved along h: net_ok changes by −(dE_k/dnet)/(d²E_k/dnet²).
    net_after = hand["net_o"] - hand["slope"] / hand["c"]
    e_by_hand = 0.5 * np.sum((TARGET - 1 / (1 + np.exp(-net_after))) ** 2)
    checks.close("Newton: E after", e_newton, e_by_hand, 1e-12, reference_name="by hand")
    saddle_free = newton_direction(h, g, saddle_free=True)
    e_saddle_free = error(Tensor(w0 + saddle_free)).item()
    e_gradient_step = error(Tensor(w0 - 0.5 * g)).item()
    for label, e in [
        ("Newton, −H⁺g", e_newton),
        ("saddle-free, −|H|⁺g", e_saddle_free),
        ("gradient step, lr 0.5", e_gradient_step),
    ]:
        print(f"  {label:<24} E after = {e:.10f}  ({'up' if e > e0 else 'down'})")
    checks.true("Newton goes up", e_newton > e0, "H is indefinite: the plain step is not descent")
    checks.true(
        "saddle-free down",
        e_saddle_free < e_gradient_step < e0,
        f"{e_saddle_free:.6f} < {e_gradient_step:.6f} (one gradient step) < {e0:.6f}",
    )
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
