"""Version counters: a backward pass never reads an array that was changed after it was saved.

PyTorch's idea, made cheap for the common case where nothing is changed in place. Every in-place
change made through the library (Tensor in-place operators, ``copy_``, optimizers, initialisers,
``load_state_dict``) bumps the tensor's version and stamps it with the next tick of one clock. A
tensor and its views (``reshape``, ``.T``, basic indexing, ``detach()``) share one counter, because
they share memory. Each recorded operation remembers the clock's last tick when it was created; if
no tick came since, backward needs no check at all, and otherwise it compares stamps and raises
if a changed array is one the operation saved. A direct write into ``t.data`` is not seen: it is
the escape hatch, as ``.data`` is in PyTorch.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

_clock = itertools.count(1)  # next() on it is atomic under the GIL
last_tick = 0  # the newest stamp handed out; Function.apply copies it into each node


def bump(counter: list[int]) -> None:
    """Record one in-place change on a shared ``[version, stamp]`` counter."""
    global last_tick
    tick = next(_clock)
    counter[0] += 1
    counter[1] = tick
    if tick > last_tick:
        last_tick = tick


def check_saved(fn: Any, output: Any) -> None:
    """Raise if an array ``fn`` saved for backward was changed in place after ``fn`` was recorded.

    Called only when the clock has ticked since ``fn`` was recorded. The tensors looked at are the
    operation's inputs and its output: every saved array is one of theirs or a view of one (arrays
    the user never sees, such as index arrays, are private copies).
    """
    saved = [a for a in (getattr(fn, "saved", None) or ()) if isinstance(a, np.ndarray)]
    if not saved:
        return
    for t in (*fn.inputs, output):
        counter = t._version_counter
        if counter is None or counter[1] <= fn.tick or t.data is None:
            continue
        if any(a is t.data or np.may_share_memory(a, t.data) for a in saved):
            raise RuntimeError(_message(fn, t))


def _message(fn: Any, t: Any) -> str:
    what = f"tensor {t.name!r}" if t.name else "a tensor"
    return (
        f"one of the arrays needed for backward was changed in place: {what} of shape "
        f"{tuple(t.shape)} and dtype {t.dtype}, saved by '{fn.name}', is now at version "
        f"{t._version_counter[0]}, changed after the forward pass recorded it. The gradient would "
        f"be wrong. Call optimizer.step() (or any in-place update) only after the last backward() "
        f"through this graph, or run the forward pass again; to change a tensor without affecting "
        f"the graph, change a copy (t.detach().copy() / a new Tensor)."
    )
