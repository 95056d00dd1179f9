"""Which operations a graph holds: the coverage tests of the second-derivative checks use it."""

from autograd_lite import Tensor


def recorded_operations(*roots: Tensor | None) -> set[str]:
    """The names of the operations in the graphs behind ``roots``."""
    names, seen, stack = set(), set(), [r for r in roots if r is not None]
    while stack:
        t = stack.pop()
        if id(t) not in seen and t._ctx is not None:
            seen.add(id(t))
            names.add(type(t._ctx).__name__)
            stack.extend(t._ctx.inputs)
    return names
