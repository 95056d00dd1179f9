"""nn.Module, Parameter and Sequential: discovery, naming, modes, state dicts."""

import numpy as np
import pytest

import nn
from autograd_lite import Tensor


def mlp(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 4, rng=rng), nn.Tanh(), nn.Linear(4, 1, rng=rng), nn.Sigmoid()
    )


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4))
        self.blocks = [nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2, bias=False)]
        self.heads = {"a": nn.Linear(2, 1), "b": nn.Linear(2, 1)}
        self.not_a_parameter = Tensor(np.ones(2), requires_grad=True)

    def forward(self, x):
        h = self.hidden(x) * self.scale
        for block in self.blocks:
            h = block(h)
        return self.heads["a"](h) + self.heads["b"](h)


def test_parameter_is_a_float_tensor_requiring_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert nn.Parameter(np.zeros(2, dtype=np.float32)).dtype == np.float32
    with pytest.raises(TypeError):
        nn.Parameter(np.array([1, 2]))
    source = np.zeros(3)
    nn.Parameter(source).data += 1  # Parameter copies, like Tensor
    assert not source.any()


def test_sequential_names_like_pytorch():
    names = [name for name, _ in mlp().named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_names_through_attributes_lists_and_dicts():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "scale",  # own parameters first, then each sub-module's, as PyTorch lists them
        "hidden.weight",
        "hidden.bias",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.2.weight",
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "heads.b.bias",
    ]
    params = list(net.parameters())
    assert all(isinstance(p, nn.Parameter) for p in params)
    assert not any(p is net.not_a_parameter for p in params)
    assert [name for name, _ in net.named_children()] == [
        "hidden", "blocks.0", "blocks.1", "blocks.2", "heads.a", "heads.b"
    ]  # fmt: skip
    assert len(list(net.modules())) == 7
    assert net(np.ones((5, 3))).shape == (5, 1)


def test_shared_parameters_listed_once_but_saved_under_each_name():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    model.load_state_dict(model.state_dict())


def test_a_cycle_does_not_recurse_forever():
    model = mlp()
    model[0].owner = model  # a back-reference, not a child
    assert len(list(model.modules())) == 5
    assert len(list(model.parameters())) == 4


def test_zero_grad_sets_none():
    model = mlp()
    model(np.ones((3, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_call_runs_forward_and_base_forward_raises():
    model = mlp()
    x = np.random.default_rng(1).normal(size=(3, 2))
    assert np.array_equal(model(x).data, model.forward(x).data)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


def test_train_eval_recursive_and_return_self():
    model = Net()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())


def test_subclass_without_super_init_still_works():
    class Bare(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    bare = Bare()
    assert bare.training and len(list(bare.parameters())) == 2


def test_sequential_indexing_len_iteration():
    model = mlp()
    assert len(model) == 4
    assert isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.Sigmoid)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    x = np.ones((2, 2))
    np.testing.assert_array_equal(model[2:](head(x)).data, model(x).data)
    with pytest.raises(IndexError, match="out of range"):
        model[4]
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.Linear(1, 1), nn.Tanh)


def test_repr_like_pytorch():
    assert repr(mlp()) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=4, bias=True)\n"
        "  (1): Tanh()\n"
        "  (2): Linear(in_features=4, out_features=1, bias=True)\n"
        "  (3): Sigmoid()\n"
        ")"
    )
    torch = pytest.importorskip("torch")
    reference = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1), torch.nn.Sigmoid()
    )
    assert repr(mlp()) == repr(reference)


def test_state_dict_is_ordered_copy():
    model = mlp()
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["0.weight"][...] = 7.0
    assert not np.any(model[0].weight.data == 7.0)


def test_load_state_dict_copies_in_place():
    source, target = mlp(1), mlp(2)
    weight = target[0].weight
    target.load_state_dict(source.state_dict())
    assert target[0].weight is weight  # same Parameter: an optimizer holding it keeps working
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


def assert_unchanged(model, before):
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_load_state_dict_missing_key_names_it_and_changes_nothing():
    model = mlp(1)
    before = model.state_dict()
    state = mlp(2).state_dict()
    del state["2.bias"]
    with pytest.raises(KeyError, match=r"2\.bias"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_load_state_dict_unexpected_key_names_it_and_changes_nothing():
    model = mlp(1)
    before = model.state_dict()
    state = mlp(2).state_dict()
    state["4.weight"] = np.zeros((1, 1))
    with pytest.raises(KeyError, match=r"4\.weight"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_load_state_dict_shape_mismatch_names_key_and_shapes_and_changes_nothing():
    model = mlp(1)
    before = model.state_dict()
    state = mlp(2).state_dict()
    state["2.weight"] = np.zeros((4, 1))  # the only bad entry comes after good ones
    with pytest.raises(ValueError, match=r"'2\.weight'.*\(4, 1\).*\(1, 4\)"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_load_state_dict_non_strict_reports_keys():
    model = mlp(1)
    state = mlp(2).state_dict()
    del state["0.bias"]
    state["extra"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model[0].weight.data, state["0.weight"])


def test_load_state_dict_casts_to_parameter_dtype():
    model = nn.Linear(2, 1, dtype=np.float32)
    model.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.array([3])})
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.bias.data, [3.0])
    model.load_state_dict({"weight": nn.Parameter([[5.0, 6.0]]), "bias": Tensor([7.0])})
    np.testing.assert_array_equal(model.weight.data, [[5.0, 6.0]])
    with pytest.raises(TypeError, match="weight"):
        model.load_state_dict({"weight": np.array([["a", "b"]]), "bias": np.zeros(1)})
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([np.zeros((1, 2)), np.zeros(1)])
