"""The operations, grouped by kind. Each is one ``Function`` subclass: forward beside derivative."""

from . import elementwise, linalg, reduce, shape

__all__ = ["elementwise", "linalg", "reduce", "shape"]
