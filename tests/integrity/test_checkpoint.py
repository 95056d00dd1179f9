"""Issue 9, point 9: checkpoints round-trip exactly and survive a process killed mid-save."""

import io
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd_lite import Tensor

REPO = Path(__file__).resolve().parents[2]


def same(a, b):
    """Equal structure, types, key order and values, arrays and floats to the bit."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b]
        for key in a:
            same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    elif isinstance(a, float):
        assert struct.pack(">d", a) == struct.pack(">d", b)
    else:
        assert a == b


def round_trip(obj, path):
    nn.save(obj, path)
    return nn.load(path)


# ----- what goes in comes out ------------------------------------------------------------------
def test_a_training_checkpoint_round_trips(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3, rng=np.random.default_rng(0)), nn.Tanh())
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    model(np.ones((4, 2))).sum().backward()
    opt.step()
    checkpoint = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}
    loaded = round_trip(checkpoint, tmp_path / "ckpt.npz")
    same(loaded, checkpoint)
    assert type(loaded["model"]) is OrderedDict and list(loaded["optimizer"]["state"]) == [0, 1]


def test_leaves_keys_and_containers_round_trip_exactly(tmp_path):
    nan_with_payload = struct.unpack(">d", bytes.fromhex("7ff8000000000123"))[0]
    obj = {
        "x.npy": np.arange(3.0),
        "x": np.ones(2, np.float32),  # beside "x.npy": the two must not be confused
        "a/b": "slash",
        "": "the empty key is allowed",
        "__nn_structure__.json": 1,
        "ünï ☃ 𝄞": "ünï ☃ 𝄞 \udcff",
        7: {0: None, -2: True, 10**30: False},
        "numbers": [0, -(2**70), 10**40, 0.1, -0.0, math.inf, nan_with_payload, 5e-324],
        "nested": ((1, (2.5, [])), [(), {}], OrderedDict(b=1, a=2)),
        "arrays": [np.int8(-3), np.float32(0.1), np.bool_(True), np.zeros((0, 4)), np.array(2j)],
        "dtypes": [np.arange(6, dtype=np.uint16).reshape(2, 3).T, np.array([True, False])],
    }
    same(round_trip(obj, tmp_path / "c.npz"), obj)
    for top in ([1, [2]], (np.arange(2.0),), 3.5, None, OrderedDict(), {}):
        same(round_trip(top, tmp_path / "top.npz"), top)


class ArrayLike:
    """Anything with ``__array__`` (a torch tensor, say) is saved as its array."""

    def __array__(self, dtype=None, copy=None):
        return np.arange(3, dtype=np.int32)


def test_tensors_and_array_likes_come_back_as_arrays(tmp_path):
    t = Tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
    loaded = round_trip({"t": t, "p": [nn.Parameter([1.0])], "a": ArrayLike()}, tmp_path / "t")
    same(loaded, {"t": t.data, "p": [np.array([1.0])], "a": np.arange(3, dtype=np.int32)})


def test_a_torch_state_dict_saves_as_arrays(tmp_path):
    torch = pytest.importorskip("torch")
    state = torch.nn.Linear(2, 3).double().state_dict()
    loaded = round_trip(state, tmp_path / "torch.npz")
    same(loaded, OrderedDict((k, v.numpy()) for k, v in state.items()))


def test_a_flat_state_dict_stays_a_plain_npz():
    # Documented: flat state dicts with plain names are np.savez's layout (np.load reads them);
    # anything else carries a JSON structure entry and arrays named by position.
    flat = OrderedDict([("0.weight", np.ones((2, 2))), ("allow_pickle", np.zeros(1))])
    buffer = io.BytesIO()
    nn.save(flat, buffer)
    assert zipfile.ZipFile(buffer).namelist() == ["0.weight.npy", "allow_pickle.npy"]
    buffer = io.BytesIO()
    nn.save({"x.npy": np.zeros(1), "n": 1}, buffer)
    names = zipfile.ZipFile(buffer).namelist()
    assert names == ["__nn_structure__.json", "0.npy"]
    header = json.loads(zipfile.ZipFile(buffer).read(names[0]))
    assert header["format"] == "nn.save" and header["version"] == 1
    # np.load strips ".npy" from entry names, so "x" and "x.npy" as entries would be confused:
    # such keys take the structured layout, and np.load never shows a key with another's array.
    tricky = {"x": np.zeros(2), "x.npy": np.ones(2)}
    buffer = io.BytesIO()
    nn.save(tricky, buffer)
    same(nn.load(io.BytesIO(buffer.getvalue())), tricky)
    buffer.seek(0)
    with np.load(buffer) as archive:
        for key in set(archive.files) & set(tricky):
            np.testing.assert_array_equal(archive[key], tricky[key])


def test_what_cannot_be_saved_is_a_clear_error_and_writes_nothing(tmp_path):
    path = tmp_path / "c.npz"
    cycle = []
    cycle.append(cycle)
    cases = [
        ({"a": [1, {2}]}, TypeError, r"\['a'\]\[1\] is a set"),
        ({"a": {1.5: 2}}, TypeError, "keys must be strings or ints"),
        ({"a": np.array([object()])}, TypeError, "dtype object"),
        ({"a": cycle}, ValueError, "contains itself"),
    ]
    for obj, error, message in cases:
        with pytest.raises(error, match=message):
            nn.save(obj, path)
    assert os.listdir(tmp_path) == []


# ----- damaged and foreign files ---------------------------------------------------------------
def good_checkpoint(path):
    nn.save({"w": np.arange(1000.0), "step": 3}, path)
    return path.read_bytes()


def write_foreign_zip(path, name):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, "hello")


def test_damaged_and_foreign_files_are_the_same_clear_value_error(tmp_path):
    data = good_checkpoint(tmp_path / "good.npz")
    inside = data.index(b"\x93NUMPY") + 200  # in the array's bytes, past its header
    damaged = {
        "empty.npz": (b"", "empty"),
        "text.npz": (b"epoch 3\n", "not a complete file"),
        "half.npz": (data[: len(data) // 2], "not a complete file"),
        "flipped.npz": (data[:inside] + bytes([data[inside] ^ 1]) + data[inside + 1 :], "CRC"),
    }
    for name, (content, _) in damaged.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "one.npy", np.zeros(2))
    damaged["one.npy"] = (None, "single array")
    write_foreign_zip(tmp_path / "foreign.zip", "notes.txt")
    damaged["foreign.zip"] = (None, "'notes.txt' is not an array")
    write_foreign_zip(tmp_path / "fake.npz", "x.npy")
    damaged["fake.npz"] = (None, "not a complete file")
    zipfile.ZipFile(tmp_path / "empty.zip", "w").close()
    damaged["empty.zip"] = (None, "empty zip archive")
    with zipfile.ZipFile(tmp_path / "json.npz", "w") as archive:
        archive.writestr("__nn_structure__.json", '{"format": "nn.save", "version": 99}')
    damaged["json.npz"] = (None, "version 99")
    with zipfile.ZipFile(tmp_path / "node.npz", "w") as archive:
        archive.writestr("__nn_structure__.json", '{"format": "nn.save", "version": 1, "root": 5}')
    damaged["node.npz"] = (None, "bad structure node")
    np.savez(tmp_path / "pickled.npz", x=np.array([{"a": 1}], dtype=object))
    damaged["pickled.npz"] = (None, "not a complete file")
    for name, (_, message) in damaged.items():
        with pytest.raises(ValueError, match=message) as info:
            nn.load(tmp_path / name)
        assert name in str(info.value)
    same(nn.load(tmp_path / "good.npz"), {"w": np.arange(1000.0), "step": 3})


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    old = good_checkpoint(path)
    calls = []
    real_write = np.lib.format.write_array

    def failing_write(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"a": np.zeros(3), "b": np.ones(3), "c": 1}, path)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["ckpt.npz"]


def test_save_flushes_to_disk_before_it_replaces(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append(("fsync", fd)) or real_fsync(fd))
    monkeypatch.setattr(
        os, "replace", lambda a, b: events.append(("replace", a, b)) or real_replace(a, b)
    )
    path = tmp_path / "ckpt.npz"
    nn.save({"a": np.zeros(3)}, path)
    kinds = [e[0] for e in events]
    assert kinds[:2] == ["fsync", "replace"]  # then the folder's fsync, where possible
    temp = Path(events[1][1])
    assert temp.parent == tmp_path and temp.name.startswith(".ckpt.npz.") and not temp.exists()
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # as open() would have made it


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_saving_through_a_symlink_replaces_the_file_and_keeps_the_link(tmp_path):
    (tmp_path / "real.npz").write_bytes(b"old")
    (tmp_path / "link.npz").symlink_to("real.npz")
    nn.save({"a": np.ones(2)}, tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink()
    same(nn.load(tmp_path / "real.npz"), OrderedDict(a=np.ones(2)))


# ----- a process killed while saving -----------------------------------------------------------
CHILD = """
import sys, time
import numpy as np
import nn

