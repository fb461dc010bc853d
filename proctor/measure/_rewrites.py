"""Correct variants of a reference solution: the same function written another way.

Every rejection of one is a false reject. Each rewrite keeps the behaviour on every input (its
equivalence is still checked, by the same differential check that settles mutants, before it
counts): locals renamed, comparisons of plain names and constants written the other way round,
and the body moved into a helper the entry point calls.
"""

from __future__ import annotations

import ast
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
    for kind, make in (("renamed locals", _renamed_locals), ("flipped comparisons", _flipped), ("helper extracted", _helper)):
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
