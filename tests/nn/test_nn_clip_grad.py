"""nn.utils.clip_grad_norm_ and clip_grad_value_: by hand and against torch.nn.utils."""

import numpy as np
import pytest

import nn
from autograd_lite import Tensor


def params_with_grads(seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = [nn.Parameter(rng.normal(size=s).astype(dtype)) for s in [(3, 2), (4,), (1,)]]
    for p in params:
        p.grad = (rng.normal(size=p.shape) * scale).astype(dtype)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf")])
def test_clip_grad_norm_scales_every_gradient_by_one_factor(norm_type):
    params = params_with_grads(scale=10.0)
    before = [p.grad.copy() for p in params]
    arrays = [p.grad for p in params]
    flat = np.concatenate([g.ravel() for g in before])
    total = (
        np.abs(flat).max()
        if norm_type == float("inf")
        else np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    )
    returned = nn.utils.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
    assert returned == pytest.approx(total, rel=1e-13)
    for p, g, a in zip(params, before, arrays, strict=True):
        assert p.grad is a  # in place
        np.testing.assert_allclose(p.grad, g * 1.5 / (total + 1e-6), rtol=1e-14)
    clipped = np.concatenate([p.grad.ravel() for p in params])
    assert np.linalg.norm(clipped, norm_type) == pytest.approx(1.5, rel=1e-5)


def test_gradients_within_the_limit_are_left_alone_and_none_is_skipped():
    params = params_with_grads(scale=0.01)
    params.append(nn.Parameter(np.ones(2)))  # no gradient
    before = [p.grad.copy() for p in params[:3]]
    total = nn.utils.clip_grad_norm_(params, max_norm=10.0)
    assert total < 10.0 and params[3].grad is None
    for p, g in zip(params, before, strict=False):
        np.testing.assert_array_equal(p.grad, g)
    one = nn.Parameter([3.0, 4.0])
    one.grad = np.array([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(one, 1.0) == 5.0  # a single Tensor works too
    assert nn.utils.clip_grad_norm_([], 1.0) == 0.0


def test_clip_grad_norm_keeps_float32_and_reports_non_finite_norms():
    params = params_with_grads(scale=10.0, dtype=np.float32)
    nn.utils.clip_grad_norm_(params, 1.0)
    assert all(p.grad.dtype == np.float32 for p in params)
    params[0].grad[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="NaN or inf"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        nn.utils.clip_grad_norm_(params, -1.0)
    with pytest.raises(TypeError, match="item 1 is ndarray"):
        nn.utils.clip_grad_norm_([params[0], np.ones(2)], 1.0)


def test_clip_grad_value_clamps_each_element():
    params = params_with_grads(scale=3.0)
    before = [p.grad.copy() for p in params]
    nn.utils.clip_grad_value_(params, 0.5)
    for p, g in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.grad, np.clip(g, -0.5, 0.5))
    assert any(np.abs(g).max() > 0.5 for g in before)  # something was clipped


def test_clipping_inside_a_training_step():
    model = nn.Linear(3, 1, rng=np.random.default_rng(0))
    loss = (model(Tensor(np.full((4, 3), 100.0))) ** 2).mean()
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert norm > 1.0
    grads = np.concatenate([p.grad.ravel() for p in model.parameters()])
    assert np.linalg.norm(grads) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_matches_torch(norm_type):
    torch = pytest.importorskip("torch")
    ours = params_with_grads(seed=3, scale=5.0)
    theirs = [torch.nn.Parameter(torch.from_numpy(p.data.copy())) for p in ours]
    for p, q in zip(ours, theirs, strict=True):
        q.grad = torch.from_numpy(p.grad.copy())
    total = nn.utils.clip_grad_norm_(ours, 2.0, norm_type)
    reference = torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type)
    assert total == pytest.approx(reference.item(), rel=1e-12)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(ours, 0.1)
    torch.nn.utils.clip_grad_value_(theirs, 0.1)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(p.grad, q.grad.numpy())
