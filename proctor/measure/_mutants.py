"""Faulty variants of a reference solution, one small edit each, by AST mutation operators.

Every operator finds its sites in one walk of the parsed source (``ast.walk`` order) and makes
one mutant per site and change; a mutant is the whole module unparsed after that one edit.
Docstrings are never mutated. Mutants that do not compile, or that unparse to the reference
itself or to an earlier mutant, are dropped.

Operators (the issue's list): comparison and arithmetic swaps, integer constants ±1, off-by-one
bounds (``range``'s last argument, slice bounds), swapped branches, deleted statements,
``min``/``max`` and ``any``/``all``, dropped or added ``not``, ``and``/``or``, and constant returns.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from proctor._syntax import parse_python
from proctor.loop._simulated import COMPARE_SWAPS

# The simulated proposer's swaps, and identity.
COMPARISONS: dict[type[ast.cmpop], type[ast.cmpop]] = {**COMPARE_SWAPS, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
ARITHMETIC: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
SWAPPED_NAMES = {"min": "max", "max": "min", "any": "all", "all": "any"}


@dataclass(frozen=True)
class Mutant:
    """One faulty variant: which operator made it, where (line), what it changed, and its code."""

    operator: str
    line: int
    change: str
    code: str


# An operator: (name, sites in a tree, the changes one site allows). A change edits the site in
# place and says what it did.
Change = Callable[[ast.AST], str]
Operator = tuple[str, Callable[[ast.AST], bool], Callable[[ast.AST], list[Change]]]


def _comparison(node: ast.AST) -> list[Change]:
    assert isinstance(node, ast.Compare)

    def swap(site: ast.AST) -> str:
        assert isinstance(site, ast.Compare)
        old = site.ops[0]
        site.ops[0] = COMPARISONS[type(old)]()
        return f"{type(old).__name__} -> {type(site.ops[0]).__name__}"

    return [swap] if type(node.ops[0]) in COMPARISONS else []


def _arithmetic(node: ast.AST) -> list[Change]:
    assert isinstance(node, ast.BinOp | ast.AugAssign)

    def swap(site: ast.AST) -> str:
        assert isinstance(site, ast.BinOp | ast.AugAssign)
        old = site.op
        site.op = ARITHMETIC[type(old)]()
        return f"{type(old).__name__} -> {type(site.op).__name__}"

    return [swap] if type(node.op) in ARITHMETIC else []


def _constant(node: ast.AST) -> list[Change]:
    assert isinstance(node, ast.Constant)

    def by(step: int) -> Change:
        def shift(site: ast.AST) -> str:
            assert isinstance(site, ast.Constant) and type(site.value) is int
            old = site.value
            site.value = old + step
            return f"{old} -> {old + step}"

        return shift

    return [by(1), by(-1)] if type(node.value) is int else []


def _plus(expression: ast.expr, step: int) -> ast.expr:
    return ast.BinOp(left=expression, op=ast.Add() if step > 0 else ast.Sub(), right=ast.Constant(abs(step)))


def _bound(node: ast.AST) -> list[Change]:
    """``range``'s last argument ±1; a slice's present bounds ±1."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" and node.args:
        return [_shift_range(step) for step in (1, -1)]
    if isinstance(node, ast.Slice):
        return [_shift_slice(bound, step) for bound in ("lower", "upper") if getattr(node, bound) is not None for step in (1, -1)]
    return []


def _shift_range(step: int) -> Change:
    def shift(site: ast.AST) -> str:
        assert isinstance(site, ast.Call)
        site.args[-1] = _plus(site.args[-1], step)
        return f"range bound {step:+d}"

    return shift


def _shift_slice(bound: str, step: int) -> Change:
    def shift(site: ast.AST) -> str:
        setattr(site, bound, _plus(getattr(site, bound), step))
        return f"slice {bound} bound {step:+d}"

    return shift


def _branches(node: ast.AST) -> list[Change]:
    if isinstance(node, ast.If) and node.orelse:

        def swap_if(site: ast.AST) -> str:
            assert isinstance(site, ast.If)
            site.body, site.orelse = site.orelse, site.body
            return "swapped if/else"

        return [swap_if]
    if isinstance(node, ast.IfExp):

        def swap_ifexp(site: ast.AST) -> str:
            assert isinstance(site, ast.IfExp)
            site.body, site.orelse = site.orelse, site.body
            return "swapped conditional expression"

        return [swap_ifexp]
    return []


def _negation(node: ast.AST) -> list[Change]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return [_drop_not]
    if isinstance(node, ast.If | ast.While):
        return [_add_not]
    return []


