"""The formulas ``explain`` prints: each operation's local derivative read from its docstring.

An operation's docstring is the one place its derivative is written down (docs/operations.md
shows the same text); these helpers find the formula for one input, put the numbers of one
element into it, and write the expressions the tutorials write.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from .tensor import Tensor

_SUPER = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ᵖˣʸⁱʲⁿᵏ"
_PLAIN = "0123456789−+pxyijnk"
_TO_PLAIN = str.maketrans(_SUPER, _PLAIN)
_TO_SUPER = str.maketrans("0123456789-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")
_LETTER = re.compile(r"(?<![A-Za-z_])([A-Za-z])(?![A-Za-z0-9_])")  # x, 2x, σ(x); not ln, x1
_DERIVATIVE = re.compile(r"∂([zZL])/∂([A-Za-z])([ᵢⱼₖ]*)\s*=\s*")
_NOTE = re.compile(r",\s+(?:taken|as|which|unlike|see|because|with|the)\b.*$")


@functools.cache
def _documented(cls: type) -> tuple[dict[str, tuple[str, bool, bool]], str, dict[str, str]]:
    """From an operation's docstring: {input letter: (formula, elementwise, is a VJP)}, the text
    shown when no derivative is written as ``∂z/∂x = …``, and {letter: parameter name} for the
    constants the definition names ("for a constant number p").

    A derivative runs from its ``∂z/∂x =`` to the next one (or the paragraph's end); an
    elementwise one is written ∂z/∂x, one about a whole tensor ∂z/∂xᵢ or ∂L/∂X (a VJP)."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    paragraph = " ".join(doc.split("\n\n")[0].split("\n"))
    marks = list(_DERIVATIVE.finditer(paragraph))
    found = {}
    for k, m in enumerate(marks):
        out, letter, sub = m.groups()
        stop = marks[k + 1].start() if k + 1 < len(marks) else len(paragraph)
        found.setdefault(
            letter, (_clean(paragraph[m.end() : stop]), not sub and out == "z", out == "L")
        )
    definition = paragraph[: marks[0].start()] if marks else paragraph
    constants = {}
    for letter in re.findall(r"constant (?:number |scalar )?([A-Za-z])\b", definition):
        constants[letter] = letter
    parts = [p.strip() for p in re.split(r"\s{3,}", paragraph) if p.strip()]
    fallback = re.split(r";\s|\.\s", " ".join(parts[1:]) or doc.split("\n")[0])[0].rstrip(".")
    if len(fallback) > 60:  # a derivative described at length: its first words, for a factor
        fallback = fallback[:59].rstrip(" ,") + "…"
    return found, fallback, constants


def _clean(text: str) -> str:
    """The formula alone: notes removed ("; at x = 0 it is …", ": …", "(0 at x = 0)",
    ", taken as …"), and of several equal forms the last, in the output's terms
    (σ(x)(1 − σ(x)) = z(1 − z)) unless the formula has conditions ("½ where x = y")."""
    text = re.split(r";\s|:\s|\.\s", text.strip())[0].strip().rstrip(".,;")
    while True:
        m = re.search(r"\s*\(([^()]*)\)\s*$", text)
        if not m or not re.search(r"[A-Za-z]{2,}", m.group(1)):
            break
        text = text[: m.start()].rstrip(" ,")
    text = _NOTE.sub("", text).strip().rstrip(".,;")
    if re.search(r"\b(?:where|for|if|when|at)\b", text):
        return text
    return text.split(" = ")[-1].strip()


def _input_letters(cls: type, count: int) -> list[str | None]:
    """The letter each input has in the docstring: forward's parameter names, in order."""
    try:
        params = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return [None] * count
    letters: list[str | None] = []
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return letters + [p.name[0]] * (count - len(letters))
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and len(letters) < count:
            letters.append(p.name if len(p.name) == 1 else None)
    return letters + [None] * (count - len(letters))


def _documented_entry(fn: Any, k: int) -> tuple[str | None, bool, bool]:
    """(∂out/∂input k as its docstring writes it or None, whether elementwise, whether a VJP)."""
    found, _, _ = _documented(type(fn))
    letter = _doc_letters(fn)[k]
    return found.get(letter, (None, False, False)) if letter else (None, False, False)


def _doc_letters(fn: Any) -> list[str | None]:
    """The letter the docstring gives each input: forward's parameter name (X for x too), or,
    when the docstring uses other letters for as many inputs, its letters in order."""
    cls = type(fn)
    found, _, _ = _documented(cls)
    letters = []
    for name in _input_letters(cls, len(fn.inputs)):
        spellings = (name, name.upper(), name.lower()) if name else ()  # None: a longer name
        match = [c for c in spellings if c in found]
        letters.append(match[0] if match else name)
    if not any(letter in found for letter in letters) and len(found) == len(fn.inputs):
        letters = list(found)  # x, y as they appear, for forward(self, a, b)
    return letters


def _op_formula(fn: Any, k: int, out: Tensor, element: Any, name: Any, alone: bool) -> str:
    """∂out/∂(input k) as the operation's docstring writes it, with the graph's names (for the
    ``element`` of ``out`` when the derivative is elementwise). An operation whose docstring says
    it in words (Reshape: "the gradient is g with x's shape") is quoted when it is the link's only
    operation, and named in brackets inside a product."""
    cls = type(fn)
    _, fallback, constants = _documented(cls)
    letters = _doc_letters(fn)
    mine = letters[k]
    text, elementwise, vjp = _documented_entry(fn, k)
    if text is None:
        return f"{fn.name}: {fallback[:1].lower()}{fallback[1:]}" if alone else f"[{fn.name}]"
    values: dict[str, str] = {}
    for i, letter in enumerate(letters):
        if letter is not None:
            t = fn.inputs[i]
            idx = _input_index(element, out.shape, t.shape) if elementwise else None
            values[letter] = values[letter.upper()] = name(t, idx)
    values["z"] = values["Z"] = name(out, element if elementwise else None)
    numbers = [v for v in (fn.params or {}).values() if isinstance(v, (int, float))]
    for letter in constants:
        if len(numbers) == 1 and not isinstance(numbers[0], bool):
            values[letter] = _number(numbers[0])
    result = _substitute(text, values)
    if vjp:
        result = f"∂L/∂{values.get(mine, mine)} = {result}"
    return result


def _substitute(text: str, values: dict[str, str]) -> str:
    text = re.sub(f"[{_SUPER}]+", lambda m: "^(" + m.group(0).translate(_TO_PLAIN) + ")", text)

    def letter(m: re.Match) -> str:
        if m.group(1) not in values:
            return m.group(1)
        name = values[m.group(1)]
        after_digit = m.start() > 0 and m.string[m.start() - 1].isdigit()
        return ("·" if after_digit and len(name) > 1 else "") + name  # 2x -> 2·out_h1, 2z

    text = _LETTER.sub(letter, text)

    def power(m: re.Match) -> str:
        exponent = m.group(1)
        number = _arithmetic(exponent)
        if number is not None:
            if number == 1:
                return ""
            if float(number).is_integer():
                return str(int(number)).translate(_TO_SUPER)
            return f"^({_number(number)})"
        return f"^{exponent}" if re.fullmatch(r"\w+", exponent) else f"^({exponent})"

    return re.sub(r"\^\(([^()]*)\)", power, text)


def _arithmetic(text: str) -> float | None:
    """The value of ``a``, ``a + b`` or ``a − b`` written with plain numbers, else None."""
    m = re.fullmatch(r"\s*(−?[0-9.]+)\s*(?:([+−-])\s*([0-9.]+))?\s*", text)
    if m is None:
        return None
    try:
        first = float(m.group(1).replace("−", "-"))
        second = float(m.group(3)) if m.group(3) else 0.0
    except ValueError:
        return None
    return first + second if m.group(2) in (None, "+") else first - second


def _number(value: Any) -> str:
    value = float(value)
    text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    return text.replace("-", "−")


def _wrap(text: str) -> str:
    """``text`` in parentheses if it is a sum, starts with a minus or has conditions ("1 where
    x > 0, else 0"), so that it can be multiplied safely."""
    if re.search(r",\s|\s(?:where|for)\s", text) and not text.startswith("("):
        return f"({text})"
    depth, top_level = 0, False
    for i, ch in enumerate(text):
        depth += ch in "([" and 1 or 0
        depth -= ch in ")]" and 1 or 0
        if depth == 0 and ch in "+−-" and (i == 0 or text[i - 1] == " "):
            top_level = True
    return f"({text})" if top_level else text


def _input_index(index: Any, out_shape: tuple, in_shape: tuple) -> Any:
    """The element of a broadcast input that feeds element ``index`` of the output."""
    if index is None or len(in_shape) > len(out_shape):
        return None
    index = tuple(index)[len(out_shape) - len(in_shape) :]
    return tuple(0 if n == 1 else i for i, n in zip(index, in_shape, strict=True))


_INFIX = {"Add": " + ", "Sub": " − ", "Mul": "·", "Div": "/", "MatMul": " @ "}
_FUNCTIONS = {"Exp": "exp", "Log": "ln", "Sqrt": "√", "Tanh": "tanh", "Sigmoid": "σ"}


def _expression(t: Tensor, labels: dict[int, str], depth: int, element: Any = None) -> str:
    """A short formula for an unnamed intermediate, from the operations that made it (about its
    ``element`` when known, through the elementwise operations)."""
    if t._ctx is None or t.name:
        label = labels.get(id(t), "?")
        if element is not None and t.size > 1:
            label += f"[{','.join(str(int(i)) for i in element)}]"
        return label
    if depth == 0:
        return "…"
    fn = t._ctx
    elementwise = fn.name in _INFIX and fn.name != "MatMul" or fn.name in ("Neg", "PowScalar")
    elementwise = elementwise or fn.name in _FUNCTIONS
    args = [
        _expression(
            p, labels, depth - 1, _input_index(element, t.shape, p.shape) if elementwise else None
        )
        for p in fn.inputs
    ]
    if fn.name in _INFIX and len(args) == 2:
        return _INFIX[fn.name].join(_wrap(a) if fn.name != "Add" else a for a in args)
    if fn.name == "Neg":
        return "−" + _wrap(args[0])
    if fn.name == "PowScalar":
        return _substitute(f"{_wrap(args[0])}^({_number(fn.params['exponent'])})", {})
    if fn.name in _FUNCTIONS:
        return f"{_FUNCTIONS[fn.name]}({args[0]})"
    return f"{fn.name.lower()}({', '.join(args)})"
