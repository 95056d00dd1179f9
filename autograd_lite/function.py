"""The base class every operation derives from, and the broadcasting rule shared by all of them.

An operation is one small class: ``forward`` computes the value from NumPy arrays, ``backward``
maps the gradient of the output to the gradient of each input. Its docstring states the local
derivative. ``Function.apply`` wraps the arrays in a ``Tensor`` and records the node in the graph.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import versions
from .grad_mode import _mode

if TYPE_CHECKING:
    from .tensor import Tensor


# Each recorded operation's place in creation order: reversed, it is a topological order.
_creation_order = itertools.count()
_ABSENT = object()  # in Function._in1: the operation has one input
# The params of an operation without any: shared and read-only. An empty dict per operation was
# 64 bytes, and one more object for each of the garbage collector's full scans to visit.
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
# needs_input_grad of a recorded operation, shared: one input (which requires grad), or two
_NEEDS_ONE = b"\x01"
_NEEDS = {(a, b): bytes([a, b]) for a in (False, True) for b in (False, True)}


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving it ``shape``.

    Broadcasting copies an input along those axes, so by the chain rule the copies' gradients add.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra == 1 and grad.__class__ is np.ndarray and grad.shape[1:] == shape:
        return np.add.reduce(grad, axis=0)  # a bias added to each row: grad.sum(axis=0)'s bits
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:  # never reshape to fit: that would hide a wrong backward
        raise ValueError(f"a gradient of shape {grad.shape} does not reduce to shape {shape}")
    return grad


def conform(g: Any, shape: tuple[int, ...], dtype: Any, fn: Function) -> np.ndarray:
    """A gradient from ``fn.backward`` as an array of its input's shape and dtype."""
    if g.__class__ is not np.ndarray or g.shape != shape:
        try:
            g = unbroadcast(np.asarray(g), shape)
        except ValueError as err:
            raise RuntimeError(f"{fn.name}.backward is wrong: {err}") from None
    return g if g.dtype == dtype else g.astype(dtype)


