"""Correct variants of a reference solution: the same function written another way.

Every rejection of one is a false reject. Each rewrite keeps the behaviour on every input (its
equivalence is still checked, by the same differential check that settles mutants, before it
counts): locals renamed, comparisons of plain names and constants written the other way round,
the body moved into a helper the entry point calls, a list built by a loop written as a
comprehension and a comprehension as a loop, and two independent assignments in the other order.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass

from proctor._syntax import parse_python

FLIPPED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}


@dataclass(frozen=True)
class Rewrite:
    """One correct variant: how it was written, and its code."""

    kind: str
    code: str


def rewrites(source: str, entry_point: str) -> list[Rewrite]:
    """The rewrites of ``source`` that change its text (none when nothing applies)."""
    found = []
    for kind, make in REWRITERS:
        code = make(source, entry_point)
        if code is not None and ast.unparse(parse_python(code)) != ast.unparse(parse_python(source)):
            found.append(Rewrite(kind, code))
    return found


def _renamed_locals(source: str, entry_point: str) -> str | None:
    """Every name a function assigns (not its parameters, not globals it declares) gets a new name."""
    tree = parse_python(source)
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        declared = {name for n in ast.walk(function) if isinstance(n, ast.Global | ast.Nonlocal) for name in n.names}
        params = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
        params |= {a.arg for a in (function.args.vararg, function.args.kwarg) if a is not None}
        inner = [n for n in ast.walk(function) if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda) and n is not function]
        nested = {n.name for n in inner if not isinstance(n, ast.Lambda)}
        nested |= {a.arg for n in inner if not isinstance(n, ast.ClassDef) for a in ast.walk(n.args) if isinstance(a, ast.arg)}
        assigned = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        renamed = {name: f"{name}_" for name in assigned - params - declared - nested}
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and node.id in renamed:
                node.id = renamed[node.id]
    return ast.unparse(tree) + "\n"


def _flipped(source: str, entry_point: str) -> str | None:
    """``a < b`` as ``b > a`` where both sides are plain names or constants (no order of evaluation to keep)."""
    tree = parse_python(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in FLIPPED:
            left, right = node.left, node.comparators[0]
            if isinstance(left, ast.Name | ast.Constant) and isinstance(right, ast.Name | ast.Constant):
                node.left, node.comparators[0] = right, left
                node.ops[0] = FLIPPED[type(node.ops[0])]()
    return ast.unparse(tree) + "\n"


def _helper(source: str, entry_point: str) -> str | None:
    """The entry point's body moved into a helper it calls with the same arguments."""
    tree = parse_python(source)
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)
    if function is None or function.decorator_list:
        return None
    helper = f"_{entry_point}_impl"
    call = f"return {helper}(*args, **kwargs)"
    function.name = helper
    wrapper = parse_python(f"def {entry_point}(*args, **kwargs):\n    {call}\n").body[0]
    tree.body.insert(tree.body.index(function) + 1, wrapper)
    return ast.unparse(tree) + "\n"


def _as_comprehension(source: str, entry_point: str) -> str | None:
    """``name = []`` then ``for target in items: [if cond:] name.append(item)`` as ``name = [item for target in items if cond]``,
    where the loop's names are used nowhere else (a comprehension keeps them to itself)."""
    tree = parse_python(source)
    for function, body in _bodies(tree):
        for i, (first, loop) in enumerate(itertools.pairwise(body)):
            built = _appended_by(first, loop)
            if built is None or not isinstance(loop, ast.For) or _used_outside(function, _names(loop.target), loop):
                continue
            item, condition = built
            generator = ast.comprehension(target=loop.target, iter=loop.iter, ifs=[condition] if condition else [], is_async=0)
            value = ast.ListComp(elt=item, generators=[generator])
            assert isinstance(first, ast.Assign)
            body[i : i + 2] = [ast.Assign(targets=first.targets, value=value, lineno=first.lineno)]
            return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return None


