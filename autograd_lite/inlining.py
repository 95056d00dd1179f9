"""An operation's ``forward`` and ``backward`` copied into a compiled replay as plain statements.

``compile`` writes a replay as straight-line code. Called as methods, each operation costs a
Function object, two method calls, a ``save`` call and their argument tuples: about as much as
NumPy's own work on a small network. Where a method is simple enough, its source is copied into
the replay instead, every name renamed apart, with ``self.save(a, b)`` a local tuple, ``self.saved``
that tuple, ``self.needs_input_grad`` the trace's constant and each ``return`` an assignment. The
same NumPy calls run in the same order, so the bits are the same.

A method that does anything else with ``self`` (another attribute, ``self`` passed on), has
closures, ``global`` or ``nonlocal``, ``yield``, ``super()``, a ``return`` inside a loop, or whose
source cannot be read, is called as a method, as before: this is only ever a shortcut.
"""

from __future__ import annotations

import ast
import builtins
import copy
import dis
import functools
import inspect
import textwrap
from collections.abc import Callable
from types import CodeType, ModuleType
from typing import Any

SELF_ATTRIBUTES = ("saved", "needs_input_grad")  # read from self; ``save`` is called as a statement
REFUSED_CALLS = {"super", "locals", "vars", "eval", "exec", "globals"}
REFUSED_NODES = (
    ast.Global,
    ast.Nonlocal,
    ast.Yield,
    ast.YieldFrom,
    ast.Await,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.Delete,
    ast.Import,  # names bound by strings, not Name nodes: renaming them is not worth it
    ast.ImportFrom,
    *[getattr(ast, name) for name in ("Match", "TryStar") if hasattr(ast, name)],  # 3.10, 3.11
)


class Template:
    """A method's parsed body, checked to be copyable, and what renaming it needs."""

    def __init__(self, method: Callable, tree: ast.FunctionDef, early_return: bool) -> None:
        self.tree = tree
        self.parameters = [a.arg for a in tree.args.args[1:]]  # after self
        code = method.__code__
        self.locals = (set(code.co_varnames) | set(code.co_cellvars) | _bound_names(tree)) - {
            "self"
        }
        self.globals = method.__globals__
        self.early_return = early_return
        self.defaults = {
            name: p.default
            for name, p in inspect.signature(method).parameters.items()
            if p.default is not inspect.Parameter.empty
        }


@functools.cache
def template(method: Callable) -> Template | None:
    """``method`` ready to be copied, or None where it must be called."""
    try:
        source = textwrap.dedent(inspect.getsource(method))
        tree = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    code = getattr(method, "__code__", None)
    if code is None or code.co_freevars or not isinstance(tree, ast.FunctionDef):
        return None
    if not _compiles_to(source, code):  # the file changed since it was imported: not this code
        return None
    args = tree.args
    if tree.decorator_list or args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg:
        return None
    if not args.args or args.args[0].arg != "self":
        return None
    allowed_self: set[int] = set()  # the Name nodes of self that are used as allowed
    for node in ast.walk(tree):
        if node is not tree and isinstance(node, REFUSED_NODES):
            return None
        if isinstance(node, ast.Attribute) and _is_self(node.value):
            if node.attr in SELF_ATTRIBUTES and isinstance(node.ctx, ast.Load):
                allowed_self.add(id(node.value))
        if isinstance(node, ast.Expr) and _is_save(node.value):
            allowed_self.add(id(node.value.func.value))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in REFUSED_CALLS:
            return None
    for node in ast.walk(tree):
        if _is_self(node) and id(node) not in allowed_self:
            return None  # self used for anything else: an attribute, passed on, save as a value
    returns = [node for node in ast.walk(tree) if isinstance(node, ast.Return)]
    for loop in ast.walk(tree):
        if isinstance(loop, (ast.For, ast.While, ast.AsyncFor)):
            if any(isinstance(n, ast.Return) for n in ast.walk(loop)):
                return None  # a return in a loop: the break that replaces it would stop the loop
    early = not (len(returns) == 1 and returns[0] is tree.body[-1])
    # A name bound only inside a comprehension is renamed with its uses, everywhere in the method:
    # refused if it is also a global or a builtin, which the method might read elsewhere.
    inner = _bound_names(tree) - set(code.co_varnames) - set(code.co_cellvars)
    if any(name in method.__globals__ or hasattr(builtins, name) for name in inner):
        return None
    return Template(method, tree, early)