class Function:
    """One recorded operation: its inputs, its parameters and what backward needs from forward.

    Subclasses define ``forward(*arrays, **params) -> array`` and ``backward(grad) -> tuple`` with
    one gradient (or ``None``) per input, each of the input's shape or broadcastable to it;
    ``self.save(...)`` in forward keeps what backward reads as ``self.saved``, and
    ``self.needs_input_grad[i]`` is 1 where input i takes a gradient (0 where it need not be
    computed). Written with operators, the methods arrays and Tensors share and the functions of
    ``xp = array_namespace(g)``, a backward is differentiable again: ``grad(...,
    create_graph=True)`` runs it on Tensors, with the saved inputs and output as Tensors
    (docs/higher_order.md).
    """

    # The inputs live in slots, not in a tuple of their own: one object fewer per operation for
    # Python's garbage collector to track and scan (``inputs`` gives them as a tuple).
    __slots__ = (
        "_in0",
        "_in1",
        "_more",
        "params",
        "needs_input_grad",
        "saved",
        "freed",
        "tick",
        "seq",
        "site",
        "_output_meta",
        "_output_released",
    )

    # True where forward's ValueErrors already name the call and say what to do (nn's losses
    # check their targets inside): apply raises them as they are, without "<name> of shapes ...:"
    # in front, so that a replay by compile, which calls forward directly, raises the same text.
    own_messages = False

    @property
    def inputs(self) -> tuple:
        """The input tensors, in order (after a releasing backward, placeholders for the
        intermediate results and constant arrays among them: see ``free``)."""
        more = self._more
        if more is None:
            second = self._in1
            more = (self._in0,) if second is _ABSENT else (self._in0, second)
        if self.freed:
            more = tuple([x.output_released() if isinstance(x, Function) else x for x in more])
        return more

    @inputs.setter
    def inputs(self, value: Any) -> None:
        value = tuple(value)
        if len(value) == 1:
            self._in0, self._in1, self._more = value[0], _ABSENT, None
        elif len(value) == 2:
            self._in0, self._in1, self._more = value[0], value[1], None
        else:
            self._more = value

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    def save(self, *arrays: Any) -> None:
        """Keep what backward needs; released after backward unless ``retain_graph=True``."""
        self.saved = arrays

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        Tensor = _tensor.Tensor
        # Written out for one and two operands (nearly every operation), with local names and no
        # generator expressions: this runs once per operation.
        count = len(inputs)
        if count == 2:
            first, second = inputs
            if not isinstance(first, Tensor):
                first = _constant(first, inputs)
            if not isinstance(second, Tensor):
                second = _constant(second, inputs)
            tensors = (first, second)
            record = first._requires_grad or second._requires_grad
        elif count == 1:
            first = inputs[0]
            if not isinstance(first, Tensor):
                first = _constant(first, inputs)
            tensors = (first,)
            record = first._requires_grad
        else:
            tensors = tuple([x if isinstance(x, Tensor) else _constant(x, inputs) for x in inputs])
            record = any([t._requires_grad for t in tensors])
        fn = cls()
        try:
            if count == 2:
                data = fn.forward(first.data, second.data, **params)
            elif count == 1:
                data = fn.forward(first.data, **params)
            else:
                data = fn.forward(*[t.data for t in tensors], **params)
        except ValueError as err:
            if cls.own_messages:
                raise
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{cls.__name__.lower()} of shapes {shapes}: {err}") from None
        except FloatingPointError as err:  # only under detect_anomaly() or np.errstate(raise)
            from .anomaly import anomaly_error, user_site

            arrays = [t.data for t in tensors]
            raise anomaly_error(fn, "forward", arrays, err, user_site(), params) from None
        if data.__class__ is not np.ndarray:  # NumPy gives scalars for 0-d results
            data = _as_array_in_saved(fn, data)
        mode = _mode
        record = record and mode.enabled
        out = Tensor._make(data, record, fn if record else None)
        if data.base is not None:  # a view of an input: changing one changes the other
            share_version_counter(out, tensors)
        if mode.tracer is not None:  # compile() is recording this call
            mode.tracer.record(cls, inputs, tensors, params, out)
        if record:
            if count == 2:
                fn._in0, fn._in1, fn._more = first, second, None
                fn.needs_input_grad = _NEEDS[first._requires_grad, second._requires_grad]
            elif count == 1:
                fn._in0, fn._in1, fn._more = first, _ABSENT, None
                fn.needs_input_grad = _NEEDS_ONE
            else:
                fn._more = tensors
                # bytes, not a tuple: indexable like one, and not tracked by the garbage collector
                fn.needs_input_grad = bytes([t._requires_grad for t in tensors])
            fn.params = params if params else _NO_PARAMS  # no empty dict per operation
            fn.freed = False
            fn.tick = versions.last_tick
            fn.seq = next(_creation_order)
            if mode.anomaly:  # so that an anomaly found in backward can name this line
                from .anomaly import user_site

                fn.site = user_site()
        return out

    def input_grads(self, grad: np.ndarray) -> list[tuple[Tensor, np.ndarray]]:
        """(input, gradient) for each input that requires grad, in the input's shape and dtype."""
        pairs = []
        for t, need, g in zip(self.inputs, self.needs_input_grad, self.backward(grad), strict=True):
            if need and g is not None:
                data = t.data
                if g.__class__ is not np.ndarray or g.shape != data.shape or g.dtype != data.dtype:
                    g = conform(g, data.shape, data.dtype, self)
                pairs.append((t, g))
        return pairs

    def recorded_input_grads(self, grad: Tensor, output: Tensor) -> list[tuple[Tensor, Tensor]]:
        """``input_grads`` as a graph: ``backward`` runs on Tensors, so that it is recorded.

        The arrays ``forward`` saved are handed to ``backward`` as the Tensors they belong to (an
        input's or the output's data); any other saved array stays a constant.
        """
        Tensor = _tensor.Tensor
        saved = getattr(self, "saved", None)
        if saved:
            self.saved = tuple(_owner(a, self.inputs, output) for a in saved)
        try:
            grads = self.backward(grad)
        finally:
            self.saved = saved
        pairs = []
        for t, need, g in zip(self.inputs, self.needs_input_grad, grads, strict=True):
            if need and g is not None:
                if not isinstance(g, Tensor):
                    g = Tensor._make(np.asarray(g), False, None)
                if g.shape != t.shape:
                    try:
                        g = unbroadcast(g, t.shape)
                    except ValueError as err:
                        raise RuntimeError(f"{self.name}.backward is wrong: {err}") from None
                if g.dtype != t.dtype:
                    g = g.astype(t.dtype)
                pairs.append((t, g))
        return pairs

    def free(self, released: dict | None = None) -> None:
        """Drop what backward needed. With ``released`` (a memo shared by one backward pass), also
        let go of the values of intermediate results and constant arrays, keeping the graph's
        shape: a loss kept after ``backward()`` must not keep every activation alive.

        An intermediate result is let go of by pointing at the operation that made it instead
        (which records the result's shape, dtype and name): no new object per operation. ``inputs``
        shows it as a ``Released`` placeholder, made only when something looks.
        """
        self.saved = None
        self.freed = True
        if released is None:
            return
        if self._more is not None:
            self._more = tuple([_let_go(t, released) for t in self._more])
            return
        self._in0 = _let_go(self._in0, released)
        if self._in1 is not _ABSENT:
            self._in1 = _let_go(self._in1, released)

    def output_released(self) -> Released:
        """The placeholder for this operation's result, once backward let go of its value."""
        placeholder = getattr(self, "_output_released", None)
        if placeholder is None:
            shape, dtype, name = self._output_meta
            placeholder = self._output_released = Released(shape, dtype, name, True, self)
        return placeholder


