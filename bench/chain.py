"""(e) of bench.py: a chain of operations x → x·1.0001 → …, forward and backward, with Python's
garbage collector on.

The collector's cost per operation depends on every object the process holds, not only the
graph's: with PyTorch imported (as bench.py imports it, for its own columns) there are 7 times as
many to scan. So bench.py runs this file in a fresh process that imports only NumPy and
autograd_lite, as a user's training script would, and also times the chain in its own process,
beside PyTorch, for comparison. ``python bench/chain.py LENGTH ROUNDS`` prints the figures as JSON.
"""

from __future__ import annotations

import gc
import json
import sys
import time

import numpy as np

from autograd_lite import Tensor


def chain(length: int, rounds: int) -> dict[str, float]:
    """Seconds per operation, forward and backward, the best of ``rounds`` chains."""
    best = {"forward": float("inf"), "backward": float("inf")}
    gc.enable()
    for _ in range(rounds):
        x = Tensor(np.ones(4), requires_grad=True)
        start = time.perf_counter()
        y = x
        for _ in range(length):
            y = y * 1.0001
        middle = time.perf_counter()
        y.sum().backward()
        end = time.perf_counter()
        best["forward"] = min(best["forward"], (middle - start) / length)
        best["backward"] = min(best["backward"], (end - middle) / length)
        del y
    best["total"] = best["forward"] + best["backward"]
    return best


if __name__ == "__main__":
    print(json.dumps(chain(int(sys.argv[1]), int(sys.argv[2]))))
