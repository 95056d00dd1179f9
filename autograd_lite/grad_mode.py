"""Whether operations are recorded: ``no_grad``, ``enable_grad`` and ``is_grad_enabled``.

The setting belongs to the thread, as in PyTorch: a validation loop under ``no_grad`` in one
thread must not cut the graph that another thread is building. A new thread starts recording.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any


class _ThreadGradMode(threading.local):
    enabled = True  # the class default is what every new thread sees
    anomaly = False  # inside detect_anomaly(): operations remember the line that made them
    tracer = None  # while compile() records a call: the Recorder that sees every operation

    def __init__(self) -> None:  # runs once in each thread
        # For each no_grad/enable_grad object entered in this thread and not yet exited: the
        # settings it replaced, innermost last.
        self.replaced: dict[Any, list[bool]] = {}


_mode = _ThreadGradMode()


def is_grad_enabled() -> bool:
    """Whether new operations in this thread are recorded (``False`` inside ``no_grad``)."""
    return _mode.enabled


grad_enabled = is_grad_enabled  # the name this module's users had before PyTorch's was added


class _GradMode(contextlib.ContextDecorator):
    """Set whether this thread records operations, restoring the previous setting on exit.

    The previous settings are a stack, so one instance can be entered again before it exits: a
    recursive function under ``@no_grad()`` re-enters the same instance. As a decorator of a
    generator function it covers the generator's body, each time it resumes, and not the caller
    between two ``next()`` calls.
    """

    enabled = True

    def __enter__(self) -> _GradMode:
        mode = _mode
        stack = mode.replaced.get(self)
        if stack is None:
            stack = mode.replaced[self] = []
        stack.append(mode.enabled)
        mode.enabled = self.enabled
        return self

    def __exit__(self, *exc: object) -> None:
        mode = _mode
        stack = mode.replaced[self]
        mode.enabled = stack.pop()
        if not stack:
            del mode.replaced[self]

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(func):
            return around_each_resume(self, func)
        return super().__call__(func)


def around_each_resume(context: Any, func: Callable[..., Any]) -> Callable[..., Any]:
    """A generator function whose body runs inside the re-entrant ``context`` each time it
    resumes, and outside it while paused (the caller's code between two ``next()`` calls)."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        try:
            with context:
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with context:
                        gen.close()
                    raise
                except BaseException as err:
                    with context:
                        response = gen.throw(err)
                else:
                    with context:
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator


class no_grad(_GradMode):
    """Record nothing inside: ``with no_grad(): ...`` or ``@no_grad()`` on a function."""

    enabled = False


class enable_grad(_GradMode):
    """Record again inside a ``no_grad`` block."""

    enabled = True
