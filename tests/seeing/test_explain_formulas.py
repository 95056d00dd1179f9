"""explain() reads each factor's formula from the operation's docstring, in the styles the
operations are documented in: derivatives separated by wide spaces or by "; ", notes in
parentheses or after ":" / ", taken as", equal forms joined by " = ", conditions, VJP forms."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_lite import Function, Tensor, explain


class Blend(Function):
    """z = x·y + x.   ∂z/∂x = y + 1 (at any x, as in PyTorch);   ∂z/∂y = x: the other one."""

    def forward(self, x, y):
        self.save(x, y)
        return x * y + x

    def backward(self, g):
        x, y = self.saved
        return g * (y + 1), g * x


class Bigger(Function):
    """z = max(x, y) element-wise. ∂z/∂x = 1 where x > y, ½ where x = y, else 0; ∂z/∂y = 1 where
    y > x, ½ where x = y, else 0 (ties share, as in PyTorch's maximum)."""

    def forward(self, a, b):  # forward names its inputs a, b; the docstring x, y
        self.save(a, b)
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.saved
        share = np.where(a == b, 0.5, 1.0)
        return g * share * (a >= b), g * share * (b >= a)


class Cube(Function):
    """z = u³.   ∂z/∂u = 3u² = 3z/u, taken as 0 at u = 0."""

    def forward(self, u):
        self.save(u)
        return u**3

    def backward(self, g):
        (u,) = self.saved
        return (g * 3 * u**2,)


class Shuffle(Function):
    """z = x with its elements reversed.   The gradient is g reversed back."""

    def forward(self, x):
        return x[::-1].copy()

    def backward(self, g):
        return (g[::-1],)


def link_formulas(out, wrt, index=None):
    return [link.formula for link in explain(out, wrt, index).links]


def named(t, name):
    t.name = name
    return t


def test_each_input_gets_its_own_derivative_without_the_notes():
    x = Tensor(2.0, requires_grad=True, name="x")
    y = Tensor(-3.0, requires_grad=True, name="y")
    z = named(Blend.apply(x, y), "z")
    assert link_formulas(z, x) == ["y + 1"]  # "(at any x, as in PyTorch)" left out
    assert link_formulas(z, y) == ["x"]  # ": the other one" left out
    assert explain(z, x).value == -2.0 and explain(z, y).value == 2.0


def test_derivatives_separated_by_a_semicolon_with_conditions_kept_whole():
    a = Tensor([1.0, 5.0], requires_grad=True, name="a")
    b = Tensor([4.0, 2.0], requires_grad=True, name="b")
    z = named(Bigger.apply(a, b), "z")
    loss = named(z.sum(), "loss")
    formulas = link_formulas(loss, a, 1)
    # ½ where x = y is a condition, not a second form to pick the last of
    assert formulas[-1] == "1 where a[1] > b[1], ½ where a[1] = b[1], else 0"
    assert link_formulas(loss, b, 1)[-1] == "1 where b[1] > a[1], ½ where a[1] = b[1], else 0"
    assert explain(loss, a, 1).value == 1.0 and explain(loss, a, 0).value == 0.0


def test_of_equal_forms_the_last_one_in_the_graphs_names():
    u = Tensor(2.0, requires_grad=True, name="u")
    z = named(Cube.apply(u), "z")
    assert link_formulas(z, u) == ["3z/u"]  # ", taken as 0 at u = 0" is a note
    m = named(u * 2.0, "m")
    w = named(Cube.apply(m + 1.0), "w")  # an unnamed input: written as its expression
    assert link_formulas(w, u) == ["3w/(m + 1)", "2"]  # Add's factor 1 is left out
    assert explain(w, u).value == pytest.approx(3 * 5.0**2 * 2)


def test_a_derivative_described_in_words_is_quoted_alone_and_named_in_a_product():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    r = named(Shuffle.apply(x), "r")
    loss = named((r * np.array([1.0, 10.0, 100.0])).sum(), "loss")
    assert link_formulas(loss, x, 0)[-1] == "Shuffle: the gradient is g reversed back"
    assert explain(loss, x, 0).value == 100.0
    s = named(Shuffle.apply(x) * 2.0, "s")  # one link through Mul and Shuffle
    total = named(s.sum(), "total")
    assert link_formulas(total, x, 0) == ["1", "2 · [Shuffle]"]
    assert explain(total, x, 0).value == 2.0


def test_the_engines_own_operations_read_as_their_documentation_says():
    x = Tensor(0.3, requires_grad=True, name="x")
    cases = [
        (lambda t: t.tanh(), "1 − z²"),
        (lambda t: t.exp(), "z"),
        (lambda t: t.sqrt(), "1/(2z)"),
        (lambda t: t.abs(), "sign(x)"),
        (lambda t: t.log(), "1/x"),
        (lambda t: t**3, "3·x²"),
        (lambda t: t**0.5, "0.5·x^(−0.5)"),
        (lambda t: 2.0 / t, "−2/x²"),
        (lambda t: t.relu(), "1 where x > 0, else 0"),
    ]
    for make, formula in cases:
        z = named(make(x), "z")
        assert link_formulas(z, x) == [formula]
