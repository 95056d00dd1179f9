"""Module API: buffers, add_module, apply, ModuleList, ModuleDict, repr; autograd_lite.nn."""

import copy
import pickle

import numpy as np
import pytest

import autograd_lite
import nn
from autograd_lite import Tensor


class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2))
        self.register_buffer("count", Tensor(np.array(0, dtype=np.int64)))
        self.register_buffer("cache", Tensor(np.zeros(2)), persistent=False)
        self.register_buffer("unset", None)
        self.inner = nn.Linear(2, 2, rng=np.random.default_rng(0))

    def forward(self, x):
        return self.inner(x * self.scale)


# ----- autograd_lite.nn -------------------------------------------------------------------------
def test_autograd_lite_nn_is_the_nn_module():
    assert autograd_lite.nn is nn
    from autograd_lite import nn as imported

    assert imported is nn
    with pytest.raises(AttributeError, match="no_such_thing"):
        autograd_lite.no_such_thing  # noqa: B018


# ----- buffers ----------------------------------------------------------------------------------
def test_buffers_are_saved_after_own_parameters_and_are_not_parameters():
    model = WithBuffers()
    assert list(model.state_dict()) == ["scale", "count", "inner.weight", "inner.bias"]
    assert [name for name, _ in model.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    assert [name for name, _ in model.named_buffers()] == ["count", "cache"]  # None left out
    assert all(b.__class__ is Tensor for b in model.buffers())
    assert model.state_dict()["count"].dtype == np.int64


def test_load_state_dict_fills_buffers_in_place_and_checks_them():
    model = WithBuffers()
    count = model.count
    state = model.state_dict()
    state["count"] = np.array(7.0)  # a whole float loads into the integer buffer
    model.load_state_dict(state)
    assert model.count is count and int(count.data) == 7 and count.dtype == np.int64
    assert count._version == 1
    state["count"] = np.array(7.5)
    with pytest.raises(ValueError, match="'count' is an integer buffer.*fractions"):
        model.load_state_dict(state)
    assert int(count.data) == 7
    del state["count"]
    with pytest.raises(KeyError, match="count"):
        model.load_state_dict(state)
    state["count"] = np.array(0)
    state["cache"] = np.zeros(2)  # non-persistent: not expected
    with pytest.raises(KeyError, match="cache"):
        model.load_state_dict(state)


def test_reassigning_a_buffer_keeps_it_a_buffer_and_only_takes_tensors():
    model = WithBuffers()
    model.unset = Tensor([1.0, 2.0])
    assert "unset" in model.state_dict()
    with pytest.raises(TypeError, match="buffer 'count'.*Tensor"):
        model.count = np.array(3)


def test_register_buffer_errors_name_the_problem():
    model = WithBuffers()
    with pytest.raises(KeyError, match="already exists"):
        model.register_buffer("scale", Tensor([1.0]))
    with pytest.raises(KeyError, match="already exists"):
        model.register_buffer("forward", Tensor([1.0]))
    with pytest.raises(KeyError, match="'a.b'"):
        model.register_buffer("a.b", Tensor([1.0]))
    with pytest.raises(TypeError, match="Tensor"):
        model.register_buffer("arr", np.zeros(2))
    with pytest.raises(TypeError, match="Parameter"):
        model.register_buffer("p", nn.Parameter([1.0]))


def test_buffers_survive_deepcopy_and_pickle():
    model = WithBuffers()
    for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert list(copied.state_dict()) == list(model.state_dict())
        assert copied.count is not model.count
        with pytest.raises(TypeError, match="buffer"):
            copied.count = 3


def test_buffer_state_dict_loads_into_torch_module_with_buffer():
    torch = pytest.importorskip("torch")

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
            self.register_buffer("count", torch.tensor(0))
            self.register_buffer("cache", torch.zeros(2), persistent=False)
            self.inner = torch.nn.Linear(2, 2).double()

    ours, theirs = WithBuffers(), Theirs()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ours.load_state_dict(theirs.state_dict())


# ----- registration, traversal, apply -----------------------------------------------------------
def test_add_module_and_register_parameter_by_name():
    model = nn.Module()
    model.add_module("encoder", nn.Linear(3, 2))
    model.register_parameter("temperature", nn.Parameter([1.0]))
    model.add_module("7", nn.ReLU())
    # PyTorch's order: a module's own parameters, then its children's.
    assert [n for n, _ in model.named_parameters()] == [
        "temperature", "encoder.weight", "encoder.bias"
    ]  # fmt: skip
    assert [n for n, _ in model.named_children()] == ["encoder", "7"]
    assert model.get_submodule("encoder") is model.encoder
    with pytest.raises(TypeError, match="Module"):
        model.add_module("x", nn.ReLU)
    with pytest.raises(KeyError, match="already exists"):
        model.add_module("temperature", nn.ReLU())
    with pytest.raises(TypeError, match="Parameter"):
        model.register_parameter("w", Tensor([1.0], requires_grad=True))
    with pytest.raises(AttributeError, match="decoder"):
        model.get_submodule("decoder")


def test_sequential_add_module_runs_in_forward():
    model = nn.Sequential(nn.Linear(2, 2, rng=np.random.default_rng(0)))
    model.add_module("squash", nn.Tanh())
    assert len(model) == 2 and isinstance(model[1], nn.Tanh)
    assert np.abs(model(np.full((1, 2), 50.0)).data).max() <= 1.0
    model.add_module("squash", nn.Sigmoid())  # replaced where it is
    assert len(model) == 2 and isinstance(model[-1], nn.Sigmoid)


def test_apply_visits_children_before_parents_and_returns_self():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Linear(3, 1)))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Tanh", "Linear", "Sequential", "Sequential"]

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(init)
    assert all(not p.data.any() for n, p in model.named_parameters() if n.endswith("weight"))


