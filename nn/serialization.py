"""Saving and loading state dicts as NumPy ``.npz`` archives: arrays only, never pickled code."""

from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from autograd_lite import Tensor


def save(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write ``state_dict`` (name -> array, e.g. ``model.state_dict()``) to ``path`` as an
    ``.npz`` archive, keys in order. The file is written at exactly ``path`` (no suffix added).
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"nn.save expects a mapping from names to arrays (e.g. model.state_dict()); got "
            f"{type(state_dict).__name__}"
        )
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"nn.save: keys must be non-empty strings; got {key!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"nn.save: the value for {key!r} has dtype {array.dtype}, not numbers")
        arrays[key] = array
    # Written entry by entry rather than np.savez(path, **arrays), whose own keyword arguments
    # (file, allow_pickle) could collide with parameter names.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def load(path: str | os.PathLike) -> OrderedDict[str, np.ndarray]:
    """Read a state dict written by ``nn.save``: an ordered dict name -> np.ndarray.

    Loads with ``allow_pickle=False``, so a file cannot run code.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file: {os.fspath(path)!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an archive of named arrays")
        with archive:
            return OrderedDict((key, archive[key]) for key in archive.files)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"nn.load: {os.fspath(path)!r} is not a state dict written by nn.save ({err})"
        ) from None
