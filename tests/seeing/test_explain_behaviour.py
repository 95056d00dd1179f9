"""explain(): it only reads the graph, refuses a released one, folds large fan-outs, shows zeros."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograd_lite import Tensor, explain
from autograd_lite.explain import SHOWN_BRANCHES, fmt


def small_graph():
    w = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, name="w")
    x = Tensor([1.0, 2.0], name="x")
    h = (w @ x).tanh()
    h.name = "h"
    loss = (h * h).sum()
    loss.name = "loss"
    return w, h, loss


def test_explain_never_touches_grad_and_fires_no_hook():
    w, h, loss = small_graph()
    w.grad = np.full((2, 2), 7.0)
    calls = []
    w.register_hook(lambda g: calls.append("w"))
    h.register_hook(lambda g: calls.append("h"))
    e = explain(loss, w, index=(1, 0))
    explain(loss, h, index=0)
    e.draw()
    assert calls == []
    np.testing.assert_array_equal(w.grad, np.full((2, 2), 7.0))
    assert h._grad is None  # nothing retained on the intermediate either
    loss.backward()  # the graph still works: explain released nothing
    assert calls == ["h", "w"]


def test_a_released_graph_is_refused_with_the_way_out():
    w, h, loss = small_graph()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"released by backward\(\).*retain_graph=True"):
        explain(loss, w, index=(0, 0))


def test_after_backward_with_retain_graph_the_value_is_backwards_gradient():
    w, h, loss = small_graph()
    loss.backward(retain_graph=True)
    for index in np.ndindex(2, 2):
        assert explain(loss, w, index=index).value == pytest.approx(w.grad[index], rel=1e-12)


def test_a_change_in_place_after_the_forward_pass_is_refused_as_backward_refuses_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    loss = (x * c).sum()
    c += 1.0  # Mul saved c: backward would read the new values
    with pytest.raises(RuntimeError, match="changed in place"):
        explain(loss, x, index=0)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda w, h, loss: explain(h, w, (0, 0)), ValueError, r"one element .* shape \(2,\)"),
        (lambda w, h, loss: explain(loss, w), ValueError, r"pass index=.*index=\(0, 0\)"),
        (lambda w, h, loss: explain(loss, w, (2, 0)), IndexError, "out of range"),
        (lambda w, h, loss: explain(loss, w, 0), ValueError, "give 2 integer"),
        (lambda w, h, loss: explain(loss, Tensor(1.0, requires_grad=True)), ValueError, "not part"),
        (lambda w, h, loss: explain(loss, Tensor([1.0, 2.0]), 0), ValueError, "requires_grad"),
        (lambda w, h, loss: explain(loss.data, w, (0, 0)), TypeError, "must be Tensors"),
    ],
)
def test_bad_arguments_say_what_to_do(make, error, message):
    with pytest.raises(error, match=message):
        make(*small_graph())


def test_a_wide_fork_shows_the_largest_branches_and_folds_the_rest():
    rng = np.random.default_rng(3)
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="w")
    x = Tensor(rng.normal(size=(4, 50)))
    loss = (w @ x).tanh().sum()
    loss.name = "loss"
    loss.backward(retain_graph=True)
    e = explain(loss, w, index=(0, 0))
    assert e.value == pytest.approx(w.grad[0, 0], rel=1e-12)
    (fork,) = e.links  # w[0, 0] reaches the loss through 50 elements of w @ x
    assert len(fork.branches) == 50
    sizes = [abs(b.value) for b in fork.branches]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(b.value for b in fork.branches) == pytest.approx(fork.value, rel=1e-12)
    text = str(e)
    folded = fork.branches[SHOWN_BRANCHES:]
    rest = sum(b.value for b in folded)
    assert f"… {len(folded)} more branches (smaller), together {fmt(rest)}" in text
    assert len(text.splitlines()) < 20  # 50 branches, a screenful of text
    assert text.count("via ") == SHOWN_BRANCHES


def test_a_relu_that_is_off_shows_as_a_zero_factor_not_as_a_missing_path():
    w = Tensor([-1.0, 2.0], requires_grad=True, name="w")
    z = w * 3.0
    z.name = "z"
    r = z.relu()
    r.name = "r"
    loss = r.sum()
    loss.name = "loss"
    e = explain(loss, w, index=0)
    assert [link.symbol for link in e.links] == ["∂loss/∂r[0]", "∂r[0]/∂z[0]", "∂z[0]/∂w[0]"]
    assert [link.value for link in e.links] == [1.0, 0.0, 3.0]
    assert e.value == 0.0
    assert "1 where z[0] > 0, else 0" in e.links[1].formula  # ReLU's docstring


def test_an_element_the_output_does_not_use_has_no_path_and_derivative_zero():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x[0] * 2.0
    e = explain(y, x, index=1)
    assert e.value == 0.0 and e.links == []
    assert "no path from x[1]" in str(e)
    assert explain(y, y).value == 1.0


def test_without_names_every_intermediate_is_a_waypoint_labelled_as_in_the_picture():
    x = Tensor(0.5, requires_grad=True)
    y = (x * 3.0).exp().log()
    e = explain(y, x)
    assert [link.symbol for link in e.links] == ["∂t3/∂t2", "∂t2/∂t1", "∂t1/∂t0"]
    assert [link.formula for link in e.links] == ["1/t2", "t2", "3"]  # Log, Exp (= z), Mul
    assert e.value == pytest.approx(3.0, rel=1e-15)
    source = e.draw().source
    for label in ("t0", "t1", "t2", "t3"):
        assert re.search(rf'label="{label}\\n', source)


def test_names_in_between_are_the_only_waypoints():
    x = Tensor(0.5, requires_grad=True, name="x")
    a = x * 3.0
    a.name = "a"
    y = (a.exp() + 1.0).log()  # two unnamed operations between a and y
    e = explain(y, x)
    assert [link.symbol for link in e.links] == ["∂t2/∂a", "∂a/∂x"]  # t0 = exp(a), t1 = t0 + 1
    assert e.links[0].formula == "1/(exp(a) + 1) · exp(a)"
    assert e.links[0].operations == ("Log", "Add", "Exp")
    assert e.value == pytest.approx(3 * np.exp(1.5) / (np.exp(1.5) + 1), rel=1e-14)


def test_numbers_print_as_the_tutorials_print_them():
    assert fmt(0.0553994246514) == "0.055399425"  # 9 decimals below 1
    assert fmt(0.741365069552) == "0.74136507"  # trailing zero dropped
    assert fmt(1234.56789012) == "1234.56789"  # 9 significant digits above
    assert fmt(1.5e-7) == "1.5e-07"
    assert fmt(1.0) == "1"


def test_html_is_a_table_with_the_factors_and_the_branches():
    w, h, loss = small_graph()
    e = explain(loss, w, index=(0, 1))
    page = e._repr_html_()
    assert page.startswith("<table>") and page.endswith("</table>")
    assert f"<caption>∂loss/∂w[0,1] = {fmt(e.value)}</caption>" in page
    for link in e.links:
        assert f"<td>{fmt(link.value)}</td>" in page
    assert page.count("<tr>") == 1 + len(e.links)  # the header, one row per factor


def test_the_picture_marks_the_path_with_adjoints_and_local_derivatives():
    x = Tensor(0.5, requires_grad=True, name="x")
    c = Tensor(2.0, requires_grad=True, name="c")
    y = x * 3.0
    y.name = "y"
    out = (y.sigmoid() * c).sum()
    out.name = "out"
    source = explain(out, x).draw().source
    s = 1 / (1 + np.exp(-1.5))
    # every tensor that requires grad shows ∂out/∂itself: c's is σ(1.5), x's is 3·2·σ'(1.5)
    assert f"∂out/∂· {float(s):.4g}" in source
    assert f"∂out/∂· {6 * s * (1 - s):.4g}" in source
    # path edges carry the operation's local derivative: ∂(x·3)/∂x = 3, ∂σ/∂y = σ(1 − σ)
    assert re.search(r'label=3 .*color="#d7301f"', source)
    assert f"label={s * (1 - s):.4g}" in source
    # c is not on the path from x: its edge is drawn plain
    c_node = re.search(r'(tensor\d+) \[label="c\\n', source).group(1)
    assert re.search(rf"\t{c_node} -> op\d+$", source, re.MULTILINE)


def test_a_models_parameters_are_named_through_params_and_long_sentences_are_cut():
    nn = pytest.importorskip("nn")
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))
    logits = model(Tensor(rng.normal(size=(8, 6))))
    labels = rng.integers(0, 3, 8)  # indexing spelled out: GetItem's derivative is a sentence
    loss = -logits.log_softmax(axis=1)[np.arange(8), labels].mean()
    e = explain(loss, model[0].weight, (1, 2), params=dict(model.named_parameters()))
    assert e.wrt_label == "0.weight[1,2]"
    loss.backward(retain_graph=True)
    assert e.value == pytest.approx(model[0].weight.grad[1, 2], rel=1e-12)
    longest = max(len(line) for line in str(e).splitlines())
    assert longest < 160  # GetItem's derivative is a sentence: only its first words are shown
    assert "GetItem: ∂L/∂x is zero except at the selected positions, where g is…" in str(e)


def test_an_operation_whose_forward_names_an_input_with_a_word_is_explained():
    # nn's NllLoss.forward(self, x, labels, ...): the labels have no letter in the docstring
    nn = pytest.importorskip("nn")
    logits = Tensor(np.random.default_rng(1).normal(size=(4, 3)), requires_grad=True)
    loss = nn.functional.cross_entropy(logits, np.array([0, 2, 1, 2]))
    text = str(explain(loss, logits, (1, 2)))
    assert "−G/n at each (i, yᵢ) that counts" in text and "-0.25" in text  # −1/n, n = 4
