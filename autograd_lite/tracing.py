"""``compile(fn)``: a training step recorded once, then replayed as straight NumPy calls.

The first call runs ``fn`` as usual and records, operation by operation, where each input came
from (an argument, a parameter, an earlier result, a constant) and, from the graph it built, the
order in which backward visits the operations. The second call records again, and must record the
same: the same operations, the same numbers, the same array objects read from outside the
arguments (a module's constant array is the same object each time; a random mask or an array
computed inside ``fn`` is a new one). Later calls with arguments of the same shapes,
dtypes and ``requires_grad`` (and the same grad mode and plain-value arguments) skip Python's
Tensor machinery: each operation's own ``forward`` runs on the arrays, and the returned Tensor's
backward runs each operation's own ``backward`` in the recorded order, so ``.grad`` ends exactly
as eager backward leaves it, to the bit. Where it can, the replay runs a copy of those methods'
statements rather than calling them (``inlining``): the same NumPy calls, without an object and
two calls per operation.

A trace can only replay what it saw. Whatever would make a replay differ from running ``fn`` makes
``compile`` run ``fn`` eagerly from then on, with one warning that says why: reading a value
(``.item()``, ``bool()``, ``float()``, ``.numpy()``), an in-place change, hooks, a number or an
array that is not the same in the two recorded calls (a random mask, a condition computed from
``.data``, ``np.arange`` inside ``fn``), a result computed outside ``fn``. Arrays read from
outside the arguments are read afresh at each replay; numbers, and which parameter objects ``fn``
reads from outside, are constants of the trace: pass anything that changes between calls (a
number, a replaced model) as an argument, since a non-Tensor argument is part of the key.
"""

from __future__ import annotations

import builtins
import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine, inlining, versions
from .function import (
    _NO_PARAMS,
    Function,
    _as_array_in,
    _as_array_in_saved,
    _creation_order,
    conform,
)
from .grad_mode import _mode
from .tensor import Tensor


class TraceRefused(Exception):
    """Something in the traced call that a replay could not reproduce."""


