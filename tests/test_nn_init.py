"""nn.init: PyTorch's bounds, in place, dtype kept, reproducible with an rng."""

import math

import numpy as np
import pytest

import nn
from autograd_lite import Tensor


def weight(shape=(300, 200), dtype=np.float64):
    return nn.Parameter(np.full(shape, 9.0, dtype=dtype))


def assert_fills(t, bound):
    assert np.abs(t.data).max() <= bound
    assert np.abs(t.data).max() > 0.95 * bound  # the whole interval is used
    assert abs(t.data.mean()) < 0.05 * bound


def test_kaiming_uniform_bound_is_sqrt_6_over_fan_in():
    t = weight()
    assert nn.init.kaiming_uniform_(t, rng=np.random.default_rng(0)) is t
    assert_fills(t, math.sqrt(6 / 200))
    nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu", rng=np.random.default_rng(0))
    assert_fills(t, math.sqrt(6 / 300))


def test_xavier_uniform_bound():
    t = weight()
    assert nn.init.xavier_uniform_(t, rng=np.random.default_rng(1)) is t
    assert_fills(t, math.sqrt(6 / 500))
    nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain("tanh"), rng=np.random.default_rng(1))
    assert_fills(t, 5 / 3 * math.sqrt(6 / 500))


def test_fans_of_a_4d_weight_include_the_kernel():
    t = weight((8, 4, 3, 3))
    nn.init.kaiming_uniform_(t, rng=np.random.default_rng(2))
    assert np.abs(t.data).max() <= math.sqrt(6 / 36)


def test_zeros_and_dtype_kept_in_place():
    t = weight(dtype=np.float32)
    array = t.data
    assert nn.init.zeros_(t) is t and t.data is array and not t.data.any()
    nn.init.xavier_uniform_(t)
    nn.init.kaiming_uniform_(t)
    assert t.dtype == np.float32 and t.data is array and t.requires_grad


def test_rng_reproducibility():
    a, b = weight(), weight()
    nn.init.kaiming_uniform_(a, rng=np.random.default_rng(7))
    nn.init.kaiming_uniform_(b, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    nn.init.xavier_uniform_(b, rng=np.random.default_rng(8))
    assert not np.array_equal(a.data, b.data)
    nn.manual_seed(3)
    nn.init.xavier_uniform_(a)
    nn.manual_seed(3)
    nn.init.xavier_uniform_(b)
    np.testing.assert_array_equal(a.data, b.data)


def test_bounds_match_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch.empty(300, 200, dtype=torch.float64)
    bound = torch.nn.init.kaiming_uniform_(reference).abs().max().item()
    ours = nn.init.kaiming_uniform_(weight(), rng=np.random.default_rng(0))
    assert abs(np.abs(ours.data).max() - bound) < 0.01 * bound
    bound = torch.nn.init.xavier_uniform_(reference).abs().max().item()
    ours = nn.init.xavier_uniform_(weight(), rng=np.random.default_rng(0))
    assert abs(np.abs(ours.data).max() - bound) < 0.01 * bound


def test_errors():
    with pytest.raises(ValueError, match=r"2 dimensions.*\(5,\)"):
        nn.init.kaiming_uniform_(nn.Parameter(np.zeros(5)))
    with pytest.raises(TypeError, match="Tensor"):
        nn.init.zeros_(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="floating"):
        nn.init.zeros_(Tensor(np.zeros((2, 2), dtype=int)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.init.calculate_gain("swish")
