"""explain() on tutorial 001's 2-2-2 network: the tutorial's factors, branches and results.

The figures the tutorial prints for the chain rule (issue 10 quotes them) are checked to half a unit
of their last printed digit, and each one is also derived here in closed form (NumPy, float64,
from the network's definition), so a figure is never taken from the code under test. ∂E/∂w5 and
∂E/∂w1 also follow from the tutorial's updated weights: w_new = w − 0.5·∂E/∂w.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import Tensor, explain

X1, X2, T1, T2 = 0.05, 0.10, 0.01, 0.99
W = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55)
B1, B2 = 0.35, 0.60


def close_to_figure(value: float, figure: str) -> bool:
    """``value`` agrees with a figure printed with as many decimals as ``figure`` shows."""
    decimals = len(figure.split(".")[1])
    return abs(value - float(figure)) <= 0.5 * 10.0**-decimals


# ----- the closed forms (sigmoid network, E = Σ ½(t − out)²) ----------------------------------
def sig(z):
    return 1 / (1 + np.exp(-z))


OUT_H1 = sig(W["w1"] * X1 + W["w2"] * X2 + B1)
OUT_H2 = sig(W["w3"] * X1 + W["w4"] * X2 + B1)
OUT_O1 = sig(W["w5"] * OUT_H1 + W["w6"] * OUT_H2 + B2)
OUT_O2 = sig(W["w7"] * OUT_H1 + W["w8"] * OUT_H2 + B2)
DELTA_O1 = (OUT_O1 - T1) * OUT_O1 * (1 - OUT_O1)
DELTA_O2 = (OUT_O2 - T2) * OUT_O2 * (1 - OUT_O2)
DE_DOUT_H1 = DELTA_O1 * W["w5"] + DELTA_O2 * W["w7"]
DE_DOUT_H2 = DELTA_O1 * W["w6"] + DELTA_O2 * W["w8"]
DELTA_H1 = DE_DOUT_H1 * OUT_H1 * (1 - OUT_H1)
DELTA_H2 = DE_DOUT_H2 * OUT_H2 * (1 - OUT_H2)


def scalar_network():
    """Every weight a 0-d Tensor, the intermediates named as the tutorial names them."""
    p = {k: Tensor(v, requires_grad=True, name=k) for k, v in W.items()}
    p["b1"], p["b2"] = Tensor(B1, requires_grad=True, name="b1"), Tensor(B2, name="b2")

    def named(t, name):
        t.name = name
        return t

    v = dict(p)
    v["net_h1"] = named(p["w1"] * X1 + p["w2"] * X2 + p["b1"], "net_h1")
    v["out_h1"] = named(v["net_h1"].sigmoid(), "out_h1")
    v["net_h2"] = named(p["w3"] * X1 + p["w4"] * X2 + p["b1"], "net_h2")
    v["out_h2"] = named(v["net_h2"].sigmoid(), "out_h2")
    v["net_o1"] = named(p["w5"] * v["out_h1"] + p["w6"] * v["out_h2"] + p["b2"], "net_o1")
    v["out_o1"] = named(v["net_o1"].sigmoid(), "out_o1")
    v["net_o2"] = named(p["w7"] * v["out_h1"] + p["w8"] * v["out_h2"] + p["b2"], "net_o2")
    v["out_o2"] = named(v["net_o2"].sigmoid(), "out_o2")
    v["E_o1"] = named(0.5 * (T1 - v["out_o1"]) ** 2, "E_o1")
    v["E_o2"] = named(0.5 * (T2 - v["out_o2"]) ** 2, "E_o2")
    v["E_total"] = named(v["E_o1"] + v["E_o2"], "E_total")
    return v


def matrix_network():
    """The same network with matrices (W2 @ out_h); ``index`` picks an element."""
    v = {
        "W1": Tensor([[W["w1"], W["w2"]], [W["w3"], W["w4"]]], requires_grad=True, name="W1"),
        "W2": Tensor([[W["w5"], W["w6"]], [W["w7"], W["w8"]]], requires_grad=True, name="W2"),
        "b_h": Tensor([B1, B1], requires_grad=True, name="b_h"),
    }
    x, target = Tensor([X1, X2], name="x"), Tensor([T1, T2], name="target")
    steps = [
        ("net_h", lambda: v["W1"] @ x + v["b_h"]),
        ("out_h", lambda: v["net_h"].sigmoid()),
        ("net_o", lambda: v["W2"] @ v["out_h"] + B2),
        ("out_o", lambda: v["net_o"].sigmoid()),
        ("E_total", lambda: (0.5 * (target - v["out_o"]) ** 2).sum()),
    ]
    for name, make in steps:
        v[name] = make()
        v[name].name = name
    return v


# ----- w5: one path -----------------------------------------------------------------------------
def test_w5_scalar_form_has_the_tutorials_factors():
    v = scalar_network()
    e = explain(v["E_total"], v["w5"])
    assert [link.symbol for link in e.links] == [
        "∂E_total/∂E_o1",
        "∂E_o1/∂out_o1",
        "∂out_o1/∂net_o1",
        "∂net_o1/∂w5",
    ]
    ones, d_out, d_sig, d_net = (link.value for link in e.links)
    assert ones == 1.0
    # the tutorial: ∂E/∂w5 = 0.74136507 × 0.186815602 × 0.593269992 = 0.082167041
    for value, figure, exact in [
        (d_out, "0.74136507", OUT_O1 - T1),
        (d_sig, "0.186815602", OUT_O1 * (1 - OUT_O1)),
        (d_net, "0.593269992", OUT_H1),
        (e.value, "0.082167041", DELTA_O1 * OUT_H1),
    ]:
        assert close_to_figure(value, figure)
        assert value == pytest.approx(exact, rel=1e-12)
    assert e.value == pytest.approx((0.40 - 0.35891648) / 0.5, abs=1e-8)  # the updated w5
    assert e.branches == []
    text = str(e)
    assert text.splitlines()[0] == "∂E_total/∂w5 = 0.082167041"
    assert "= 1 × 0.74136507 × 0.186815602 × 0.593269992" in text


def test_w5_formulas_come_from_the_operations_docstrings():
    v = scalar_network()
    e = explain(v["E_total"], v["w5"])
    formulas = {link.symbol: link.formula for link in e.links}
    assert formulas["∂out_o1/∂net_o1"] == "out_o1(1 − out_o1)"  # Sigmoid: z(1 − z)
    assert formulas["∂net_o1/∂w5"] == "out_h1"  # Add (1) after Mul (∂z/∂x = y)
    # ½·(t − out)²: Mul by the constant 0.5, PowScalar p·xᵖ⁻¹ with p = 2, Sub's −1
    assert formulas["∂E_o1/∂out_o1"] == "0.5 · 2·(0.01 − out_o1) · (−1)"
    assert formulas["∂E_total/∂E_o1"] == "1"
    assert e.links[2].operations == ("Sigmoid",)


# ----- w1: the chain forks at out_h1 ----------------------------------------------------------
def test_w1_scalar_form_lists_both_branches_and_their_sum():
    v = scalar_network()
    e = explain(v["E_total"], v["w1"])
    assert [link.symbol for link in e.links] == [
        "∂E_total/∂out_h1",
        "∂out_h1/∂net_h1",
        "∂net_h1/∂w1",
    ]
    fork, d_sig, d_net = e.links
    assert [b.via for b in fork.branches] == ["net_o1", "net_o2"]  # largest |contribution| first
    via_o1, via_o2 = fork.branches
    # the tutorial: ∂E/∂out_h1 = 0.055399425 + (−0.019049118) = 0.036350306
    for value, figure, exact in [
        (via_o1.value, "0.055399425", DELTA_O1 * W["w5"]),
        (via_o2.value, "-0.019049118", DELTA_O2 * W["w7"]),
        (fork.value, "0.036350306", DE_DOUT_H1),
        (d_sig.value, "0.241300709", OUT_H1 * (1 - OUT_H1)),
        (d_net.value, "0.05", X1),
        (e.value, "0.000438568", DELTA_H1 * X1),
    ]:
        assert close_to_figure(value, figure), (value, figure)
        assert value == pytest.approx(exact, rel=1e-12)
    assert close_to_figure(e.value, "0.000438568")
    assert e.value == pytest.approx((0.15 - 0.149780716) / 0.5, abs=5e-9)  # updated w1
    assert [b.via for b in e.branches] == ["net_o1", "net_o2"]
    # each branch is a chain of its own, down to the fork's input
    assert [link.symbol for link in via_o1.links] == [
        "∂E_total/∂E_o1",
        "∂E_o1/∂out_o1",
        "∂out_o1/∂net_o1",
        "∂net_o1/∂out_h1",
    ]
    assert via_o1.links[-1].value == W["w5"] and via_o2.links[-1].value == W["w7"]
    assert np.prod([link.value for link in via_o2.links]) == pytest.approx(via_o2.value, rel=1e-15)
    text = str(e)
    assert "sum: 0.055399425 + (-0.019049118) = 0.036350306" in text
    assert "= 0.036350306 × 0.241300709 × 0.05" in text


def test_hidden_bias_forks_twice_into_nested_branches():
    v = scalar_network()
    e = explain(v["E_total"], v["b1"])  # b1 feeds both hidden units
    assert len(e.links) == 1
    (fork,) = e.links
    assert {b.via: b.value for b in fork.branches} == pytest.approx(
        {"net_h1": DELTA_H1, "net_h2": DELTA_H2}, rel=1e-12
    )
    assert e.value == pytest.approx(DELTA_H1 + DELTA_H2, rel=1e-12)
    via_h1 = next(b for b in fork.branches if b.via == "net_h1")
    inner = via_h1.links[0]  # ∂E_total/∂out_h1 forks again through both outputs
    assert inner.symbol == "∂E_total/∂out_h1" and len(inner.branches) == 2
    assert via_h1.links[-1].symbol == "∂net_h1/∂b1" and via_h1.links[-1].value == 1.0
    # tutorial figures: δ_h1 = 0.036350306 × 0.241300709
    assert close_to_figure(via_h1.value, "0.008771355")


# ----- the matrix form: index picks the element --------------------------------------------------
def test_matrix_form_gives_the_same_factors_for_w5():
    v = matrix_network()
    e = explain(v["E_total"], v["W2"], index=(0, 0))
    assert [link.symbol for link in e.links] == [
        "∂E_total/∂out_o[0]",
        "∂out_o[0]/∂net_o[0]",
        "∂net_o[0]/∂W2[0,0]",
    ]
    for link, figure in zip(e.links, ["0.74136507", "0.186815602", "0.593269992"], strict=True):
        assert close_to_figure(link.value, figure)
    assert close_to_figure(e.value, "0.082167041")
    assert e.links[0].formula == "0.5 · 2·(target[0] − out_o[0]) · (−1)"  # through the Sum
    assert e.links[1].formula == "out_o[0](1 − out_o[0])"


def test_matrix_form_gives_the_same_branches_for_w1_and_a_hidden_bias():
    v = matrix_network()
    e = explain(v["E_total"], v["W1"], index=(0, 0))
    assert [link.symbol for link in e.links] == [
        "∂E_total/∂out_h[0]",
        "∂out_h[0]/∂net_h[0]",
        "∂net_h[0]/∂W1[0,0]",
    ]
    assert [(b.via, round(b.value, 9)) for b in e.branches] == [
        ("net_o[0]", 0.055399425),
        ("net_o[1]", -0.019049118),
    ]
    assert close_to_figure(e.value, "0.000438568")
    bias = explain(v["E_total"], v["b_h"], index=1)
    assert [link.symbol for link in bias.links] == [
        "∂E_total/∂out_h[1]",
        "∂out_h[1]/∂net_h[1]",
        "∂net_h[1]/∂b_h[1]",
    ]
    assert bias.value == pytest.approx(DELTA_H2, rel=1e-12)


def test_values_equal_backwards_gradients_for_every_weight_and_intermediate():
    v = matrix_network()
    for name in ("net_h", "out_h", "net_o", "out_o"):
        v[name].retain_grad()
    v["E_total"].backward(retain_graph=True)
    for name in ("W1", "W2", "b_h", "net_h", "out_h", "net_o", "out_o"):
        t = v[name]
        for index in np.ndindex(t.shape):
            value = explain(v["E_total"], t, index=index).value
            assert value == pytest.approx(t.grad[index], rel=1e-12, abs=1e-15), (name, index)


def test_the_demo_prints_the_explanations_of_w5_and_w1(capsys):
    examples = Path(__file__).resolve().parents[2] / "examples"
    sys.path.insert(0, str(examples))
    try:
        import worked_example_222 as example
        from _shared import Checks
    finally:
        sys.path.remove(str(examples))
    checks = Checks("explain")
    example.explain_w5_w1(checks)
    assert checks.exit_code() == 0
    out = capsys.readouterr().out
    assert "∂E_total/∂w_output[0,0] = 0.082167041" in out
    assert "= 0.74136507 × 0.186815602 × 0.593269992" in out
    assert "∂E_total/∂w_hidden[0,0] = 0.000438568" in out
    assert "sum: 0.055399425 + (-0.019049118) = 0.036350306" in out