def compile(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:  # noqa: A001 - PyTorch's name
    """``fn`` (a function of Tensors and arrays returning one Tensor, typically a loss), recorded
    on its first call and replayed on later calls with arguments of the same kind."""
    return CompiledFunction(fn)


class CompiledFunction:
    """The callable ``compile`` returns; ``.eager_reason`` says why it runs eagerly, if it does."""

    def __init__(self, fn: Callable[..., Tensor]) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.traces: dict[Any, Trace] = {}  # confirmed: replayed
        self.candidates: dict[Any, Trace] = {}  # recorded once: the next call must record the same
        self.eager_reason: str | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.eager_reason is not None or kwargs:  # keyword arguments: not traced
            return self.fn(*args, **kwargs)
        key = _signature(args)
        trace = self.traces.get(key) if key is not None else None
        if trace is not None and trace.still_valid():
            return trace.replay(args)
        if key is None:
            return self._give_up(
                "an argument is neither a Tensor, an array nor a hashable value", args
            )
        recorder = Recorder(args)
        previous, _mode.tracer = _mode.tracer, recorder
        try:
            out = self.fn(*args)
        finally:
            _mode.tracer = previous
        try:
            if recorder.refused:
                raise TraceRefused(recorder.refused)
            trace = recorder.finish(out)
            first = self.candidates.pop(key, None)
            if first is None or not first.still_valid():  # none yet, or its parameters changed
                self.traces.pop(key, None)
                self.candidates[key] = trace
            else:
                first.check_same(trace)
                self.traces[key] = trace
        except TraceRefused as refusal:
            self.eager_reason = str(refusal)
            warnings.warn(
                f"compile({getattr(self.fn, '__name__', 'fn')}): {refusal}; running it eagerly "
                f"from now on (the results are the same, only slower)",
                RuntimeWarning,
                stacklevel=2,
            )
        return out

    def _give_up(self, reason: str, args: tuple) -> Any:
        self.eager_reason = reason
        warnings.warn(f"compile: {reason}; running it eagerly", RuntimeWarning, stacklevel=3)
        return self.fn(*args)


def _signature(args: tuple) -> Any:
    """What a replay needs to be the same as the call that was traced (None: not hashable)."""
    parts: list[Any] = [_mode.enabled]
    for a in args:
        if isinstance(a, Tensor):
            data = a.data  # the array's own attributes, not the Tensor's properties: every call
            parts.append(("tensor", data.shape, data.dtype, a._requires_grad))
        elif isinstance(a, np.ndarray):
            parts.append(("array", a.shape, a.dtype))
        else:
            try:
                hash(a)
            except TypeError:
                return None
            parts.append(("value", type(a), a))
    return tuple(parts)


class Recorder:
    """Sees every operation of the traced call (``Function.apply`` hands each one over)."""

    def __init__(self, args: tuple) -> None:
        self.args = args
        self.ops: list[tuple[type, list, dict, tuple]] = []
        self.slot_of: dict[int, int] = {}
        self.kept: list[Any] = []  # keeps every traced object alive, so that ids stay unique
        self.externals: list[Tensor] = []
        self.made_inside: dict[int, tuple] = {}  # Tensors made by Tensor(...) inside fn
        self.copies: dict[int, tuple] = {}  # private copies of index arrays -> where they came from
        self.refused: str | None = None

    # ----- what Tensor and Function report during the call
    def refuse(self, reason: str) -> None:
        self.refused = self.refused or reason

    def tensor_made(self, t: Tensor, data: Any) -> None:
        """``Tensor(data)`` inside fn: a copy of an argument, or a literal constant."""
        self.kept.append(t)
        self.made_inside[id(t)] = ("copy", self._array_source(data), t.dtype)

    def array_copied(self, original: Any, copy: np.ndarray) -> None:
        """An index array or a where condition, copied for the operation that keeps it."""
        self.kept.append(copy)
        self.copies[id(copy)] = ("copy", self._array_source(original), copy.dtype)

    def record(self, cls: type, inputs: tuple, tensors: list, params: dict, out: Tensor) -> None:
        if self.refused:
            return
        refs = [self._ref(given, t) for given, t in zip(inputs, tensors, strict=True)]
        resolved = {k: self._param_ref(v) for k, v in params.items()}
        self.slot_of[id(out)] = len(self.ops)
        self.kept.append(out)
        self.ops.append((cls, refs, resolved, tuple([t._requires_grad for t in tensors])))

    # ----- where values come from
    def _array_source(self, value: Any) -> Any:
        """('arg', i) for an argument or an argument Tensor's data; ('literal', array) for Python
        numbers and lists; ('outside', object) for any other array or Tensor, which the second
        recorded call must read again (the same object), or the trace is refused."""
        for i, a in enumerate(self.args):
            if value is a or (isinstance(a, Tensor) and value is a.data):
                return ("arg", i)
        if isinstance(value, (bool, int, float, list, tuple)):
            return ("literal", np.array(value))
        self.kept.append(value)
        return ("outside", value)

    def _ref(self, given: Any, t: Tensor) -> tuple:
        if not isinstance(given, Tensor):  # an operand that Function.apply made a constant of
            if isinstance(given, np.ndarray):
                return ("copy", self._array_source(given), t.dtype)
            return ("literal", t.data)  # a number or a list: a constant of the trace
        key = id(given)
        if key in self.slot_of:
            return ("slot", self.slot_of[key])
        for i, a in enumerate(self.args):
            if given is a:
                return ("arg", i)
        if key in self.made_inside:
            return self.made_inside[key]
        if given._ctx is not None:
            self.refuse("fn uses a result computed before it was called (its graph goes further)")
            return ("literal", given.data)
        for k, e in enumerate(self.externals):
            if given is e:
                return ("external", k)
        self.externals.append(given)
        return ("external", len(self.externals) - 1)

    def _param_ref(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(self._param_ref(v) for v in value)
        if isinstance(value, np.ndarray):
            source = self.copies.get(id(value))
            if source is None:
                self.refuse(
                    f"an operation parameter is an array computed inside fn ({value!r:.40})"
                )
            return ParamArray(source)
        return value

    def finish(self, out: Any) -> Trace:
        if not isinstance(out, Tensor):
            raise TraceRefused(f"fn returns {type(out).__name__}, not one Tensor")
        if id(out) not in self.slot_of:
            raise TraceRefused("fn returns a Tensor that no operation inside it made")
        return Trace(self, out)


class ParamArray:
    """An operation's array parameter (an index), taken afresh from the arguments at replay."""

    __slots__ = ("source",)

    def __init__(self, source: tuple) -> None:
        self.source = source


class Trace:
    """One recorded call: the operations, where their inputs come from, and backward's order."""

    def __init__(self, recorder: Recorder, out: Tensor) -> None:
        # An earlier result is referred to by its slot number alone, the common case made cheap.
        self.ops = [
            (cls, [r[1] if r[0] == "slot" else r for r in refs], params, needs,
             any(isinstance(v, (ParamArray, tuple)) for v in params.values()))
            for cls, refs, params, needs in recorder.ops
        ]  # fmt: skip
        self.externals = recorder.externals
        self.externals_ids = [id(e) for e in self.externals]
        self.external_kinds = [(e.shape, e.dtype, e.requires_grad) for e in self.externals]
        self.out_slot = recorder.slot_of[id(out)]
        self.requires_grad = out.requires_grad
        self.schedule: list[tuple[int, list]] = []
        self.forward: Callable | None = None  # written by generate() before the first replay
        self.backward: Callable | None = None
        self.source = ""
        # Every argument Tensor and outside tensor is an input of the replayed step, so that the
        # version check sees an in-place change to any of them; only some take a gradient.
        leaf_index: dict[tuple, int] = {}
        for i, a in enumerate(recorder.args):
            if isinstance(a, Tensor):
                leaf_index[("arg", i)] = len(leaf_index)
        for k in range(len(self.externals)):
            leaf_index[("external", k)] = len(leaf_index)
        self.leaves = sorted(leaf_index, key=leaf_index.__getitem__)
        self.leaf_needs = bytes(
            [self._leaf(recorder.args, ref)._requires_grad for ref in self.leaves]
        )
        self.outside_leaves = (
            None if any(r[0] == "arg" for r in self.leaves) else tuple(self.externals)
        )
        if not self.requires_grad:
            return
        nodes, _ = engine.reachable([out])  # the order eager backward visits them in
        for node in nodes:
            fn = node._ctx
            targets = []
            for position, (parent, need) in enumerate(
                zip(fn.inputs, fn.needs_input_grad, strict=True)
            ):
                if need:
                    ref = recorder._ref(parent, parent)
                    target = ref[1] if ref[0] == "slot" else ("leaf", leaf_index[ref])
                    targets.append((position, target, parent.shape, parent.dtype))
            self.schedule.append((recorder.slot_of[id(node)], targets))

    def check_same(self, other: Trace) -> None:
        """Raise ``TraceRefused`` unless ``other`` (the second recorded call) did the same."""
        if len(self.ops) != len(other.ops) or self.externals_ids != other.externals_ids:
            raise TraceRefused("fn does not run the same operations on every call")
        for (cls, refs, params, needs, _), (cls2, refs2, params2, needs2, _) in zip(
            self.ops, other.ops, strict=True
        ):
            if cls is not cls2 or needs != needs2 or len(refs) != len(refs2):
                raise TraceRefused("fn does not run the same operations on every call")
            for a, b in zip([*refs, *params.values()], [*refs2, *params2.values()], strict=True):
                if not _same(a, b):
                    raise TraceRefused(
                        f"'{cls.__name__}' got a number or an array that differs between two calls "
                        f"(a random value, np.arange or a mask computed inside fn?): pass it as an "
                        f"argument"
                    )
        if self.schedule != other.schedule:
            raise TraceRefused("fn's graph differs between two calls")

    def still_valid(self) -> bool:
        """The outside tensors still have the shape, dtype and requires_grad of the trace."""
        for e, (shape, dtype, needs) in zip(self.externals, self.external_kinds, strict=True):
            data = e.data  # a loop, not all(genexpr): this runs at every call
            if data.shape != shape or data.dtype != dtype or e._requires_grad != needs:
                return False
        return True

    def replay(self, args: tuple) -> Tensor:
        if self.forward is None:
            self.generate()
        out, fns = self.forward(args, self.externals)
        if not (self.requires_grad and _mode.enabled):
            return Tensor._make(out, False, None)
        step = ReplayedStep()
        step.trace, step.fns = self, fns
        leaves = self.outside_leaves  # no argument is a Tensor: the same leaves every call
        if leaves is None:
            outside = self.externals
            leaves = tuple([args[i] if kind == "arg" else outside[i] for kind, i in self.leaves])
        step.inputs = leaves
        # The same at every replay: requires_grad is part of the key, and still_valid checks it
        step.needs_input_grad = self.leaf_needs
        step.saved = tuple([t.data for t in leaves])  # what the version check looks at
        step.params = _NO_PARAMS
        step.freed = False
        step.tick = versions.last_tick
        step.seq = next(_creation_order)
        return Tensor._make(out, True, step)

    # ----- the replay as straight-line code
    def generate(self) -> None:
        """Write the trace as two Python functions (``.source`` shows them): the operations'
        forward passes, then their backward passes in the order eager backward makes them, each
        gradient summed where eager sums it. An operation's methods are copied in as statements
        where ``inlining`` can (the same NumPy calls), and called on a Function object otherwise."""
        names: dict[str, Any] = {"np": np, "ndarray": np.ndarray, "_data": _data}
        names.update(fix=_as_array_in_saved, fix_saved=_as_array_in, conform=conform)
        bound: dict[int, str] = {}

        def constant(value: Any) -> str:
            name = f"K{len(names)}"
            names[name] = value
            return name

        def bind(value: Any) -> str:  # a global of an operation's module: one name per object
            name = bound.get(id(value))
            if name is None:
                name = bound[id(value)] = constant(value)
            return name

        def expr(ref: Any) -> str:
            if ref.__class__ is int:
                return f"v{ref}"
            kind = ref[0]
            if kind == "arg":
                return f"args[{ref[1]}].data"
            if kind == "external":
                return f"E[{ref[1]}].data"
            if kind == "copy":  # a fresh private copy, as Tensor(...) and constants make eagerly
                where, what = ref[1]
                source = f"args[{what}]" if where == "arg" else constant(what)
                return f"np.array(_data({source}), dtype={constant(ref[2])})"
            return constant(ref[1])  # a literal

        def param(value: Any) -> str:  # an index may hold arrays taken from the arguments
            if isinstance(value, ParamArray):
                return expr(value.source)
            if isinstance(value, tuple):
                return f"({''.join(f'{param(v)}, ' for v in value)})"
            return constant(value)

        def indented(body: list[str], depth: int) -> list[str]:
            return [" " * depth + line for line in body]

        kept = sorted({slot for slot, _ in self.schedule})
        backward_of: dict[int, list[str]] = {}  # inlined backward statements, by slot
        state: dict[int, str] = {}  # what forward hands backward, by slot: s{j} or f{j}
        lines = ["def forward(args, E):"]
        for j, (cls, refs, params, needs, dynamic) in enumerate(self.ops):
            operands = [expr(r) for r in refs]
            keywords = {k: param(v) if dynamic else constant(v) for k, v in params.items()}
            needs_name = constant(needs)
            forward = inlining.statements(
                cls.forward, str(j), operands, keywords, f"s{j}", needs_name, f"v{j}", bind
            )
            backward = inlining.statements(
                cls.backward, str(j), [f"p{j}"], {}, f"s{j}", needs_name, "gs", bind
            )
            if forward is not None and backward is not None:
                lines += [f"    s{j} = None", *indented(forward, 4)]
                lines.append(
                    f"    if v{j}.__class__ is not ndarray: v{j}, s{j} = fix_saved(v{j}, s{j})"
                )
                backward_of[j], state[j] = backward, f"s{j}"
                continue
            if dynamic:
                operands += [f"{k}={v}" for k, v in keywords.items()]
            elif params:
                operands.append(f"**{constant(params)}")
            c = constant(cls)
            lines += [
                f"    f{j} = {c}.__new__({c}); f{j}.needs_input_grad = {needs_name}",
                f"    v{j} = f{j}.forward({', '.join(operands)})",
                f"    if v{j}.__class__ is not ndarray: v{j} = fix(f{j}, v{j})",
            ]
            state[j] = f"f{j}"
        carried = "".join(f"{state[k]}, " for k in kept)
        lines.append(f"    return v{self.out_slot}, ({carried})")
        lines += ["", "def backward(g, fns):"]
        if kept:
            lines.append(f"    {carried}= fns")
        pending = [f"p{slot}" for slot, _ in self.schedule]
        pending += [f"q{k}" for k in range(len(self.leaves))]
        if pending:
            lines.append(f"    {' = '.join(pending)} = None")
        lines.append(f"    p{self.out_slot} = g")
        for slot, targets in self.schedule:
            lines.append(f"    if p{slot} is not None:")
            if slot in backward_of:
                lines += indented(backward_of[slot], 8)
                who = constant(_Named(self.ops[slot][0].__name__))  # for conform's message
            else:
                lines.append(f"        gs = f{slot}.backward(p{slot})")
                who = f"f{slot}"
            for position, target, shape, dtype in targets:
                var = f"p{target}" if target.__class__ is int else f"q{target[1]}"
                sh, dt = constant(shape), constant(dtype)
                lines += [
                    f"        gi = gs[{position}]",
                    "        if gi is not None:",
                    f"            if gi.__class__ is not ndarray or gi.shape != {sh} "
                    f"or gi.dtype != {dt}:",
                    f"                gi = conform(gi, {sh}, {dt}, {who})",
                    f"            {var} = gi if {var} is None else {var} + gi",
                ]
        lines.append(f"    return ({''.join(f'q{k}, ' for k in range(len(self.leaves)))})")
        self.source = "\n".join(lines) + "\n"
        exec(builtins.compile(self.source, "<autograd_lite.compile replay>", "exec"), names)
        self.forward, self.backward = names["forward"], names["backward"]

    def _leaf(self, args: tuple, ref: tuple) -> Tensor:
        return args[ref[1]] if ref[0] == "arg" else self.externals[ref[1]]


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


class _Named:
    """Stands for an inlined operation in ``conform``'s message, which names it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _same(a: Any, b: Any) -> bool:
    """Whether two recorded references mean the same thing: literals by value (to the bit),
    objects from outside by identity, everything else by equality."""
    if isinstance(a, ParamArray) and isinstance(b, ParamArray):
        return _same(a.source, b.source)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            return False
        if a and a[0] == "outside":
            return a[1] is b[1]
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return np.float64(a).tobytes() == np.float64(b).tobytes()
    return type(a) is type(b) and a == b


class ReplayedStep(Function):
    """A replayed call as one node of the graph: backward runs the recorded operations' own
    backward functions, newest first, as eager backward visits them (so the sums are the same)."""

    __slots__ = ("trace", "fns")

    def backward(self, g: np.ndarray) -> tuple:
        return self.trace.backward(g, self.fns)

    def recorded_input_grads(self, grad: Any, output: Any) -> list:
        raise RuntimeError(
            "a compiled step's result cannot be differentiated twice (its backward runs on plain "
            "arrays); for gradients of gradients call the function itself, not its compiled form"
        )

    def free(self, released: Any = None) -> None:
        super().free(released)
        self.fns = None
