"""Values and gradients of every operation against PyTorch's, in float64 and float32.

Each case runs the same computation in both libraries on the same inputs, backpropagates the
same random output gradient, and compares the output and every input's gradient.
"""

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Tensor

torch = pytest.importorskip("torch")

ANY = (-2.0, 2.0)
POSITIVE = (0.2, 3.0)
AWAY = "away"  # |x| in [0.1, 2], either sign


def sample(rng, domain, shape, dtype):
    if isinstance(domain, np.ndarray):
        return domain.astype(dtype)
    if domain == AWAY:
        x = rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    else:
        x = rng.uniform(*domain, shape)
    return x.astype(dtype)


def torch_index(index):
    """The same index for torch: arrays become tensors."""
    if isinstance(index, tuple):
        return tuple(torch_index(i) for i in index)
    if isinstance(index, (np.ndarray, list)):
        return torch.as_tensor(np.asarray(index))
    return index


MASK = np.array([[True, False, True], [False, False, True], [True, True, True], [False] * 3])
TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, 0.0]])

# name: (ours, theirs, [(domain, shape) for each input]); domain may be a fixed array.
CASES = {
    "add broadcast": (lambda a, b: a + b, None, [(ANY, (3, 1)), (ANY, (4,))]),
    "sub broadcast": (lambda a, b: a - b, None, [(ANY, (2, 3, 4)), (ANY, (3, 1))]),
    "mul 0-d": (lambda a, b: a * b, None, [(ANY, ()), (ANY, (2, 3))]),
    "div": (lambda a, b: a / b, None, [(ANY, (2, 3)), (AWAY, (3,))]),
    "neg": (lambda a: -a, None, [(ANY, (2, 3))]),
    "number - tensor": (lambda a: 2.0 - a, None, [(ANY, (3,))]),
    "number / tensor": (lambda a: 2.0 / a, None, [(AWAY, (3,))]),
    "pow 2": (lambda a: a**2, None, [(ANY, (2, 3))]),
    "pow 3": (lambda a: a**3, None, [(ANY, (2, 3))]),
    "pow -1.5": (lambda a: a**-1.5, None, [(POSITIVE, (2, 3))]),
    "pow 0.5": (lambda a: a**0.5, None, [(POSITIVE, (4,))]),
    "pow tensor": (lambda a, b: a**b, None, [(POSITIVE, (2, 3)), (ANY, (3,))]),
    "pow zero base": (
        lambda a, b: a**b,
        None,
        [(np.array([0.0, 2.0, 0.0]), None), (POSITIVE, (3,))],
    ),
    "pow 0 at zero": (lambda a: a**0, None, [(np.array([0.0, 1.0, -2.0]), None)]),
    "pow tensor 0 at zero": (
        lambda a, b: a**b,
        None,
        [(np.array([0.0, 1.0, 2.0, 0.0]), None), (np.array([0.0, 0.0, 1.0, 2.0]), None)],
    ),
    "rpow": (lambda a: 2.5**a, None, [(ANY, (2, 3))]),
    "exp": (lambda a: a.exp(), None, [(ANY, (2, 3))]),
    "log": (lambda a: a.log(), None, [(POSITIVE, (2, 3))]),
    "sqrt": (lambda a: a.sqrt(), None, [(POSITIVE, (2, 3))]),
    "abs": (lambda a: a.abs(), None, [(AWAY, (2, 3))]),
    "abs at 0": (lambda a: a.abs(), None, [(np.array([-1.0, 0.0, 2.0]), None)]),
    "tanh": (lambda a: a.tanh(), None, [(ANY, (2, 3))]),
    "sigmoid": (lambda a: a.sigmoid(), None, [(ANY, (2, 3))]),
    "sigmoid large": (
        lambda a: a.sigmoid(),
        None,
        [(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]), None)],
    ),
    "relu": (lambda a: a.relu(), None, [(AWAY, (2, 3))]),
    "relu at 0": (lambda a: a.relu(), None, [(np.array([-1.0, 0.0, 2.0]), None)]),
    "sum all": (lambda a: a.sum(), None, [(ANY, (2, 3))]),
    "sum axis": (
        lambda a: a.sum(axis=1),
        lambda a: a.sum(dim=1),
        [(ANY, (2, 3, 4))],
    ),
    "sum tuple keepdims": (
        lambda a: a.sum(axis=(0, -1), keepdims=True),
        lambda a: a.sum(dim=(0, -1), keepdim=True),
        [(ANY, (2, 3, 4))],
    ),
    "mean all keepdims": (
        lambda a: a.mean(keepdims=True),
        lambda a: a.mean(dim=(0, 1, 2), keepdim=True),
        [(ANY, (2, 3, 4))],
    ),
    "mean negative axis": (
        lambda a: a.mean(axis=-2),
        lambda a: a.mean(dim=-2),
        [(ANY, (2, 3, 4))],
    ),
    "max all": (lambda a: a.max(), lambda a: torch.amax(a), [(ANY, (2, 3, 4))]),
    "max axis keepdims": (
        lambda a: a.max(axis=1, keepdims=True),
        lambda a: torch.amax(a, dim=1, keepdim=True),
        [(ANY, (2, 3, 4))],
    ),
    "max tuple": (
        lambda a: a.max(axis=(0, 2)),
        lambda a: torch.amax(a, dim=(0, 2)),
        [(ANY, (2, 3, 4))],
    ),
    "max ties all": (lambda a: a.max(), lambda a: torch.amax(a), [(TIES, None)]),
    "max ties axis 1": (
        lambda a: a.max(axis=1),
        lambda a: torch.amax(a, dim=1),
        [(TIES, None)],
    ),
    "max ties axis 0 keepdims": (
        lambda a: a.max(axis=0, keepdims=True),
        lambda a: torch.amax(a, dim=0, keepdim=True),
        [(TIES, None)],
    ),
    "max ties negative tuple": (
        lambda a: a.max(axis=(-1, -2)),
        lambda a: torch.amax(a, dim=(-1, -2)),
        [(TIES, None)],
    ),
    "softmax": (lambda a: a.softmax(), lambda a: a.softmax(dim=-1), [(ANY, (3, 4))]),
    "softmax axis 0": (
        lambda a: a.softmax(axis=0),
        lambda a: a.softmax(dim=0),
        [(ANY, (3, 4))],
    ),
    "log_softmax": (
        lambda a: a.log_softmax(axis=1),
        lambda a: a.log_softmax(dim=1),
        [(ANY, (2, 3, 4))],
    ),
    "log_softmax large": (
        lambda a: a.log_softmax(),
        lambda a: a.log_softmax(dim=-1),
        [(np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 5.0]]), None)],
    ),
    "reshape": (lambda a: a.reshape(4, -1), None, [(ANY, (2, 3, 4))]),
    "transpose": (
        lambda a: a.transpose(),
        lambda a: a.permute(2, 1, 0),
        [(ANY, (2, 3, 4))],
    ),
    "transpose axes": (
        lambda a: a.transpose(1, -1, 0),
        lambda a: a.permute(1, -1, 0),
        [(ANY, (2, 3, 4))],
    ),
    ".T": (lambda a: a.T, None, [(ANY, (2, 3))]),
    "matmul 2-D": (lambda a, b: a @ b, None, [(ANY, (2, 3)), (ANY, (3, 4))]),
    "matmul vector left": (lambda a, b: a @ b, None, [(ANY, (3,)), (ANY, (3, 4))]),
    "matmul vector right": (lambda a, b: a @ b, None, [(ANY, (2, 3)), (ANY, (3,))]),
    "matmul vectors": (lambda a, b: a @ b, None, [(ANY, (3,)), (ANY, (3,))]),
    "matmul batched": (lambda a, b: a @ b, None, [(ANY, (2, 2, 3)), (ANY, (2, 3, 4))]),
    "matmul broadcast": (lambda a, b: a @ b, None, [(ANY, (1, 2, 3)), (ANY, (5, 3, 4))]),
    "matmul matrix, batch": (lambda a, b: a @ b, None, [(ANY, (2, 3)), (ANY, (5, 3, 4))]),
    "getitem slices": (lambda a: a[1:, ::2], None, [(ANY, (4, 3))]),
    "getitem repeated ints": (
        lambda a: a[np.array([0, 2, 0, 0])],
        lambda a: a[torch_index(np.array([0, 2, 0, 0]))],
        [(ANY, (4, 3))],
    ),
    "getitem int arrays": (
        lambda a: a[np.array([1, 1, 3]), np.array([0, 0, 2])],
        lambda a: a[torch_index((np.array([1, 1, 3]), np.array([0, 0, 2])))],
        [(ANY, (4, 3))],
    ),
    "getitem mask": (
        lambda a: a[MASK],
        lambda a: a[torch_index(MASK)],
        [(ANY, (4, 3))],
    ),
    "concatenate": (
        lambda a, b, c: ag.concatenate([a, b, c], axis=1),
        lambda a, b, c: torch.cat([a, b, c], dim=1),
        [(ANY, (2, 1)), (ANY, (2, 3)), (ANY, (2, 2))],
    ),
    "stack": (
        lambda a, b: ag.stack([a, b], axis=-1),
        lambda a, b: torch.stack([a, b], dim=-1),
        [(ANY, (2, 3)), (ANY, (2, 3))],
    ),
    "where": (
        lambda a, b: ag.where(MASK, a, b),
        lambda a, b: torch.where(torch_index(MASK), a, b),
        [(ANY, (4, 1)), (ANY, (3,))],
    ),
}


