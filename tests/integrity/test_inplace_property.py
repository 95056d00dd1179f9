"""Issue 9, points 1 and 2, as a property: whatever small graph is built and whatever in-place edit
is made between its forward and its backward, the backward either raises RuntimeError or gives
every leaf the gradient of a fresh recompute at the values the graph was recorded with.

A graph is a short program over (2, 2) tensors: each step applies one operation to earlier
results, to constant Tensors or to NumPy arrays. The edit changes a leaf (under ``no_grad``), a
constant Tensor, a NumPy operand (an index array included) or a detached view of a leaf or
constant. The program is built twice: once on the objects that get edited, and once, after the
edit, on fresh copies of the recorded values, which gives the gradient the first must match.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from autograd_lite import Tensor, no_grad

UNARY = {
    "sigmoid": lambda x, index: x.sigmoid(),
    "tanh": lambda x, index: x.tanh(),
    "transpose": lambda x, index: x.T,
    "reshape": lambda x, index: x.reshape(4)[::-1].reshape(2, 2),
    "index": lambda x, index: x[index],  # integer-array indexing: rows picked, maybe twice
    "sum": lambda x, index: x.sum(axis=0, keepdims=True) * x,
}
BINARY = ["add", "mul", "matmul", "rmatmul"]
N_CONSTANTS = N_ARRAYS = 2


def operand(n_registers: int) -> st.SearchStrategy:
    """An earlier result (a register), a constant Tensor or a NumPy array."""
    return st.one_of(
        st.tuples(st.just("reg"), st.integers(0, n_registers - 1)),
        st.tuples(st.just("const"), st.integers(0, N_CONSTANTS - 1)),
        st.tuples(st.just("array"), st.integers(0, N_ARRAYS - 1)),
    )


EDIT_OPS = st.sampled_from(["isub", "imul", "copy_", "fill_", "zero_", "setitem"])
VIEWS = st.sampled_from(["detach", "detach.T", "detach.reshape(4)"])


@st.composite
def cases(draw: Any) -> tuple[int, list, tuple]:
    """A program, and an in-place edit of something it uses (an edit of anything else would
    trivially leave the gradient alone)."""
    n_leaves = draw(st.integers(1, 3))
    steps = []
    for i in range(draw(st.integers(1, 5))):
        n = n_leaves + i  # registers so far: the leaves, then each step's result
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(UNARY)))
            steps.append(("unary", name, draw(st.integers(0, n - 1))))
        else:  # the left operand is a register, so that every step depends on some leaf
            left = ("reg", draw(st.integers(0, n - 1)))
            steps.append(("binary", draw(st.sampled_from(BINARY)), left, draw(operand(n))))
    refs = [("reg", step[2]) if step[0] == "unary" else step[3] for step in steps]
    refs += [step[2] for step in steps if step[0] == "binary"]
    leaves = sorted({i for kind, i in refs if kind == "reg" and i < n_leaves})
    consts = sorted({i for kind, i in refs if kind == "const"})
    arrays = sorted({i for kind, i in refs if kind == "array"})
    owners = [("leaf", i) for i in leaves] + [("const", i) for i in consts]
    choices = [
        st.tuples(st.just("leaf"), st.sampled_from(leaves), EDIT_OPS),
        st.tuples(st.just("view"), st.sampled_from(owners), VIEWS, EDIT_OPS),
    ]
    if consts:
        choices.append(st.tuples(st.just("const"), st.sampled_from(consts), EDIT_OPS))
    if arrays:
        choices.append(st.tuples(st.just("array"), st.sampled_from(arrays)))
    if any(step[:2] == ("unary", "index") for step in steps):
        choices.append(st.tuples(st.just("index")))
    return n_leaves, steps, draw(st.one_of(choices))


def run(n_leaves: int, steps: list, leaves: list, consts: list, arrays: list, index: Any) -> Any:
    """Build the program's graph on the given objects; the loss is the sum of the last result."""
    regs = list(leaves[:n_leaves])

    def get(ref: tuple) -> Any:
        kind, i = ref
        return {"reg": regs, "const": consts, "array": arrays}[kind][i]

    for step in steps:
        if step[0] == "unary":
            _, name, src = step
            out = UNARY[name](regs[src], index)
        else:
            _, name, left, right = step
            a, b = get(left), get(right)
            out = {"add": a + b, "mul": a * b, "matmul": a @ b, "rmatmul": b @ a}[name]
        regs.append(out)
    return regs[-1].sum()


def in_place(t: Tensor, op: str) -> None:
    if op == "isub":
        t -= 0.5
    elif op == "imul":
        t *= -2.0
    elif op == "copy_":
        t.copy_(np.arange(t.size).reshape(t.shape) * 0.75 - 1.0)  # t may be a (4,) view
    elif op == "fill_":
        t.fill_(1.5)
    elif op == "zero_":
        t.zero_()
    else:
        t[0] = 4.0


def edit(spec: tuple, leaves: list, consts: list, arrays: list, index: np.ndarray) -> None:
    kind = spec[0]
    if kind == "leaf":
        with no_grad():
            in_place(leaves[spec[1]], spec[2])
    elif kind == "const":
        in_place(consts[spec[1]], spec[2])
    elif kind == "array":
        arrays[spec[1]][...] = arrays[spec[1]] * 2.0 + 1.0
    elif kind == "index":
        index[...] = 1 - index
    else:  # a view that does not require grad, so that grad mode does not matter
        _, (owner, i), view, op = spec
        v = (leaves if owner == "leaf" else consts)[i].detach()
        v = v.T if view == "detach.T" else v.reshape(4) if view == "detach.reshape(4)" else v
        in_place(v, op)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), seed=st.integers(0, 2**32 - 1))
def test_in_place_edits_never_give_a_gradient_other_than_the_recorded_graphs(case, seed):
    n_leaves, steps, edit_spec = case
    rng = np.random.default_rng(seed)
    leaf_values = [rng.uniform(-1, 1, (2, 2)) for _ in range(3)]
    const_values = [rng.uniform(-1, 1, (2, 2)) for _ in range(N_CONSTANTS)]
    array_values = [rng.uniform(-1, 1, (2, 2)) for _ in range(N_ARRAYS)]
    index_values = np.array([1, 1])  # flipped to [0, 0] by the index edit

    leaves = [Tensor(v, requires_grad=True) for v in leaf_values]  # Tensor() copies its data
    consts = [Tensor(v) for v in const_values]
    arrays = [v.copy() for v in array_values]
    index = index_values.copy()
    loss = run(n_leaves, steps, leaves, consts, arrays, index)
    edit(edit_spec, leaves[:n_leaves], consts, arrays, index)
    try:
        loss.backward()
    except RuntimeError as err:
        message = str(err).lower()
        assert "detach" in message or "step" in message, f"the error should give the fix: {err}"
        event("backward refused")  # --hypothesis-show-statistics: how often each outcome came
        return
    event("backward computed")

    fresh = [Tensor(v, requires_grad=True) for v in leaf_values]
    recorded = run(
        n_leaves,
        steps,
        fresh,
        [Tensor(v) for v in const_values],
        [v.copy() for v in array_values],
        index_values.copy(),
    )
    recorded.backward()
    for leaf, reference in zip(leaves[:n_leaves], fresh[:n_leaves], strict=True):
        if reference.grad is None:  # a leaf the program never used
            assert leaf.grad is None
        else:
            np.testing.assert_allclose(leaf.grad, reference.grad, rtol=1e-12, atol=1e-12)
