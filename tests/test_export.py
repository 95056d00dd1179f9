"""nn.to_torch / nn.from_torch: every layer crosses to PyTorch and back, computing the same numbers.

Each example below builds a layer with non-default options where it has any (so that an option
lost on the way is caught) and random weights, then checks, in float64: the PyTorch module is the
same class with the same options and state dict, gives the same output to 1e-12 (in train and eval
mode where the two differ), and ``from_torch`` brings back the same layer. The tests that need
torch are skipped with the reason where it is absent; the coverage checks run without it.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nn
from autograd_lite import Tensor
from nn import export

TOL = 1e-12
TORCH_MISSING = "PyTorch is not installed (make torch, or pip install -e '.[torch]')"


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason=TORCH_MISSING)


def floats(*shape: int, low: float = -2.0, high: float = 2.0) -> Callable[[Any], np.ndarray]:
    return lambda rng: rng.uniform(low, high, size=shape)


def ints(high: int, *shape: int) -> Callable[[Any], np.ndarray]:
    return lambda rng: rng.integers(0, high, size=shape)


ACT = (floats(4, 5, low=-4.0, high=4.0),)  # past every activation's kinks (Hardsigmoid: ±3)
CLASS_WEIGHTS = np.array([0.5, 1.0, 2.0, 1.5, 0.8])

# name -> (a layer, its inputs); every converter must have one (test_every_converter_is_exercised)
EXAMPLES: dict[str, tuple[Callable[[], nn.Module], tuple[Callable[[Any], np.ndarray], ...]]] = {
    "Linear": (lambda: nn.Linear(5, 3), (floats(4, 5),)),
    "Linear-no-bias": (lambda: nn.Linear(5, 3, bias=False), (floats(4, 5),)),
    "Embedding": (lambda: nn.Embedding(10, 3, padding_idx=2), (ints(10, 4, 3),)),
    "LayerNorm": (lambda: nn.LayerNorm((3, 4), eps=1e-3), (floats(2, 5, 3, 4),)),
    "LayerNorm-no-bias": (lambda: nn.LayerNorm(4, bias=False), (floats(3, 4),)),
    "LayerNorm-no-affine": (lambda: nn.LayerNorm(4, elementwise_affine=False), (floats(3, 4),)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3, eps=1e-3, momentum=0.3), (floats(6, 3),)),
    "BatchNorm1d-3d-cumulative": (lambda: nn.BatchNorm1d(3, momentum=None), (floats(4, 3, 5),)),
    "BatchNorm1d-no-stats": (
        lambda: nn.BatchNorm1d(3, affine=False, track_running_stats=False),
        (floats(6, 3),),
    ),
    "Dropout": (lambda: nn.Dropout(0.3), (floats(6, 5),)),
    "Identity": (lambda: nn.Identity(), (floats(4, 5),)),
    "Flatten": (lambda: nn.Flatten(1, 2), (floats(2, 3, 4, 2),)),
    "Sigmoid": (lambda: nn.Sigmoid(), ACT),
    "Tanh": (lambda: nn.Tanh(), ACT),
    "ReLU": (lambda: nn.ReLU(), ACT),
    "ReLU6": (lambda: nn.ReLU6(), (floats(4, 5, low=-8.0, high=8.0),)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), ACT),
    "ELU": (lambda: nn.ELU(alpha=0.5), ACT),
    "CELU": (lambda: nn.CELU(alpha=0.7), ACT),
    "SELU": (lambda: nn.SELU(), ACT),
    "GELU": (lambda: nn.GELU(approximate="tanh"), ACT),
    "GELU-exact": (lambda: nn.GELU(), ACT),
    "SiLU": (lambda: nn.SiLU(), ACT),
    "Mish": (lambda: nn.Mish(), ACT),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=3.0), ACT),
    "Softsign": (lambda: nn.Softsign(), ACT),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 1.5), ACT),
    "Hardsigmoid": (lambda: nn.Hardsigmoid(), ACT),
    "Hardswish": (lambda: nn.Hardswish(), ACT),
    "LogSigmoid": (lambda: nn.LogSigmoid(), ACT),
    "Softmax": (lambda: nn.Softmax(dim=0), (floats(4, 5),)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), (floats(4, 5),)),
    "MSELoss": (lambda: nn.MSELoss(reduction="sum"), (floats(4, 3), floats(4, 3))),
    "L1Loss": (lambda: nn.L1Loss(reduction="sum"), (floats(4, 3), floats(4, 3))),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(beta=0.5), (floats(4, 3), floats(4, 3))),
    "HuberLoss": (lambda: nn.HuberLoss(delta=0.7), (floats(4, 3), floats(4, 3))),
    "BCELoss": (
        lambda: nn.BCELoss(weight=CLASS_WEIGHTS[:3], reduction="sum"),
        (floats(4, 3, low=0.01, high=0.99), floats(4, 3, low=0.0, high=1.0)),
    ),
    "BCEWithLogitsLoss": (
        lambda: nn.BCEWithLogitsLoss(CLASS_WEIGHTS[:3], pos_weight=CLASS_WEIGHTS[2:]),
        (floats(4, 3), floats(4, 3, low=0.0, high=1.0)),
    ),
    "NLLLoss": (lambda: nn.NLLLoss(CLASS_WEIGHTS, ignore_index=1), (floats(8, 5), ints(5, 8))),
    "CrossEntropyLoss": (
        lambda: nn.CrossEntropyLoss(CLASS_WEIGHTS, ignore_index=1, label_smoothing=0.1),
        (floats(8, 5), ints(5, 8)),
    ),
}


def example_names() -> list[str]:
    return [name for name in EXAMPLES if hasattr(nn, name.split("-")[0])]


def exported_module_classes() -> dict[str, type]:
    """Every Module subclass that nn exports (found by walking the package, not the table)."""
    found = {}
    for name in dir(nn):
        value = getattr(nn, name)
        if isinstance(value, type) and issubclass(value, nn.Module) and value is not nn.Module:
            found[name] = value
    return found


# ----- coverage: runs without torch ----------------------------------------------------------
def test_every_module_class_nn_exports_has_a_converter():
    table = export._our_table()
    containers = set(export._CONTAINERS)
    missing = [
        name
        for name, cls in exported_module_classes().items()
        if cls not in table and name not in containers
    ]
    assert not missing, (
        f"nn exports {missing} without a PyTorch converter: add a line to nn.export.CONVERTERS "
        f"(and an example to tests/test_export.py)"
    )
    assert len(exported_module_classes()) >= 10


def test_every_converter_names_a_class_nn_has_and_is_exercised():
    for spec in export.CONVERTERS:
        assert hasattr(nn, spec.name), f"nn.export.CONVERTERS names nn.{spec.name}, which is gone"
        assert spec.name in EXAMPLES, f"no round-trip example for {spec.name} in test_export.py"


def test_without_torch_both_functions_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ImportError, match=r"needs PyTorch.*\[torch\] extra"):
        nn.to_torch(nn.Linear(2, 2))
    with pytest.raises(ImportError, match=r"needs PyTorch.*\[torch\] extra"):
        nn.from_torch(object())


def test_nn_does_not_import_torch():
    import subprocess

    code = "import nn, sys; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# ----- every layer, both ways ------------------------------------------------------------------
def call_ours(module: nn.Module, arrays: list[np.ndarray]) -> np.ndarray:
    args = [a if a.dtype.kind == "i" else Tensor(a) for a in arrays]
    return np.asarray(module(*args).data)


def call_theirs(torch: Any, module: Any, arrays: list[np.ndarray]) -> np.ndarray:
    return module(*[torch.from_numpy(a) for a in arrays]).detach().numpy()


def assert_same_state(ours: nn.Module, theirs: Any, atol: float = 0.0) -> None:
    """Same keys in the same order, same kinds of numbers, values equal (exactly by default)."""
    mine, other = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(other)
    for key, value in mine.items():
        assert str(other[key].dtype) == f"torch.{value.dtype}", key
        np.testing.assert_allclose(value, other[key].numpy(), rtol=0, atol=atol, err_msg=key)


@pytest.mark.parametrize("name", example_names())
def test_round_trip_computes_the_same(torch, name):
    rng = np.random.default_rng(sum(map(ord, name)))
    make, input_makers = EXAMPLES[name]
    ours = make()
    # Random values, not the initial ones (ones, zeros): a weight or statistic lost is caught.
    for tensor in [*ours.parameters(), *ours.buffers()]:
        if tensor.dtype.kind == "f":
            tensor.data[...] = rng.uniform(0.5, 1.5, size=tensor.shape)
    arrays = [make_input(rng) for make_input in input_makers]

    theirs = nn.to_torch(ours)
    assert type(theirs) is getattr(torch.nn, type(ours).__name__)
    assert_same_state(ours, theirs)
    back = nn.from_torch(theirs)
    assert type(back) is type(ours) and repr(back) == repr(ours)
    assert_same_state(back, theirs)
    for mode in ("train", "eval"):  # BatchNorm: batch statistics, then the running ones
        for module in (ours, theirs, back):
            getattr(module, mode)()
        if mode == "train" and name == "Dropout":
            continue  # random masks: test_dropout_modes
        expected = call_theirs(torch, theirs, arrays)
        np.testing.assert_allclose(call_ours(ours, arrays), expected, rtol=0, atol=TOL)
        np.testing.assert_allclose(call_ours(back, arrays), expected, rtol=0, atol=TOL)
        for module in (ours, back):  # running statistics move alike in train mode
            assert_same_state(module, theirs, atol=TOL)


def test_dropout_modes(torch):
    ours = nn.Dropout(0.25)
    theirs = nn.to_torch(ours)
    assert theirs.p == 0.25 and theirs.training
    x = np.random.default_rng(0).uniform(1, 2, size=(200, 50))
    kept = call_theirs(torch, theirs, [x])
    # inverted dropout in both: each element is 0 or x / (1 - p); about p of them dropped
    assert np.all((kept == 0) | np.isclose(kept, x / 0.75, rtol=0, atol=TOL))
    assert 0.2 < np.mean(kept == 0) < 0.3
    ours.eval()
    assert not nn.to_torch(ours).training and not nn.from_torch(nn.to_torch(ours)).training


# ----- models -------------------------------------------------------------------------------
def mlp(rng: np.random.Generator) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(4, 8, rng=rng), nn.Tanh(), nn.Linear(8, 3, rng=rng), nn.LogSoftmax(dim=1)
    )


def test_a_model_trained_here_keeps_training_the_same_in_torch(torch):
    """Three SGD steps here, or the same three steps in PyTorch after export: same weights."""
    rng = np.random.default_rng(1)
    x, labels = rng.normal(size=(16, 4)), rng.integers(0, 3, size=16)
    model = mlp(rng)
    exported = nn.to_torch(model)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch_opt = torch.optim.SGD(exported.parameters(), lr=0.1, momentum=0.9)
    loss_fn, torch_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for _ in range(3):
        opt.zero_grad()
        loss = loss_fn(model(Tensor(x)), labels)
        loss.backward()
        opt.step()
        torch_opt.zero_grad()
        torch_loss = torch_loss_fn(exported(torch.from_numpy(x)), torch.from_numpy(labels))
        torch_loss.backward()
        torch_opt.step()
        assert abs(loss.item() - torch_loss.item()) < TOL
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, exported.state_dict()[key].numpy(), rtol=0, atol=TOL)


def test_names_sharing_and_mode_of_every_module_are_kept(torch):
    shared = nn.Linear(3, 3)
    model = nn.Sequential(OrderedDict([("first", shared), ("act", nn.ReLU()), ("again", shared)]))
    model.eval()
    model.act.train()
    theirs = nn.to_torch(model)
    assert [name for name, _ in theirs.named_children()] == ["first", "act"]
    assert theirs.first is theirs.again  # shared stays shared (torch lists it once too)
    assert list(theirs.state_dict()) == list(model.state_dict())
    assert [m.training for m in theirs.modules()] == [False, False, True]
    back = nn.from_torch(theirs)
    assert back.first is back.again and list(back.state_dict()) == list(model.state_dict())
    assert [m.training for m in back.modules()] == [False, False, True]
    x = np.random.default_rng(2).normal(size=(5, 3))
    expected = call_theirs(torch, theirs, [x])
    np.testing.assert_allclose(call_ours(model, [x]), expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(call_ours(back, [x]), expected, rtol=0, atol=TOL)


def test_containers_cross_with_their_entries(torch):
    if not hasattr(nn, "ModuleDict"):
        pytest.skip("nn has no ModuleDict yet")
    model = nn.ModuleDict(
        {
            "body": nn.ModuleList([nn.Linear(2, 3), nn.Tanh()]),
            "head": nn.Sequential(nn.Linear(3, 1)),
        }
    )
    theirs = nn.to_torch(model)
    assert isinstance(theirs, torch.nn.ModuleDict) and isinstance(theirs.body, torch.nn.ModuleList)
    assert_same_state(model, theirs)
    back = nn.from_torch(theirs)
    assert type(back) is nn.ModuleDict and type(back["body"]) is nn.ModuleList
    assert repr(back) == repr(model)
    assert_same_state(back, theirs)


def test_the_copies_are_independent_and_float32_stays_float32(torch):
    ours = nn.Linear(3, 2, dtype=np.float32)
    theirs = nn.to_torch(ours)
    assert theirs.weight.dtype == torch.float32
    before = ours.weight.data.copy()
    with torch.no_grad():
        theirs.weight.add_(1.0)
    np.testing.assert_array_equal(ours.weight.data, before)
    back = nn.from_torch(theirs)
    assert back.weight.dtype == np.float32
    np.testing.assert_array_equal(back.weight.data, before + 1)


def test_conversion_leaves_both_seed_streams_alone(torch):
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    torch.manual_seed(7)
    expected_torch = torch.rand(3)
    nn.manual_seed(7)
    expected_nn = nn.init._default_rng.random(3)
    torch.manual_seed(7)
    nn.manual_seed(7)
    nn.from_torch(nn.to_torch(model))
    assert torch.equal(torch.rand(3), expected_torch)
    np.testing.assert_array_equal(nn.init._default_rng.random(3), expected_nn)


# ----- refusals -----------------------------------------------------------------------------
class TwoLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(x).relu()


def test_to_torch_names_the_first_module_it_cannot_convert(torch):
    with pytest.raises(ValueError, match=r"TwoLayers at '1' has no PyTorch converter"):
        nn.to_torch(nn.Sequential(nn.Linear(2, 2), TwoLayers()))
    with pytest.raises(ValueError, match=r"TwoLayers at the top level .*load the state dict"):
        nn.to_torch(TwoLayers())
    with pytest.raises(TypeError, match="expects an nn.Module; got Linear"):
        nn.to_torch(torch.nn.Linear(2, 2))


def test_from_torch_names_the_first_layer_nn_lacks(torch):
    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Conv1d(1, 1, 3))
    with pytest.raises(ValueError, match=r"torch\.nn\.modules\.conv\.Conv1d at '1' has no count"):
        nn.from_torch(module)
    with pytest.raises(TypeError, match="expects a torch.nn.Module; got Linear"):
        nn.from_torch(nn.Linear(2, 2))


def test_from_torch_refuses_options_nn_does_not_have(torch):
    with pytest.raises(ValueError, match=r"Embedding at the top level .* max_norm=1\.0"):
        nn.from_torch(torch.nn.Embedding(4, 2, max_norm=1.0))
    with pytest.raises(ValueError, match=r"Linear at '0' holds float16 values.*module\.double\(\)"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2).half()))


def test_a_layer_torch_cannot_build_is_named(torch, monkeypatch):
    broken = export.Converter("Tanh", (("bogus_option", lambda module: 1),))
    others = [spec for spec in export.CONVERTERS if spec.name != "Tanh"]
    monkeypatch.setattr(export, "CONVERTERS", (*others, broken))
    with pytest.raises(ValueError, match=r"to_torch: Tanh at '1' could not be converted: .*bogus"):
        nn.to_torch(nn.Sequential(nn.Linear(2, 2), nn.Tanh()))