def run_both(name, dtype, rng):
    """Outputs and input gradients (ours, then PyTorch's) for one case."""
    ours, theirs, specs = CASES[name]
    theirs = theirs or ours
    arrays = [sample(rng, domain, shape, dtype) for domain, shape in specs]
    ours_in = [Tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*ours_in)
    ref = theirs(*theirs_in)
    out_grad = rng.uniform(0.5, 1.5, size=out.shape).astype(dtype)
    out.backward(out_grad)
    ref.backward(torch.from_numpy(out_grad))
    ours_grads = [t.grad for t in ours_in]
    theirs_grads = [t.grad.numpy() for t in theirs_in]
    return (out, ours_grads), (ref.detach().numpy(), theirs_grads)


@pytest.mark.parametrize("name", CASES)
def test_float64_matches_torch(name, rng):
    (out, grads), (ref, ref_grads) = run_both(name, np.float64, rng)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref, rtol=1e-6, atol=1e-6)
    for i, (g, ref_g) in enumerate(zip(grads, ref_grads, strict=True)):
        assert g.dtype == np.float64 and g.shape == ref_g.shape, f"input {i}"
        np.testing.assert_allclose(g, ref_g, rtol=1e-6, atol=1e-6, err_msg=f"input {i}")


@pytest.mark.parametrize("name", CASES)
def test_float32_matches_torch(name, rng):
    (out, grads), (ref, ref_grads) = run_both(name, np.float32, rng)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ref, rtol=1e-5, atol=1e-6)
    for i, (g, ref_g) in enumerate(zip(grads, ref_grads, strict=True)):
        assert g.dtype == np.float32 and g.shape == ref_g.shape, f"input {i}"
        np.testing.assert_allclose(g, ref_g, rtol=1e-5, atol=1e-6, err_msg=f"input {i}")


def test_a_small_network_matches_torch(rng):
    """Operations chained, a parameter used twice: the whole graph agrees, not only each node."""
    x, w1, w2 = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    labels = np.array([0, 1, 1, 0, 1])

    def loss(lib, x, w1, w2):
        h = (x @ w1).tanh()
        logits = h @ w2 + (w1 * w1).sum() * 0.01
        picked = logits.log_softmax(**{"axis" if lib is ag else "dim": 1})[np.arange(5), labels]
        return -picked.mean()

    ours = [Tensor(a, requires_grad=True) for a in (x, w1, w2)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w1, w2)]
    value = loss(ag, *ours)
    ref = loss(torch, *theirs)
    value.backward()
    ref.backward()
    assert value.item() == pytest.approx(ref.item(), abs=1e-12)
    for t, r in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), rtol=1e-10, atol=1e-12)
