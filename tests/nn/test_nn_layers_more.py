"""Dropout, LayerNorm, BatchNorm1d, Embedding, Flatten, Identity, Softmax, LogSoftmax: formulas
written here in NumPy, central differences, and PyTorch where installed (1e-10, float64)."""

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd_lite import Tensor, gradcheck, gradgradcheck


# ----- Dropout ----------------------------------------------------------------------------------
def test_dropout_zeroes_with_probability_p_and_scales_the_rest():
    p, n = 0.3, 20_000
    x = Tensor(np.linspace(1.0, 2.0, n), requires_grad=True)
    y = nn.Dropout(p, rng=np.random.default_rng(0))(x)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], x.data[kept] / (1 - p), rtol=1e-15)
    # The kept share is binomial(n, 1 - p): within 5 standard deviations.
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / (1 - p), rtol=1e-15)


def test_dropout_is_identity_in_eval_mode_and_at_p_0():
    x = Tensor(np.ones((4, 5)))
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert F.dropout(x, 0.9, training=False) is x
    model = nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.5))
    model.eval()
    np.testing.assert_array_equal(model(x).data, model[0](x).data)


def test_dropout_p_1_drops_everything_with_zero_gradient():
    x = Tensor(np.ones(6), requires_grad=True)
    y = F.dropout(x, 1.0)
    y.sum().backward()
    assert not y.data.any() and not x.grad.any()


def test_dropout_masks_repeat_with_the_same_seed():
    x = Tensor(np.ones(50))
    nn.manual_seed(7)
    first = nn.Dropout(0.5)(x).data
    nn.manual_seed(7)
    again = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(first, again)
    a = nn.Dropout(0.5, rng=np.random.default_rng(3))(x).data
    b = nn.Dropout(0.5, rng=np.random.default_rng(3))(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nn.Dropout(0.5, rng=np.random.default_rng(4))(x).data)


def test_dropout_keeps_float32_and_refuses_bad_options():
    x = Tensor(np.ones(8, np.float32), requires_grad=True)
    y = nn.Dropout(0.25)(x)
    assert y.dtype == np.float32
    for p in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]"):
            nn.Dropout(p)
    with pytest.raises(ValueError, match="inplace=True is not supported"):
        nn.Dropout(0.5, inplace=True)


# ----- LayerNorm --------------------------------------------------------------------------------
def layer_norm_by_hand(x, k, weight, bias, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


@pytest.mark.parametrize(("shape", "normalized"), [((4, 6), 6), ((2, 3, 4, 5), (4, 5))])
def test_layer_norm_formula_and_gradients(shape, normalized):
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape) * 3 + 2
    layer = nn.LayerNorm(normalized)
    k = 1 if isinstance(normalized, int) else len(normalized)
    w, b = rng.normal(size=shape[-k:]), rng.normal(size=shape[-k:])
    layer.load_state_dict({"weight": w, "bias": b})
    np.testing.assert_allclose(layer(x).data, layer_norm_by_hand(x, k, w, b), rtol=1e-12)
    inputs = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(lambda a, ww, bb: F.layer_norm(a, normalized, ww, bb), *inputs)
    # Cubed, so that the second derivative is not the trivially zero one of a linear output.
    small = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    assert gradgradcheck(lambda a: F.layer_norm(a, 3) ** 3, small)


def test_layer_norm_options_and_errors():
    assert list(nn.LayerNorm(3, elementwise_affine=False).state_dict()) == []
    assert list(nn.LayerNorm(3, bias=False).state_dict()) == ["weight"]
    assert nn.LayerNorm((2, 3)).weight.shape == (2, 3)
    assert nn.LayerNorm(3, dtype=np.float32)(np.ones((2, 3))).dtype == np.float32
    with pytest.raises(ValueError, match=r"last 1 dimension\(s\) must be .*\(3,\).*\(2, 4\)"):
        nn.LayerNorm(3)(Tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match="eps must be a number > 0"):
        nn.LayerNorm(3, eps=0)


