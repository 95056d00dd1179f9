"""``grad``: gradients of outputs with respect to chosen inputs, to any order (PyTorch's
``torch.autograd.grad``).

``backward()`` adds gradients into the ``.grad`` of every leaf; ``grad`` returns them instead,
for any tensors of the graph (leaves or intermediate results), and writes nothing. With
``create_graph=True`` the returned gradients are themselves part of a graph: a gradient of a
gradient (a Hessian-vector product, Newton's method, a gradient penalty) is one more call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import engine
from .tensor import Tensor


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradient of ``Σ outputs · grad_outputs`` with respect to each of ``inputs``.

    ``grad_outputs`` (one per output; Tensors, arrays or numbers) may be left out for outputs of
    one element, where it is 1. Returns a tuple of Tensors, one per input, each of its input's
    shape. With ``create_graph=True`` they are recorded and can be differentiated again;
    ``retain_graph`` (by default ``create_graph``) keeps the graph for another pass. An input the
    outputs do not depend on is an error, or ``None`` with ``allow_unused=True``.
    """
    outputs = _tensors(outputs, "outputs")
    inputs = _tensors(inputs, "inputs")
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray, int, float)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; give one each"
        )
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) does not require grad, so no gradient can "
                f"reach it; create it with requires_grad=True"
            )
    seeds = [
        _seed(i, out, g, create_graph)
        for i, (out, g) in enumerate(zip(outputs, grad_outputs, strict=True))
    ]
    if retain_graph is None:
        retain_graph = create_graph
    captured = engine.backward(outputs, seeds, retain_graph, create_graph, capture=inputs)
    results: list[Tensor | None] = []
    for i, t in enumerate(inputs):
        g = captured.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used in computing the outputs; "
                    f"pass allow_unused=True to get None for it"
                )
            results.append(None)
        elif isinstance(g, Tensor):
            results.append(g)
        else:
            results.append(Tensor._make(np.array(g, dtype=t.dtype), False, None))
    return tuple(results)


def _tensors(value: Any, what: str) -> list[Tensor]:
    items = [value] if isinstance(value, Tensor) else list(value)
    if not items:
        raise ValueError(f"grad: {what} is empty")
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: {what}[{i}] is {type(t).__name__}, not a Tensor")
    return items


def _seed(i: int, output: Tensor, given: Any, create_graph: bool) -> Any:
    """The gradient that starts the pass at ``output``: an array, or a Tensor for a graph."""
    if not output.requires_grad:
        raise RuntimeError(
            f"grad: output {i} does not require grad: no input of its computation had "
            f"requires_grad=True (or it ran inside no_grad())"
        )
    if given is None:
        if output.size != 1:
            raise RuntimeError(
                f"grad: output {i} has shape {output.shape}; a gradient can be implied only for "
                f"a one-element output. Pass grad_outputs (an array of shape {output.shape})"
            )
        seed: Any = np.ones(output.shape, dtype=output.dtype)
    elif isinstance(given, Tensor):
        seed = given if create_graph else given.data
    else:
        seed = np.asarray(given, dtype=output.dtype)
    if seed.shape != output.shape:
        raise ValueError(
            f"grad: grad_outputs[{i}] has shape {seed.shape} but output {i} has shape "
            f"{output.shape}; they must match"
        )
    if create_graph and not isinstance(seed, Tensor):
        seed = Tensor._make(seed, False, None)
    return seed
