"""NumPy functions called on Tensors become the Tensor operations (and keep the graph)."""

import numpy as np
import pytest

from autograd_lite import Tensor, gradcheck

X = np.array([[0.7, -1.3, 2.1], [0.4, 1.6, -0.9]])
POSITIVE = np.abs(X) + 0.5
OTHER = np.array([[0.9, 1.1, -0.6], [2.0, -0.3, 1.2]])

CALLS = {
    "arr + t": (lambda t: OTHER + t, X),
    "arr - t": (lambda t: OTHER - t, X),
    "arr * t": (lambda t: OTHER * t, X),
    "arr / t": (lambda t: OTHER / t, POSITIVE),
    "arr ** t": (lambda t: POSITIVE**t, X),
    "arr % t": (lambda t: np.full((2, 3), 5.3) % t, POSITIVE),
    "arr @ t": (lambda t: OTHER.T @ t, X),
    "np.exp": (np.exp, X),
    "np.log": (np.log, POSITIVE),
    "np.sqrt": (np.sqrt, POSITIVE),
    "np.abs": (np.abs, X),
    "np.tanh": (np.tanh, X),
    "np.negative": (np.negative, X),
    "np.maximum": (lambda t: np.maximum(t, OTHER), X),
    "np.minimum": (lambda t: np.minimum(OTHER, t), X),
    "np.square": (np.square, X),
    "np.reciprocal": (np.reciprocal, POSITIVE),
    "np.log1p": (np.log1p, POSITIVE),
    "np.expm1": (np.expm1, X),
    "np.log2": (np.log2, POSITIVE),
    "np.log10": (np.log10, POSITIVE),
    "np.exp2": (np.exp2, X),
    "np.logaddexp": (lambda t: np.logaddexp(t, OTHER), X),
    "np.sin": (np.sin, X),
    "np.cos": (np.cos, X),
    "np.sum": (lambda t: np.sum(t, axis=1), X),
    "np.mean": (lambda t: np.mean(t, axis=0, keepdims=True), X),
    "np.max": (lambda t: np.max(t, axis=1), X),
    "np.min": (lambda t: np.min(t), X),
    "np.prod": (lambda t: np.prod(t, axis=0), X),
    "np.var": (lambda t: np.var(t, axis=1, ddof=1), X),
    "np.std": (lambda t: np.std(t), X),
    "np.reshape": (lambda t: np.reshape(t, (3, 2)), X),
    "np.transpose": (np.transpose, X),
    "np.swapaxes": (lambda t: np.swapaxes(t, 0, 1), X),
    "np.squeeze": (lambda t: np.squeeze(t[None]), X),
    "np.expand_dims": (lambda t: np.expand_dims(t, 1), X),
    "np.flip": (lambda t: np.flip(t, 1), X),
    "np.tile": (lambda t: np.tile(t, (2, 1)), X),
    "np.broadcast_to": (lambda t: np.broadcast_to(t[0], (4, 3)), X),
    "np.clip": (lambda t: np.clip(t, -1.0, 1.0), X),
    "np.concatenate": (lambda t: np.concatenate([t, t * 2.0], axis=1), X),
    "np.stack": (lambda t: np.stack([t, t * 2.0]), X),
    "np.where": (lambda t: np.where(X > 0, t, t * 3.0), X),
    "np.dot": (lambda t: np.dot(t, OTHER.T), X),
}


@pytest.mark.parametrize("name", CALLS)
def test_numpy_calls_on_a_tensor_are_recorded_operations(name):
    f, point = CALLS[name]
    x = Tensor(point, requires_grad=True)
    out = f(x)
    assert isinstance(out, Tensor) and out.requires_grad, name
    with np.errstate(all="ignore"):
        expected = f(point)  # the same call on the plain array: the same values
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(f, Tensor(point, requires_grad=True))


def test_what_has_no_operation_is_refused_naming_where_to_look():
    with pytest.raises(TypeError, match=r"np\.arctan.*docs/operations\.md"):
        np.arctan(Tensor(X, requires_grad=True))


def test_without_a_graph_to_drop_numpy_answers_as_usual():
    assert np.allclose(Tensor(X), X) and np.isfinite(Tensor(X, requires_grad=True)).all()
    np.testing.assert_array_equal(np.arctan(Tensor(X)), np.arctan(X))
