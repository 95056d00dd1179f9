"""Saving and loading checkpoints as ``.npz`` (zip) archives: data only, never pickled code.

``nn.save(obj, path)`` takes a state dict or any nesting of dicts, lists and tuples whose leaves
are arrays, Tensors, numbers, strings, booleans or None, e.g.
``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``; ``nn.load(path)``
gives the same structure back, with every array (and Tensor) as an ``np.ndarray``.

File format (a zip archive, entries stored uncompressed), one of two layouts:

* **Flat**: used when ``obj`` is a mapping whose keys are all "plain" names (non-empty strings
  without ``/``, ``\\`` or NUL that do not end in ``.npy``) and whose values are all arrays or
  Tensors; this is every ``model.state_dict()``. One entry ``<key>.npy`` per key, in order, and
  nothing else: exactly what ``np.savez`` writes, so ``np.load(path)`` reads it too. Loaded back
  as an ``OrderedDict``. Any ``.npz`` of ``.npy`` entries (e.g. from ``np.savez``) loads this way.
* **Structured**: everything else. The first entry, ``__nn_structure__.json``, is JSON
  ``{"format": "nn.save", "version": 1, "root": node}``; arrays are the entries ``0.npy``,
  ``1.npy``, ... named by position, so no key, however it looks (``"x.npy"``, ``"a/b"``, ``""``),
  can collide with an entry name. A node is a JSON list whose first item is its kind:
  ``["none"]``, ``["bool", b]``, ``["int", "<decimal>"]`` (any size), ``["float", "<16 hex digits
  of the IEEE 754 bits>"]`` (exact to the bit, NaN payloads included), ``["str", s]``,
  ``["array", i]``, ``["scalar", i]`` (a NumPy scalar, stored as the 0-d array ``i``),
  ``["list", [node, ...]]``, ``["tuple", [node, ...]]``, and ``["dict", [[key, node], ...]]`` or
  ``["odict", ...]`` (an ``OrderedDict``) with keys ``["str", s]`` or ``["int", "<decimal>"]``.
  Key order, key types, ints, tuples and dict vs ``OrderedDict`` all survive. The empty string is
  an allowed key. An object reached twice is stored twice (loaded as two equal objects); an
  object that contains itself is a ``ValueError``.

Arrays are written with ``allow_pickle=False`` and read the same way, so no file can run code;
dtypes are limited to booleans and numbers. ``save`` writes a temporary file in the target's
folder, flushes and fsyncs it, then ``os.replace``-s it over the target: a process killed during
a save leaves the previous checkpoint intact (and, at worst, a ``.<name>.*.tmp`` file beside it).
"""

from __future__ import annotations

import json
import os
import secrets
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from autograd_lite import Tensor

_STRUCTURE = "__nn_structure__.json"
_FORMAT, _VERSION = "nn.save", 1
_DTYPE_KINDS = "biufc"  # booleans and numbers: read back with allow_pickle=False, no code
# What reading a damaged or foreign file raises (NumPy's header parser: ValueError).
_READ_ERRORS = (ValueError, OSError, EOFError, struct.error, zipfile.BadZipFile)


class _Bad(ValueError):
    """A malformed file, turned into one ``ValueError`` that names the path."""