def statements(
    method: Callable,
    suffix: str,
    positional: list[str],
    keywords: dict[str, str],
    saved: str,
    needs: str,
    result: str,
    bind: Callable[[Any], str],
) -> list[str] | None:
    """``method``'s body as source lines (unindented), or None where it must be called.

    ``positional`` and ``keywords`` give the source of the arguments' values (a missing one takes
    its default); locals are renamed ``name__suffix``; modules, classes and functions the method
    reads from its module are bound through ``bind`` (which names an object in the replay's
    namespace) when the replay is written, other globals are read from the module at each run;
    ``self.save(...)`` assigns the tuple ``saved``, ``self.saved`` reads it,
    ``self.needs_input_grad`` reads ``needs``, and ``return value`` assigns ``result``.
    """
    found = template(method)
    if found is None or len(positional) > len(found.parameters):
        return None
    arguments = dict(zip(found.parameters, positional, strict=False))
    if set(keywords) - set(found.parameters[len(positional) :]):
        return None  # a keyword that is not a parameter, or given twice
    arguments.update(keywords)
    lines = []
    for name in found.parameters:
        if name in arguments:
            lines.append(f"{name}__{suffix} = {arguments[name]}")
        elif name in found.defaults:
            lines.append(f"{name}__{suffix} = {bind(found.defaults[name])}")
        else:
            return None
    body = _Rewrite(found, suffix, saved, needs, result, bind).rewrite(copy.deepcopy(found.tree))
    if not isinstance(found.tree.body[-1], ast.Return):  # falling off the end returns None
        body.append(ast.parse(f"{result} = None").body[0])
    if found.early_return:  # one pass through a loop, which each return leaves with a break
        if not isinstance(body[-1], ast.Break):  # the last statement was no return
            body.append(ast.Break())
        body = [ast.While(test=ast.Constant(True), body=body, orelse=[])]
    module = ast.Module(body=body, type_ignores=[])
    ast.fix_missing_locations(module)
    return lines + ast.unparse(module).splitlines()


class _Rewrite(ast.NodeTransformer):
    def __init__(
        self,
        found: Template,
        suffix: str,
        saved: str,
        needs: str,
        result: str,
        bind: Callable[[Any], str],
    ) -> None:
        self.found, self.suffix, self.bind = found, suffix, bind
        self.saved, self.needs, self.result = saved, needs, result

    def rewrite(self, tree: ast.FunctionDef) -> list[ast.stmt]:
        statements = tree.body
        first = statements[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            statements = statements[1:]  # the docstring
        body: list[ast.stmt] = []
        for statement in statements:
            done = self.visit(statement)
            body += done if isinstance(done, list) else [done]
        return body or [ast.Pass()]

    def visit_Name(self, node: ast.Name) -> ast.AST:
        name = node.id
        module = self.found.globals
        if name in self.found.locals or (name not in module and not hasattr(builtins, name)):
            return ast.Name(id=f"{name}__{self.suffix}", ctx=node.ctx)  # (an unknown name too:
            # renamed, it stays a NameError, rather than read one of the replay's own names)
        if name not in module:
            return node  # a builtin
        value = module[name]
        if isinstance(value, (type, ModuleType)) or callable(value):
            return ast.Name(id=self.bind(value), ctx=node.ctx)  # bound once: modules, functions
        # Any other global (a number, a flag, an array) is read at each replay, as a call reads it.
        return ast.Subscript(
            value=ast.Name(id=self.bind(module), ctx=ast.Load()),
            slice=ast.Constant(name),
            ctx=node.ctx,
        )

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name in self.found.locals:  # ``except E as err``: err is a string, not a Name
            node.name = f"{node.name}__{self.suffix}"
        return self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if _is_self(node.value):
            return ast.Name(id=self.saved if node.attr == "saved" else self.needs, ctx=ast.Load())
        return self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if _is_save(node.value):
            values = [self.visit(a) for a in node.value.args]
            value = ast.Tuple(elts=values, ctx=ast.Load())
            return ast.Assign(targets=[ast.Name(id=self.saved, ctx=ast.Store())], value=value)
        return self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> Any:
        value = self.visit(node.value) if node.value is not None else ast.Constant(None)
        assign = ast.Assign(targets=[ast.Name(id=self.result, ctx=ast.Store())], value=value)
        return [assign, ast.Break()] if self.found.early_return else assign


def _compiles_to(source: str, code: CodeType) -> bool:
    """Whether ``source`` (a ``def``) compiles to ``code``'s instructions, names and constants, so
    that what is copied is what runs when the method is called (a file edited since it was
    imported is not). Compiled alone, a call on an imported module (``np.exp(x)``) is a method
    call; those two spellings of one call count as the same."""
    try:
        module = compile(source, "<inlining check>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    compiled = [c for c in module.co_consts if isinstance(c, CodeType)]
    return len(compiled) == 1 and _same_code(compiled[0], code)


def _same_code(a: CodeType, b: CodeType) -> bool:
    first, second = _instructions(a), _instructions(b)
    if len(first) != len(second):
        return False
    for (op, arg), (op2, arg2) in zip(first, second, strict=True):
        if op != op2:
            return False
        if isinstance(arg, CodeType) and isinstance(arg2, CodeType):
            if not _same_code(arg, arg2):
                return False
        elif arg != arg2:
            return False
    return True


def _instructions(code: CodeType) -> list[tuple[str, Any]]:
    """(operation, argument) of each instruction, with jumps as instruction numbers and
    constants by type and repr (so that -0.0 and 0.0 differ, and NaN equals NaN)."""
    listed = [i for i in dis.get_instructions(code) if i.opname not in ("EXTENDED_ARG", "NOP")]
    number = {instruction.offset: n for n, instruction in enumerate(listed)}
    jumps = set(dis.hasjrel) | set(dis.hasjabs)
    result: list[tuple[str, Any]] = []
    for instruction in listed:
        op, value = instruction.opname, instruction.argval
        if op == "LOAD_METHOD":
            op = "LOAD_ATTR"
        if instruction.opcode in jumps:
            value = number.get(value)
        elif not isinstance(value, CodeType):
            value = (type(value), repr(value))
        result.append((op, value))
    return result


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the method binds, in its own scope or a comprehension's."""
    names = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.name}
    return names


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _is_save(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "save"
        and _is_self(node.func.value)
        and not node.keywords
    )
