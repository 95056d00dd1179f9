"""What one operation costs in objects: few enough that Python's garbage collector, which scans
every tracked object, does not dominate long graphs."""

import gc
import tracemalloc

import numpy as np
import pytest

from autograd_lite import Tensor, draw_graph
from autograd_lite.function import Function, unbroadcast


def tracked_objects_per_operation(operation) -> float:
    gc.collect()
    before = len(gc.get_objects())
    kept = [operation() for _ in range(200)]
    gc.collect()
    grown = len(gc.get_objects()) - before - 1  # the list itself
    del kept
    return grown / 200


@pytest.mark.parametrize(
    "operation, operations",
    [
        (lambda a, b: a * b, 1),
        (lambda a, b: a * 2.0, 1),
        (lambda a, b: (a + 1.5).sigmoid(), 2),
    ],
    ids=["tensor * tensor", "tensor * number", "a chain of two"],
)
def test_an_operation_leaves_two_tracked_objects_its_result_and_its_node(operation, operations):
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    operation(a, b)  # the number constants exist from here on
    per_call = tracked_objects_per_operation(lambda: operation(a, b))
    assert per_call <= 2 * operations  # the result Tensor and its Function, nothing else


def test_a_python_number_is_one_shared_read_only_constant_per_value_and_dtype():
    x = Tensor(np.ones(3), requires_grad=True)
    first, second = (x * 0.5)._ctx.inputs[1], (x + 0.5)._ctx.inputs[1]
    assert first is second and not first.data.flags.writeable
    assert (x.astype(np.float32) * 0.5)._ctx.inputs[1] is not first  # another dtype, another one
    assert (x * -0.0)._ctx.inputs[1] is not (x * 0.0)._ctx.inputs[1]  # the sign of zero counts
    np.testing.assert_array_equal((x * -0.0).data, -np.zeros(3))


def test_an_operation_without_parameters_keeps_no_dict_of_its_own():
    x = Tensor(np.ones(3), requires_grad=True)
    product, exponential = (x * 2.0)._ctx, x.exp()._ctx
    assert product.params is exponential.params and dict(product.params) == {}
    with pytest.raises(TypeError):  # shared, so read-only
        product.params["axis"] = 0
    assert x.sum(axis=0)._ctx.params == {"axis": 0, "keepdims": False}  # its own where it has any


def test_a_recorded_operation_costs_at_most_520_bytes_while_its_graph_lives():
    """Measured 491 bytes per operation of a chain (the result, its node, the saved tuple, the
    4-element array): an empty params dict per operation made it 555."""
    x = Tensor(np.ones(4), requires_grad=True)
    x * 1.0001  # the constant exists from here on
    gc.collect()
    tracemalloc.start()
    try:
        y = x
        for _ in range(5_000):
            y = y * 1.0001
        per_operation = tracemalloc.get_traced_memory()[0] / 5_000
    finally:
        tracemalloc.stop()
    assert per_operation <= 520, f"{per_operation:.0f} bytes per operation"


def test_a_shared_number_is_drawn_at_each_use():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * 0.5 + 0.5) * 0.5
    source = draw_graph(y, show_data=False).source
    assert source.count("[label=0.5 ") == 3


def test_the_flags_of_which_inputs_need_a_gradient_are_not_tracked():
    x = Tensor(np.ones(3), requires_grad=True)
    fn = (x * 2.0)._ctx
    assert not gc.is_tracked(fn.needs_input_grad) and list(fn.needs_input_grad) == [1, 0]


# ----- the backward pass finds the graph as it goes (engine.chain_rule)
class PassesNoGradient(Function):
    """z = x, but backward gives None: nothing flows to x (as a detach inside an operation)."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return (None,)


def test_a_part_of_the_graph_that_no_gradient_reaches_is_released_too():
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 3.0
    loss = (PassesNoGradient.apply(h) + w).sum()
    loss.backward()
    assert w.grad.tolist() == [1.0, 1.0]  # only the direct path counts
    assert h._ctx.freed  # behind the node that gave None: still released
    with pytest.raises(RuntimeError, match="already freed"):
        h.sum().backward()


def test_a_freed_node_met_halfway_raises_before_any_gradient_is_written():
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 2.0
    h.sum().backward()  # releases h's node
    first = w.grad.copy()
    later = (h * 3.0 + w).sum()  # a new graph on top of the released one
    with pytest.raises(RuntimeError, match=r"already freed \(at a 'Mul' node\)"):
        later.backward()
    assert w.grad.tolist() == first.tolist()  # w's direct path was not accumulated either


def test_gradients_meeting_at_a_node_are_summed_newest_consumer_first():
    # x feeds three products; the sum reaching x is (g_c + g_b) + g_a, newest first, as the
    # compiled replay sums it. Float addition is not associative: oldest first, (g_a + g_b) + g_c,
    # would lose both ones against 1e16.
    x = Tensor([0.1, 0.7], requires_grad=True)
    a, b, c = x * 1e16, x * 1.0, x * 1.0
    (a + b + c).sum().backward()
    assert x.grad.tolist() == [(1.0 + 1.0) + 1e16] * 2
    assert (1.0 + 1.0) + 1e16 != (1e16 + 1.0) + 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, columns", [(1, 1), (3, 5), (64, 128)])
def test_a_bias_gradient_is_the_rows_summed_to_the_bit_as_the_general_path_sums_them(
    dtype, rows, columns
):
    # unbroadcast's shortcut for a bias added to each row must give what summing over the added
    # axis gives (float addition is not associative: a different order would differ in the bits)
    g = np.random.default_rng(1).standard_normal((rows, columns)).astype(dtype)
    summed = unbroadcast(g, (columns,))
    assert summed.dtype == dtype and summed.shape == (columns,)
    assert summed.tobytes() == g.sum(axis=(0,)).tobytes()
    b = Tensor(np.zeros(columns, dtype), requires_grad=True)
    (Tensor(np.zeros((rows, columns), dtype)) + b).backward(g)
    assert b.grad.tobytes() == g.sum(axis=(0,)).tobytes()


def test_backward_of_a_one_element_result_seeds_a_fresh_writable_one():
    seen = []
    w = Tensor([2.0], requires_grad=True)
    loss = (w * 3.0).sum()
    loss.register_hook(lambda g: seen.append(g.copy()) or g * 2.0)
    loss.backward()
    assert seen[0].tolist() == 1.0 and seen[0].dtype == np.float64
    assert w.grad.tolist() == [6.0]


class FailsInBackward(Function):
    """z = x, whose backward raises: a pass that stops halfway."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        raise ValueError("this backward fails")


def test_a_pass_that_fails_halfway_has_released_the_nodes_it_went_through_and_no_others():
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 2.0
    failing = FailsInBackward.apply(h)
    loss = (failing * 3.0).sum()
    with pytest.raises(ValueError, match="this backward fails"):
        loss.backward()
    assert loss._ctx.freed  # the sum and the product ran their backward: released, as in PyTorch
    assert not failing._ctx.freed and not h._ctx.freed  # the failing node and what lies behind it
    assert w.grad is None
    with pytest.raises(RuntimeError, match=r"already freed \(at a 'Sum' node\)"):
        loss.backward()