def _drop_not(site: ast.AST) -> str:
    assert isinstance(site, ast.UnaryOp)
    site.op = _DROPPED  # marks the node: ``_of_operator`` puts its operand in its place
    return "dropped a not"


class _Dropped(ast.unaryop):
    """Not an operator: the mark of a ``not`` to be replaced by its operand."""


_DROPPED = _Dropped()


class _Unwrap(ast.NodeTransformer):
    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return node.operand if node.op is _DROPPED else node


def _add_not(site: ast.AST) -> str:
    assert isinstance(site, ast.If | ast.While)
    site.test = ast.UnaryOp(op=ast.Not(), operand=site.test)
    return f"negated the {type(site).__name__.lower()} condition"


def _boolean(node: ast.AST) -> list[Change]:
    if not isinstance(node, ast.BoolOp):
        return []

    def swap(site: ast.AST) -> str:
        assert isinstance(site, ast.BoolOp)
        site.op = ast.Or() if isinstance(site.op, ast.And) else ast.And()
        return "and <-> or"

    return [swap]


def _names(node: ast.AST) -> list[Change]:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SWAPPED_NAMES):
        return []

    def swap(site: ast.AST) -> str:
        assert isinstance(site, ast.Call) and isinstance(site.func, ast.Name)
        old = site.func.id
        site.func.id = SWAPPED_NAMES[old]
        return f"{old} -> {site.func.id}"

    return [swap]


def _statement(node: ast.AST) -> list[Change]:
    """Each statement of a function body, but its docstring, replaced by ``pass``."""
    if not isinstance(node, ast.FunctionDef):
        return []
    first = 1 if _has_docstring(node) else 0
    return [_delete(index) for index in range(first, len(node.body)) if not isinstance(node.body[index], ast.Pass)]


def _delete(index: int) -> Change:
    def delete(site: ast.AST) -> str:
        assert isinstance(site, ast.FunctionDef)
        line = site.body[index].lineno
        site.body[index] = ast.Pass()
        return f"deleted the statement on line {line}"

    return delete


def _constant_return(node: ast.AST) -> list[Change]:
    if not (isinstance(node, ast.Return) and node.value is not None and not isinstance(node.value, ast.Constant)):
        return []

    def constant(site: ast.AST) -> str:
        assert isinstance(site, ast.Return)
        site.value = ast.Constant(None)
        return "returns None"

    return [constant]


def _has_docstring(node: ast.FunctionDef) -> bool:
    first = node.body[0] if node.body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


OPERATORS: tuple[tuple[str, Callable[[ast.AST], list[Change]]], ...] = (
    ("comparison", lambda n: _comparison(n) if isinstance(n, ast.Compare) else []),
    ("arithmetic", lambda n: _arithmetic(n) if isinstance(n, ast.BinOp | ast.AugAssign) else []),
    ("constant", lambda n: _constant(n) if isinstance(n, ast.Constant) else []),
    ("bound", _bound),
    ("branches", _branches),
    ("negation", _negation),
    ("boolean", _boolean),
    ("min/max", _names),
    ("statement", _statement),
    ("return", _constant_return),
)


def mutants(source: str) -> list[Mutant]:
    """Every mutant of ``source`` the operators make, each compiled, none the same as another."""
    seen = {_normal(source)}
    found = []
    for operator, changes_of in OPERATORS:
        for mutant in _of_operator(source, operator, changes_of):
            key = _normal(mutant.code)
            if key not in seen:
                seen.add(key)
                found.append(mutant)
    return found


def _of_operator(source: str, operator: str, changes_of: Callable[[ast.AST], list[Change]]) -> Iterator[Mutant]:
    original = parse_python(source)
    docstrings = _docstring_nodes(original)
    sites = [(index, len(changes_of(node))) for index, node in enumerate(ast.walk(original)) if id(node) not in docstrings]
    for index, count in sites:
        for which in range(count):
            tree = parse_python(source)  # a fresh tree per mutant: one edit each
            node = next(node for position, node in enumerate(ast.walk(tree)) if position == index)
            line = getattr(node, "lineno", 0)
            change = changes_of(node)[which](node)
            code = ast.unparse(ast.fix_missing_locations(_Unwrap().visit(tree))) + "\n"
            try:
                compile(code, "<mutant>", "exec", dont_inherit=True)
            except SyntaxError:
                continue
            yield Mutant(operator, line, change, code)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found |= {id(first), id(first.value)}
    return found


def _normal(code: str) -> str:
    return ast.unparse(parse_python(code))