def test_modules_and_named_modules_in_pytorchs_order():
    inner = nn.Sequential(nn.Tanh(), nn.Linear(3, 1))
    model = nn.Sequential(nn.Linear(2, 3), inner)
    assert [n for n, _ in model.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    assert [m for m in model.modules()][2] is inner
    assert list(model.children()) == [model[0], inner]


# ----- ModuleList -------------------------------------------------------------------------------
def layers(n=3):
    rng = np.random.default_rng(0)
    return [nn.Linear(2, 2, rng=rng) for _ in range(n)]


def test_module_list_names_and_editing_keep_pytorchs_numbering():
    a, b, c = layers()
    blocks = nn.ModuleList([a, b])
    blocks.append(c)
    assert len(blocks) == 3 and list(blocks) == [a, b, c] and blocks[-1] is c
    assert [n for n, _ in blocks.named_parameters()][:3] == ["0.weight", "0.bias", "1.weight"]
    blocks.insert(0, c)
    assert list(blocks) == [c, a, b, c]
    assert len(list(blocks.parameters())) == 6  # c counted once
    del blocks[0]
    assert list(blocks) == [a, b, c]
    assert list(blocks.state_dict())[-1] == "2.bias"
    assert isinstance(blocks[1:], nn.ModuleList) and list(blocks[1:]) == [b, c]
    blocks[1] = nn.Tanh()
    assert isinstance(blocks[1], nn.Tanh)
    blocks += [nn.ReLU()]
    assert len(blocks) == 4
    with pytest.raises(IndexError, match="out of range"):
        blocks[4]
    with pytest.raises(TypeError, match="nn.Module"):
        blocks.append(lambda x: x)
    with pytest.raises(NotImplementedError, match="ModuleList"):
        blocks(np.ones(2))


def test_module_list_inside_a_model_trains():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(layers())

        def forward(self, x):
            for block in self.blocks:
                x = block(x).tanh()
            return x

    net = Net()
    assert list(net.state_dict())[:2] == ["blocks.0.weight", "blocks.0.bias"]
    net(np.ones((4, 2))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


# ----- ModuleDict -------------------------------------------------------------------------------
def test_module_dict_by_key_in_insertion_order():
    a, b, c = layers()
    heads = nn.ModuleDict({"cls": a, "box": b})
    heads["aux"] = c
    assert heads.keys() == ["cls", "box", "aux"] and list(heads) == ["cls", "box", "aux"]
    assert heads["box"] is b and "aux" in heads and len(heads) == 3
    assert list(heads.state_dict())[::2] == ["cls.weight", "box.weight", "aux.weight"]
    assert heads.pop("cls") is a and heads.keys() == ["box", "aux"]
    heads.update([("cls", a)])
    assert heads.keys() == ["box", "aux", "cls"]
    assert [k for k, _ in heads.items()] == heads.keys() and heads.values()[2] is a
    with pytest.raises(KeyError, match="'nope'.*box"):
        heads["nope"]
    with pytest.raises(KeyError, match="already exists"):
        heads["training"] = nn.ReLU()
    with pytest.raises(KeyError, match="already exists"):
        heads["keys"] = nn.ReLU()
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


# ----- repr ------------------------------------------------------------------------------------
def nested(ns):
    return ns.Sequential(
        ns.Linear(4, 8),
        ns.LayerNorm(8),
        ns.Dropout(0.25),
        ns.ModuleList([ns.Linear(8, 8), ns.Linear(8, 8), ns.ReLU()]),
        ns.BatchNorm1d(8, momentum=None),
        ns.Embedding(10, 3, padding_idx=0),
        ns.Flatten(),
        ns.Identity(),
        ns.Softmax(dim=1),
        ns.LogSoftmax(dim=-1),
    )


def test_repr_is_nested_and_readable():
    text = repr(nested(nn))
    assert text.startswith("Sequential(\n  (0): Linear(in_features=4, out_features=8, bias=True)\n")
    run = "  (3): ModuleList(\n    (0-1): 2 x Linear(in_features=8, out_features=8, bias=True)\n"
    assert run in text
    assert "(2): Dropout(p=0.25, inplace=False)" in text
    assert "(5): Embedding(10, 3, padding_idx=0)" in text
    assert repr(nn.ModuleList()) == "ModuleList()"

    class Custom(nn.Module):
        def extra_repr(self):
            return "first\nsecond"

    assert repr(Custom()) == "Custom(\n  first\n  second\n)"


def test_repr_equals_pytorchs():
    torch = pytest.importorskip("torch")
    assert repr(nested(nn)) == repr(nested(torch.nn))
    assert repr(nn.ModuleDict({"a": nn.ReLU()})) == repr(
        torch.nn.ModuleDict({"a": torch.nn.ReLU()})
    )