# ----- BatchNorm1d ------------------------------------------------------------------------------
def batch_norm_run(shape, momentum, steps=3, seed=2):
    """(outputs, running_mean, running_var) by hand over ``steps`` training batches."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    axes = (0, *range(2, len(shape)))
    mean_r, var_r, outputs, batches = np.zeros(c), np.ones(c), [], []
    for step in range(1, steps + 1):
        x = rng.normal(size=shape) * 3 + 1
        n = x.size // c
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        stats = (1, c) + (1,) * (len(shape) - 2)
        outputs.append((x - mean.reshape(stats)) / np.sqrt(var.reshape(stats) + 1e-5))
        factor = 1 / step if momentum is None else momentum
        mean_r = (1 - factor) * mean_r + factor * mean
        var_r = (1 - factor) * var_r + factor * var * n / (n - 1)
        batches.append(x)
    return batches, outputs, mean_r, var_r


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_training_and_running_statistics_by_hand(shape, momentum):
    layer = nn.BatchNorm1d(3, momentum=momentum)
    batches, outputs, mean_r, var_r = batch_norm_run(shape, momentum)
    for x, expected in zip(batches, outputs, strict=True):
        np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.running_mean.data, mean_r, rtol=1e-13)
    np.testing.assert_allclose(layer.running_var.data, var_r, rtol=1e-13)
    assert int(layer.num_batches_tracked.data) == 3
    layer.eval()
    x = np.random.default_rng(5).normal(size=shape)
    stats = (1, 3) + (1,) * (len(shape) - 2)
    by_running = (x - mean_r.reshape(stats)) / np.sqrt(var_r.reshape(stats) + 1e-5)
    np.testing.assert_allclose(layer(x).data, by_running, rtol=1e-12)
    assert int(layer.num_batches_tracked.data) == 3  # eval does not count


def test_batch_norm_gradients_flow_through_the_batch_statistics():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3)
    inputs = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(lambda a, ww, bb: F.batch_norm(a, None, None, ww, bb, training=True), *inputs)
    assert gradgradcheck(lambda a: F.batch_norm(a, None, None, training=True) ** 3, inputs[0])
    # Through normalised outputs the gradient of a sum is 0: the mean is subtracted.
    a = Tensor(x, requires_grad=True)
    F.batch_norm(a, None, None, training=True).sum().backward()
    np.testing.assert_allclose(a.grad, 0.0, atol=1e-14)


def test_batch_norm_buffers_state_dict_and_modes():
    layer = nn.BatchNorm1d(4)
    assert list(layer.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    ]  # fmt: skip
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.state_dict()["num_batches_tracked"].dtype == np.int64
    versions = layer.running_mean._version
    layer(np.random.default_rng(0).normal(size=(6, 4)))
    assert layer.running_mean._version > versions  # changed in place through the library
    layer.reset_running_stats()
    assert not layer.running_mean.data.any() and (layer.running_var.data == 1).all()
    free = nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert list(free.state_dict()) == [] and list(free.buffers()) == []
    x = np.random.default_rng(1).normal(size=(6, 4)) * 5
    np.testing.assert_allclose(free.eval()(x).data, free.train()(x).data)  # batch stats in both
    assert list(nn.BatchNorm1d(2, bias=False).state_dict())[:2] == ["weight", "running_mean"]


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(np.ones((1, 3)))
    nn.BatchNorm1d(3).eval()(np.ones((1, 3)))  # fine with running statistics
    with pytest.raises(ValueError, match=r"\(N, 3\) or \(N, 3, L\); got shape \(4, 2\)"):
        nn.BatchNorm1d(3)(np.ones((4, 2)))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=2.0)


# ----- Embedding --------------------------------------------------------------------------------
def test_embedding_lookup_and_gradient_adds_repeated_rows():
    table = nn.Embedding(5, 3, rng=np.random.default_rng(0))
    idx = np.array([[0, 2, 2], [4, 2, 0]])
    out = table(idx)
    np.testing.assert_array_equal(out.data, table.weight.data[idx])
    g = np.random.default_rng(1).normal(size=out.shape)
    (out * g).sum().backward()
    expected = np.zeros((5, 3))
    np.add.at(expected, idx, g)
    np.testing.assert_allclose(table.weight.grad, expected, rtol=1e-15)
    assert table(Tensor(np.array([1, 3]))).shape == (2, 3)  # integer Tensors work too


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    table = nn.Embedding(4, 2, padding_idx=-1)
    assert table.padding_idx == 3 and not table.weight.data[3].any()
    assert table.weight.data[:3].any()
    table(np.array([3, 1, 3])).sum().backward()
    np.testing.assert_array_equal(table.weight.grad, [[0, 0], [1, 1], [0, 0], [0, 0]])
    first = nn.Embedding(1000, 4, rng=np.random.default_rng(2)).weight.data
    assert abs(first.mean()) < 0.1 and abs(first.std() - 1) < 0.05  # N(0, 1), as PyTorch


def test_normal_and_constant_initialisers_fill_in_place():
    t = nn.Parameter(np.zeros((200, 50)))
    array, version = t.data, t._version
    assert nn.init.normal_(t, 2.0, 0.5, rng=np.random.default_rng(0)) is t
    assert t.data is array and t._version == version + 1
    assert abs(t.data.mean() - 2.0) < 0.01 and abs(t.data.std() - 0.5) < 0.01
    again = nn.init.normal_(nn.Parameter(np.zeros((200, 50))), 2.0, 0.5, np.random.default_rng(0))
    np.testing.assert_array_equal(again.data, t.data)
    nn.init.constant_(t, 0.25)
    assert (t.data == 0.25).all()
    with pytest.raises(ValueError, match="std >= 0"):
        nn.init.normal_(t, std=-1.0)


def test_embedding_errors():
    table = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"\[0, 4\).*\[4, -1\]"):
        table(np.array([0, 4, -1]))
    with pytest.raises(TypeError, match="integers"):
        table(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)


# ----- Flatten, Identity, Softmax, LogSoftmax ---------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "shape"), [(1, -1, (2, 12)), (0, 1, (6, 4)), (1, 1, (2, 3, 4))]
)
def test_flatten_merges_the_named_axes(start, end, shape):
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = nn.Flatten(start, end)(x)
    assert y.shape == shape
    np.testing.assert_array_equal(y.data.ravel(), np.arange(24.0))
    y.sum().backward()
    assert x.grad.shape == (2, 3, 4) and (x.grad == 1).all()


def test_flatten_identity_softmax_logsoftmax_details():
    with pytest.raises(ValueError, match="does not fit"):
        nn.Flatten(2, 1)(Tensor(np.ones((2, 3, 4))))
    x = Tensor(np.random.default_rng(0).normal(size=(3, 4)))
    assert nn.Identity(54, unused="x")(x) is x
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).data, F.softmax(x, dim=0).data)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).data.sum(), F.log_softmax(x).data.sum())
    np.testing.assert_allclose(np.exp(nn.LogSoftmax(1)(x).data).sum(axis=1), 1.0, rtol=1e-15)
    with pytest.raises(TypeError, match=r"dim=-1"):
        nn.Softmax()


# ----- PyTorch ----------------------------------------------------------------------------------
def compare(ours, theirs, x, rng):
    import torch

    a = Tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    out_a, out_b = ours(a), theirs(b)
    np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=out_a.shape)
    (out_a * g).sum().backward()
    (out_b * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, theirs_params[name].grad.numpy(), atol=1e-10)


def test_layers_match_torch_values_gradients_and_state_dicts():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    pairs = [
        (nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4)), (2, 5, 3, 4)),
        (nn.Flatten(), torch.nn.Flatten(), (2, 3, 4)),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1), (3, 5)),
        (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0), (3, 5)),
        (nn.Identity(), torch.nn.Identity(), (3,)),
    ]
    for ours, theirs, shape in pairs:
        theirs = theirs.double()
        for p in theirs.parameters():
            torch.nn.init.normal_(p)
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        compare(ours, theirs, rng.normal(size=shape), rng)
    for shape in [(6, 3), (4, 3, 5)]:
        for momentum in (0.1, None):
            ours, theirs = nn.BatchNorm1d(3, momentum=momentum), torch.nn.BatchNorm1d(3).double()
            theirs.momentum = momentum
            for _ in range(3):
                compare(ours, theirs, rng.normal(size=shape) * 2 + 1, rng)
            for key, value in theirs.state_dict().items():
                np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12)
            ours.eval(), theirs.eval()
            compare(ours, theirs, rng.normal(size=shape), rng)
            fresh = torch.nn.BatchNorm1d(3).double()
            fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
            assert int(fresh.num_batches_tracked) == 3
    ours, theirs = nn.Embedding(6, 3, padding_idx=2), torch.nn.Embedding(6, 3, padding_idx=2)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.double().state_dict().items()})
    idx = np.array([[0, 2, 5], [5, 5, 1]])
    out_a, out_b = ours(idx), theirs(torch.from_numpy(idx))
    np.testing.assert_array_equal(out_a.data, out_b.detach().numpy())
    g = rng.normal(size=out_a.shape)
    (out_a * g).sum().backward()
    (out_b * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-15)