def _appended_by(first: ast.stmt, loop: ast.stmt) -> tuple[ast.expr, ast.expr | None] | None:
    """What ``loop`` appends to the list ``first`` starts empty, and under which condition, if that is all it does."""
    if not (isinstance(first, ast.Assign) and len(first.targets) == 1 and isinstance(first.targets[0], ast.Name)):
        return None
    if not (isinstance(first.value, ast.List) and not first.value.elts and isinstance(loop, ast.For) and not loop.orelse):
        return None
    name, condition, body = first.targets[0].id, None, loop.body
    if len(body) == 1 and isinstance(body[0], ast.If) and not body[0].orelse:
        condition, body = body[0].test, body[0].body
    if len(body) != 1 or not isinstance(body[0], ast.Expr) or not isinstance(call := body[0].value, ast.Call):
        return None
    method = call.func
    if not (isinstance(method, ast.Attribute) and method.attr == "append" and isinstance(method.value, ast.Name)):
        return None
    if method.value.id != name or len(call.args) != 1 or call.keywords or name in _names(call.args[0]) | _names(condition):
        return None
    return call.args[0], condition


def _as_loop(source: str, entry_point: str) -> str | None:
    """``name = [item for target in items if cond]`` (one generator) as a loop appending to ``name``,
    where the comprehension's names are used nowhere else (a loop would leave them set)."""
    tree = parse_python(source)
    for function, body in _bodies(tree):
        for i, statement in enumerate(body):
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)):
                continue
            value, name = statement.value, statement.targets[0].id
            if not isinstance(value, ast.ListComp) or len(value.generators) != 1 or value.generators[0].is_async:
                continue
            generator = value.generators[0]
            if _used_outside(function, _names(generator.target), value) or name in _names(value):
                continue
            append: ast.stmt = ast.Expr(ast.Call(ast.Attribute(ast.Name(name, ast.Load()), "append", ast.Load()), [value.elt], []))
            for condition in reversed(generator.ifs):
                append = ast.If(test=condition, body=[append], orelse=[])
            loop = ast.For(target=generator.target, iter=generator.iter, body=[append], orelse=[], lineno=statement.lineno)
            start = ast.Assign(targets=[ast.Name(name, ast.Store())], value=ast.List([], ast.Load()), lineno=statement.lineno)
            body[i : i + 1] = [start, loop]
            return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return None


def _reordered(source: str, entry_point: str) -> str | None:
    """Two adjacent assignments to different names, neither reading what the other writes and neither calling
    anything (no order of effects to keep), written the other way round."""
    tree = parse_python(source)
    for _, body in _bodies(tree):
        for i, (first, second) in enumerate(itertools.pairwise(body)):
            if _independent(first, second):
                body[i], body[i + 1] = second, first
                return ast.unparse(tree) + "\n"
    return None


def _independent(first: ast.stmt, second: ast.stmt) -> bool:
    simple = [s for s in (first, second) if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)]
    if len(simple) != 2 or any(
        isinstance(n, ast.Call | ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr) for s in simple for n in ast.walk(s)
    ):
        return False
    a, b = (s.targets[0].id for s in simple)  # type: ignore[attr-defined]
    return a != b and a not in _names(simple[1].value) and b not in _names(simple[0].value)


def _bodies(tree: ast.Module) -> list[tuple[ast.FunctionDef, list[ast.stmt]]]:
    """Every statement list inside a function (its body, and the bodies of its blocks), with the function."""
    found = []
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        blocks = [n for n in ast.walk(function) if not isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda) or n is function]
        for node in blocks:
            for field in ("body", "orelse", "finalbody"):
                statements = getattr(node, field, None)
                if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                    found.append((function, statements))
    return found


def _names(node: ast.AST | None) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()


def _used_outside(function: ast.FunctionDef, names: set[str], inside: ast.AST) -> bool:
    """Whether any of ``names`` occurs in ``function`` outside the node ``inside``."""
    within = {id(n) for n in ast.walk(inside)}
    return any(isinstance(n, ast.Name) and n.id in names and id(n) not in within for n in ast.walk(function))


REWRITERS = (
    ("renamed locals", _renamed_locals),
    ("flipped comparisons", _flipped),
    ("helper extracted", _helper),
    ("loop as comprehension", _as_comprehension),
    ("comprehension as loop", _as_loop),
    ("independent statements reordered", _reordered),
)
