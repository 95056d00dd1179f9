"""nn.save / nn.load, and state dicts crossing to and from PyTorch."""

import zipfile

import numpy as np
import pytest

import nn


def mlp(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 4, rng=rng, dtype=dtype), nn.Tanh(),
        nn.Linear(4, 1, rng=rng, dtype=dtype), nn.Sigmoid(),
    )  # fmt: skip


def test_round_trip_keeps_order_values_and_dtype(tmp_path):
    for dtype in (np.float64, np.float32):
        state = mlp(dtype=dtype).state_dict()
        path = tmp_path / "model.npz"
        assert nn.save(state, path) is None
        loaded = nn.load(path)
        assert list(loaded) == list(state)
        for key in state:
            assert loaded[key].dtype == dtype
            np.testing.assert_array_equal(loaded[key], state[key])
        other = mlp(seed=1, dtype=dtype)
        other.load_state_dict(loaded)
        x = np.random.default_rng(2).normal(size=(5, 2))
        np.testing.assert_array_equal(other(x).data, mlp(dtype=dtype)(x).data)


def test_written_at_the_exact_path_and_readable_by_numpy(tmp_path):
    path = tmp_path / "weights.bin"
    state = {"file": np.arange(3.0), "allow_pickle": np.ones((2, 2)), "a.b": nn.Parameter([0.0])}
    nn.save(state, str(path))
    assert path.exists() and not (tmp_path / "weights.bin.npz").exists()
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == ["file", "allow_pickle", "a.b"]
        np.testing.assert_array_equal(archive["file"], state["file"])


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "model.npz"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        nn.load(path)


def test_not_an_archive_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        nn.load(path)
    np.save(tmp_path / "one.npy", np.zeros(2))
    with pytest.raises(ValueError, match="single array"):
        nn.load(tmp_path / "one.npy")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="evil.npz"):
        nn.load(path)
    with pytest.raises(TypeError, match="dtype object"):
        nn.save({"x": np.array([{"a": 1}], dtype=object)}, tmp_path / "x.npz")
    assert zipfile.is_zipfile(path)


def test_wrong_shape_from_file_leaves_the_model_unchanged(tmp_path):
    state = mlp(1).state_dict()
    state["0.weight"] = np.zeros((2, 4))
    nn.save(state, tmp_path / "bad.npz")
    model = mlp(0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"0\.weight"):
        model.load_state_dict(nn.load(tmp_path / "bad.npz"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def torch_mlp(torch):
    return torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1), torch.nn.Sigmoid()
    ).double()


def test_state_dict_loads_into_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = mlp(3), torch_mlp(torch)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(4).normal(size=(6, 2))
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=0, atol=1e-14)


def test_torch_state_dict_loads_into_ours():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs, ours = torch_mlp(torch), mlp(5)
    ours.load_state_dict(theirs.state_dict())  # torch tensors go through np.asarray
    x = np.random.default_rng(6).normal(size=(6, 2))
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=0, atol=1e-14)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours(x).data, expected, rtol=0, atol=1e-14)