def _let_go(t: Any, released: dict) -> Any:
    """What a freed operation keeps in place of its input ``t``: the operation that made ``t``
    for an intermediate result, a ``Released`` placeholder for a constant array; parameters and
    numbers (and what was let go of already) are kept as they are."""
    fn = t._ctx
    if fn is not None:
        fn._output_meta = (t.data.shape, t.data.dtype, t.name)
        return fn
    if t._requires_grad or t.data is None or t.data.ndim == 0:
        return t
    placeholder = released.get(t)
    if placeholder is None:
        placeholder = released[t] = Released(t.data.shape, t.data.dtype, t.name, False, None)
    return placeholder


def _as_array_in_saved(fn: Function, value: Any) -> np.ndarray:
    """``value`` as an array, also where ``fn`` saved it (``_as_array_in``)."""
    array, saved = _as_array_in(value, getattr(fn, "saved", None))
    if saved:
        fn.saved = saved
    return array


def _as_array_in(value: Any, saved: tuple | None) -> tuple[np.ndarray, tuple | None]:
    """``value`` (a NumPy scalar from a 0-d result) as an array, and ``saved`` with the array in
    its place: a saved output must be the output's own array, or a recorded backward could not
    tell that it is the output. A compiled replay calls it on its copied operations' tuples."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if saved:
        saved = tuple([array if a is value else a for a in saved])
    return array, saved


def _owner(array: Any, inputs: tuple, output: Tensor) -> Any:
    """The Tensor whose data ``array`` is (an input or the output), else ``array`` itself."""
    if isinstance(array, np.ndarray):
        if array is output.data:
            return output
        for t in inputs:
            if array is t.data:
                return t
    return array


class Released:
    """What a graph keeps of a tensor whose value backward released: its place, name, shape and
    dtype, so that pictures can still be drawn (the value shows as released)."""

    __slots__ = ("shape", "dtype", "name", "_requires_grad", "_ctx")
    data = None
    grad = _grad = _hooks = None

    def __init__(self, shape: tuple, dtype: Any, name: Any, requires_grad: bool, ctx: Any) -> None:
        self.shape, self.dtype, self.name = shape, dtype, name
        self._requires_grad, self._ctx = requires_grad, ctx

    requires_grad = property(lambda self: self._requires_grad)
    is_leaf = property(lambda self: self._ctx is None)
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape)))


def share_version_counter(view: Tensor, tensors: tuple) -> None:
    """Give ``view`` the version counter of the input whose memory it shares."""
    base = view.data.base
    for t in tensors:  # the usual case, cheaply: a view of an input or of the array it views
        if base is t.data or base is t.data.base:
            break
    else:
        for t in tensors:
            if np.may_share_memory(view.data, t.data):
                break
        else:
            return
    if t._version_counter is None:
        t._version_counter = [0, 0]
    view._version_counter = t._version_counter


def _constant(value: Any, inputs: tuple) -> Tensor:
    """A non-Tensor operand as a constant Tensor (arrays are copied, so that changing the
    caller's array after the forward pass cannot change what backward reads).

    Arrays and lists keep NumPy's own dtype rules; Python numbers are ``_number``'s.
    """
    kind = value.__class__
    if kind is float or kind is int:  # a Python number, the usual operand (bool's class is bool)
        return _number(value, inputs)
    Tensor = _tensor.Tensor
    if kind is np.ndarray and value.dtype.kind in "fiub":  # as_array's checks, cheaply
        return Tensor._make(value.copy(order="K"), False, None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # np.float64 is a float
        return _number(value, inputs)
    return Tensor._make(_tensor.as_array(value, copy=True), False, None)


def _number(value: float, inputs: tuple) -> Tensor:
    """A Python number operand: it takes the floating dtype of the Tensor operands, as in PyTorch,
    so that ``float32_tensor * 2.0`` stays float32. With integer or bool tensors only, it takes
    the dtype NumPy and PyTorch give a Python number there: ``int32_tensor + 1`` stays int32,
    ``int_tensor * 0.5`` is float64 (the default floating dtype), ``bool_tensor + 1`` is int64.
    It becomes a shared read-only constant, made once per value and dtype: ``x * 0.5`` in a loop
    makes no new object for the 0.5 (pictures still draw it at each use)."""
    Tensor = _tensor.Tensor
    dtype = other = None
    for x in inputs:
        if isinstance(x, Tensor):
            floating = x.data.dtype
            if floating.kind == "f":
                dtype = floating
                break
            if other is None:
                other = floating
    if dtype is None and other is not None:  # NumPy's rule for a Python number (NEP 50)
        dtype = np.result_type(other, value)
    table = _numbers.get(dtype)  # by dtype, then by value: no key tuple to build per operand
    if table is None:
        table = _numbers[dtype] = {}
    # The sign of zero is part of the key: 0.0 == -0.0, but x * -0.0 and x * 0.0 differ.
    key = value if value else (value, math.copysign(1.0, value))
    constant = table.get(key)
    if constant is None:
        try:
            array = _tensor.as_array(value) if dtype is None else np.asarray(value, dtype=dtype)
        except OverflowError:
            raise OverflowError(
                f"the number {value} does not fit in the tensor's dtype {dtype}; convert the "
                f"tensor to a wider one first (e.g. t.astype(np.int64))"
            ) from None
        array.flags.writeable = False
        constant = Tensor._make(array, False, None)
        if len(table) < 4096:  # numbers drawn afresh each step must not grow it forever
            table[key] = constant
    return constant


_numbers: dict[Any, dict[Any, Tensor]] = {}


# Last, because tensor.py imports the ops, which import Function from this module.
from . import tensor as _tensor  # noqa: E402