path, pause_in = sys.argv[1], int(sys.argv[2])
real_write = np.lib.format.write_array
written = [0]

def write_array(*args, **kwargs):
    written[0] += 1
    if written[0] == pause_in:  # a save half done: tell the parent, then wait to be killed
        print("mid", flush=True)
        time.sleep(60)
    return real_write(*args, **kwargs)

np.lib.format.write_array = write_array
for version in range(1, 10_000):
    weights = [np.full(100_000, float(version)) for _ in range(4)]  # about 3 MB
    nn.save({"version": version, "weights": weights, "note": "x" * 1000}, path)
    print("saved", version, flush=True)
"""


def run_and_kill(tmp_path, pause_in, wait_for, extra_delay):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = tmp_path / "ckpt.npz"
    child = subprocess.Popen(
        [sys.executable, str(script), str(path), str(pause_in)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith(wait_for):
            line = child.stdout.readline()
            assert line, f"the child stopped early: {lines}"
            lines.append(line.strip())
        time.sleep(extra_delay)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    return path, lines


def check_complete(path, lines):
    checkpoint = nn.load(path)
    version = checkpoint["version"]
    announced = [int(line.split()[1]) for line in lines if line.startswith("saved")]
    assert version >= announced[-1]  # the newest whole save (later ones went unannounced)
    assert checkpoint["note"] == "x" * 1000 and len(checkpoint["weights"]) == 4
    for weights in checkpoint["weights"]:
        assert weights.shape == (100_000,) and (weights == version).all()
    return version


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_in_the_middle_of_a_save_the_previous_checkpoint_loads(tmp_path):
    # The child blocks inside the third save, after two of its four arrays: killed there, for sure.
    path, lines = run_and_kill(tmp_path, pause_in=4 * 2 + 3, wait_for="mid", extra_delay=0)
    assert lines == ["saved 1", "saved 2", "mid"]
    assert check_complete(path, lines) == 2
    leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".ckpt.npz.")  # the half save


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("delay", [0.005, 0.037])  # a save takes some 15 ms: mostly mid-save
def test_killed_at_any_moment_the_checkpoint_is_whole(tmp_path, delay):
    path, lines = run_and_kill(tmp_path, pause_in=0, wait_for="saved 1", extra_delay=delay)
    check_complete(path, lines)