# ----- saving -----------------------------------------------------------------------------------
def save(obj: Any, path: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a state dict, or a checkpoint nesting dicts, lists and tuples) to ``path``.

    The file is written at exactly ``path`` (no suffix added), atomically: readers see either the
    old file or the complete new one, even if this process is killed midway. A writable binary
    file object is also accepted (then written directly, without that guarantee).
    """
    flat = _flat_arrays(obj)
    if flat is not None:
        entries = [(key + ".npy", array) for key, array in flat.items()]
        structure = None
    else:
        arrays: list[np.ndarray] = []
        root = _encode(obj, arrays, "obj", set())
        entries = [(f"{i}.npy", array) for i, array in enumerate(arrays)]
        structure = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root})
    if hasattr(path, "write"):
        _write_zip(path, structure, entries)
        return
    _write_atomically(os.fspath(path), structure, entries)


def _flat_arrays(obj: Any) -> dict[str, np.ndarray] | None:
    """The arrays of a flat state dict with plain names, or None if ``obj`` is anything else."""
    if not isinstance(obj, Mapping) or not obj:
        return None
    flat = {}
    for key, value in obj.items():
        plain_key = (
            type(key) is str
            and key
            and not key.endswith(".npy")
            and not any(c in key for c in "/\\\0")
        )
        if not plain_key or not isinstance(value, (np.ndarray, Tensor)):
            return None
        flat[key] = _checked_array(value, f"obj[{key!r}]")
    return flat


def _checked_array(value: Any, where: str) -> np.ndarray:
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in _DTYPE_KINDS:
        raise TypeError(
            f"nn.save: the value at {where} has dtype {array.dtype}, not numbers; only arrays of "
            f"booleans and numbers are saved (nothing is pickled)"
        )
    return array


def _encode(value: Any, arrays: list[np.ndarray], where: str, active: set[int]) -> list:
    """The JSON node for ``value``, appending its arrays to ``arrays``."""
    if value is None:
        return ["none"]
    if isinstance(value, np.generic):  # first: np.float64 is also a float
        arrays.append(_checked_array(np.asarray(value), where))
        return ["scalar", len(arrays) - 1]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(int(value))]
    if isinstance(value, float):
        return ["float", struct.pack(">d", value).hex()]
    if isinstance(value, str):
        return ["str", str(value)]
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in active:
            raise ValueError(f"nn.save: the value at {where} contains itself; it cannot be saved")
        active.add(id(value))
        try:
            if isinstance(value, Mapping):
                kind = "odict" if isinstance(value, OrderedDict) else "dict"
                items = [
                    [_encode_key(key, where), _encode(item, arrays, f"{where}[{key!r}]", active)]
                    for key, item in value.items()
                ]
                return [kind, items]
            kind = "tuple" if isinstance(value, tuple) else "list"
            items = [_encode(x, arrays, f"{where}[{i}]", active) for i, x in enumerate(value)]
            return [kind, items]
        finally:
            active.discard(id(value))
    if isinstance(value, (np.ndarray, Tensor)) or hasattr(value, "__array__"):
        arrays.append(_checked_array(value, where))  # hasattr: e.g. a torch tensor
        return ["array", len(arrays) - 1]
    raise TypeError(
        f"nn.save: the value at {where} is a {type(value).__name__}; a checkpoint may hold dicts, "
        f"lists and tuples of arrays, Tensors, numbers, strings, booleans and None"
    )


def _encode_key(key: Any, where: str) -> list:
    if type(key) is str:
        return ["str", key]
    if isinstance(key, int) and not isinstance(key, bool):
        return ["int", str(int(key))]
    raise TypeError(
        f"nn.save: a key of the dict at {where} is {key!r} ({type(key).__name__}); dict keys must "
        f"be strings or ints"
    )


def _write_atomically(path: str, structure: str | None, entries: list) -> None:
    target = os.path.realpath(path)  # through a symlink: replace the file, keep the link
    folder, name = os.path.split(target)
    while True:  # O_EXCL with a fresh name, and mode 0o666 so that the umask applies as for open()
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(temp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as file:
            _write_zip(file, structure, entries)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not every system can open a folder
        dir_fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_zip(file: IO[bytes], structure: str | None, entries: list) -> None:
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        if structure is not None:
            archive.writestr(_STRUCTURE, structure)
        for name, array in entries:
            with archive.open(name, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


# ----- loading ----------------------------------------------------------------------------------
def load(path: str | os.PathLike | IO[bytes]) -> Any:
    """Read a file written by ``nn.save``: the same structure, arrays as ``np.ndarray``.

    A flat state dict comes back as an ordered dict name -> array. Loads with
    ``allow_pickle=False``, so a file cannot run code. A missing file is a ``FileNotFoundError``;
    anything that is not a complete file written by ``nn.save`` (or ``np.savez``) is a
    ``ValueError`` naming the path.
    """
    is_file = hasattr(path, "read")
    shown = repr(getattr(path, "name", "<file object>")) if is_file else repr(os.fspath(path))
    if not is_file and not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file: {shown}")
    try:
        head = path.read(6) if is_file else _head(path)
        if is_file:
            path.seek(-len(head), os.SEEK_CUR)
        if not head:
            raise _Bad("the file is empty (0 bytes)")
        if head == b"\x93NUMPY":
            raise _Bad("it holds a single array (a .npy file), not an archive of named arrays")
        with zipfile.ZipFile(path) as archive:
            return _read(archive)
    except RecursionError:
        raise ValueError(f"nn.load: {shown} is nested too deeply to read") from None
    except _READ_ERRORS as err:
        raise ValueError(
            f"nn.load: {shown} is not a complete file written by nn.save ({err}); if it was "
            f"written by nn.save, it was damaged after"
        ) from None


def _head(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as file:
        return file.read(6)


def _read(archive: zipfile.ZipFile) -> Any:
    names = archive.namelist()
    if _STRUCTURE not in names:
        foreign = [name for name in names if not name.endswith(".npy")]
        if foreign or not names:
            raise _Bad(
                f"it is a zip archive but not a checkpoint: entry {foreign[0]!r} is not an array"
                if foreign
                else "it is an empty zip archive"
            )
        return OrderedDict((name[:-4], _array(archive, name)) for name in names)
    try:
        header = json.loads(archive.read(_STRUCTURE).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _Bad(f"its structure entry is not valid JSON: {err}") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise _Bad("its structure entry does not describe an nn.save checkpoint")
    if header.get("version") != _VERSION:
        raise _Bad(
            f"it is format version {header.get('version')!r}; this nn reads version {_VERSION}"
        )
    return _decode(header.get("root"), archive, set(names))


def _array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    with archive.open(name) as entry:
        array = np.lib.format.read_array(entry, allow_pickle=False)
        if entry.read(1):
            raise _Bad(f"entry {name!r} has bytes after its array")
    return array


def _decode(node: Any, archive: zipfile.ZipFile, names: set[str]) -> Any:
    kind, payload = _node(node)
    if kind == "none":
        return None
    if kind == "bool" and isinstance(payload, bool):
        return payload
    if kind == "int" and isinstance(payload, str):
        return _int(payload)
    if kind == "float" and isinstance(payload, str) and len(payload) == 16:
        try:
            return struct.unpack(">d", bytes.fromhex(payload))[0]
        except ValueError:
            raise _Bad(f"bad float {payload!r}") from None
    if kind == "str" and isinstance(payload, str):
        return payload
    if kind in ("array", "scalar") and type(payload) is int and f"{payload}.npy" in names:
        array = _array(archive, f"{payload}.npy")
        if kind == "array":
            return array
        if array.ndim != 0:
            raise _Bad(f"entry {payload}.npy should hold a scalar")
        return array[()]
    if kind in ("list", "tuple") and isinstance(payload, list):
        items = [_decode(item, archive, names) for item in payload]
        return tuple(items) if kind == "tuple" else items
    if kind in ("dict", "odict") and isinstance(payload, list):
        result = OrderedDict() if kind == "odict" else {}
        for pair in payload:
            if not isinstance(pair, list) or len(pair) != 2:
                raise _Bad(f"bad dict item {pair!r}")
            key_kind, key = _node(pair[0])
            if key_kind == "str" and isinstance(key, str):
                pass
            elif key_kind == "int" and isinstance(key, str):
                key = _int(key)
            else:
                raise _Bad(f"bad dict key {pair[0]!r}")
            result[key] = _decode(pair[1], archive, names)
        return result
    raise _Bad(f"bad structure node {str(node)[:80]}")


def _node(node: Any) -> tuple[str, Any]:
    if not isinstance(node, list) or not node or not isinstance(node[0], str) or len(node) > 2:
        raise _Bad(f"bad structure node {str(node)[:80]}")
    return node[0], (node[1] if len(node) == 2 else None)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Bad(f"bad int {text[:40]!r}") from None
