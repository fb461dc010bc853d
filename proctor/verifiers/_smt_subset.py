"""The Python subset the ``smt`` verifier models, translated to Z3 terms without running anything.

The subset: module-level functions (no decorators, defaults or starred parameters; annotations
that call nothing) over ``int`` and ``bool`` values; integer and boolean constants; ``+ - * //
% **`` (constant exponent 0..16), comparisons (chained, short-circuiting), ``and or not``,
conditional expressions; assignments and augmented assignments to names; ``if/elif/else``;
``return`` anywhere; ``for NAME in range(...)`` with constant bounds (unrolled, at most
``MAX_UNROLL`` times); the builtins ``min``, ``max``, ``abs``, ``int``, ``bool``; calls between
the module's own functions (inlined, at most ``MAX_DEPTH`` deep); docstrings, ``pass`` and
imports of the standard library. With ``bits = N`` the parameters are N-bit two's complement
words and ``& | ^ ~ << >>`` are allowed too; arithmetic stays Python's (unbounded): it is modelled
in words four times as wide, and a path that would overflow even those is unmodelled (``unsafe``).

What the model says exactly, on every path:

- the value, with its type: a function that returns ``bool`` on one path and ``int`` on another
  is outside the subset (Python's ``True`` is not the integer ``1`` to a strict comparison);
- ``crashed``: the exceptions the subset can raise (division or modulo by zero, a negative shift);
- ``unsafe``: what the subset does not model, reached: reading a local before it is assigned
  (UnboundLocalError), falling off the end of a function (``None``).

Anything else is ``Unsupported``, judged over the whole module whether or not a path reaches it
(Python applies a ``global`` or a ``yield`` in a loop that never runs): any syntax node outside the
subset, code that does not compile, a module that binds a name twice or rebinds one the model
interprets (a builtin it gives meaning to, a dunder such as ``__builtins__``, one of its own
functions), an import of anything but the standard library, a decorator, a default, an annotation
that is not a plain type name, a local or parameter named like a builtin or function the model
interprets, a translation larger than ``MAX_NODES`` steps.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from typing import Any

from proctor._syntax import parse_python

MAX_UNROLL = 64
MAX_DEPTH = 6
MAX_NODES = 20_000  # expressions translated per module: nested unrolled loops grow as the product of their lengths
PLAIN_ANNOTATIONS = frozenset({"int", "bool", "float", "str", "object", "list", "dict", "tuple", "set"})
ALLOWED = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Pass,
    ast.Expr, ast.Import, ast.ImportFrom, ast.alias, ast.Name, ast.Load, ast.Store, ast.Constant, ast.BinOp, ast.UnaryOp,
    ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)  # fmt: skip
"""Every syntax node a module in the subset may hold, anywhere (reached or not)."""
INTERPRETED = frozenset({"abs", "min", "max", "int", "bool", "range"})
"""Builtins the model gives their builtin meaning: a module that rebinds one is outside the subset."""

_COMPARISONS = {ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__", ast.GtE: "__ge__", ast.Eq: "__eq__", ast.NotEq: "__ne__"}
_MIXED = "proctor_mixed"  # set on a Z3 term whose Python value may be a bool on some paths and an int on others


class Unsupported(Exception):
    """The code is outside the documented subset; the message names the construct and line."""


class DoesNotCompile(Exception):
    """The code is not Python that compiles: nothing could run it, so it is wrong (the candidate's doing)."""


def unsupported(node: ast.AST, what: str) -> Unsupported:
    return Unsupported(f"line {getattr(node, 'lineno', '?')}: {what} is outside the SMT subset")


@dataclass(frozen=True)
class Outcome:
    """What calling a function does, on every input: its value, when it crashed, when it left the subset."""

    value: Any
    crashed: Any
    unsafe: Any

    @property
    def mixed(self) -> bool:
        """Whether the value's Python type (bool or int) depends on the path taken."""
        return bool(getattr(self.value, _MIXED, False))


@dataclass
class _State:
    """Symbolic state of one function body as it is walked."""

    env: dict[str, Any]
    defined: dict[str, Any]
    local_names: frozenset[str]
    result: Any = None
    returned: Any = None
    crashed: Any = None
    unsafe: Any = None
    path: list[Any] = field(default_factory=list)
    depth: int = 0


class Translator:
    """Translates one module's functions into Z3 terms over symbolic arguments."""

    def __init__(self, source: str, bits: int | None, ctx: Any = None) -> None:
        import z3

        self.z3, self.bits = z3, bits
        self.width = max(64, 4 * bits) if bits else None  # Python's unbounded ints, as words wide enough not to overflow
        self.ctx = ctx or z3.main_ctx()  # one context per verification: Z3 is thread-safe only across contexts
        self.steps = 0
        tree = _compiled_tree(source)
        for node in ast.walk(tree):
            if not isinstance(node, ALLOWED):
                raise unsupported(node, f"a {type(node).__name__}")
        self.functions: dict[str, ast.FunctionDef] = {}
        bound: set[str] = set()
        for node in tree.body:
            for name in _module_bindings(node):
                if name in bound or name in INTERPRETED or name.startswith("__"):
                    raise unsupported(node, f"binding {name!r} at module level (again, or a name the model interprets)")
                bound.add(name)
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
        for function in self.functions.values():
            _check_definition(function, INTERPRETED | set(self.functions))

    # ---------------------------------------------------------------- values

    def integer(self, value: int) -> Any:
        if not self.width:
            return self.z3.IntVal(value, self.ctx)
        if not -(2 ** (self.width - 1)) <= value < 2 ** (self.width - 1):
            raise Unsupported(f"the constant {value} is wider than the {self.width}-bit words the model computes in")
        return self.z3.BitVecVal(value, self.width, self.ctx)

    def variable(self, name: str, kind: str) -> Any:
        if kind == "bool":
            return self.z3.Bool(name, self.ctx)
        return self.z3.BitVec(name, self.width, self.ctx) if self.width else self.z3.Int(name, self.ctx)

    def in_words(self, term: Any) -> Any:
        """With ``bits``: the condition that an int parameter is an N-bit word (the task's domain)."""
        if not self.bits or self.z3.is_bool(term):
            return self.z3.BoolVal(True, self.ctx)
        half = 2 ** (self.bits - 1)
        return self.z3.And(term >= self.integer(-half), term < self.integer(half))

    def as_int(self, value: Any) -> Any:
        return self.z3.If(value, self.integer(1), self.integer(0)) if self.z3.is_bool(value) else value

    def as_bool(self, value: Any) -> Any:
        return value if self.z3.is_bool(value) else value != self.integer(0)

    def merge(self, condition: Any, then: Any, otherwise: Any) -> Any:
        """``then if condition else otherwise``; a bool meeting an int becomes 0 or 1, and is marked mixed."""
        mixed = _is_mixed(then) or _is_mixed(otherwise)
        if self.z3.is_bool(then) != self.z3.is_bool(otherwise):
            then, otherwise, mixed = self.as_int(then), self.as_int(otherwise), True
        merged = self.z3.If(condition, then, otherwise)
        if mixed:
            setattr(merged, _MIXED, True)
        return merged

    def same(self, a: Any, b: Any) -> Any:
        """Python's equality of two results, types included: a bool is never the same as an int."""
        if self.z3.is_bool(a) != self.z3.is_bool(b):
            return self.z3.BoolVal(False, self.ctx)
        return a == b

    # ---------------------------------------------------------------- functions

    def parameters(self, name: str) -> list[str]:
        return [a.arg for a in self._function(name, None).args.args]

    def _function(self, name: str, node: ast.AST | None) -> ast.FunctionDef:
        if name not in self.functions:
            raise unsupported(node or ast.Module(body=[], type_ignores=[]), f"a call to {name!r}, which the module does not define")
        return self.functions[name]

    def call(self, name: str, args: list[Any], depth: int = 0, node: ast.AST | None = None) -> Outcome:
        """What ``name(*args)`` does."""
        if depth > MAX_DEPTH:
            raise unsupported(node or self.functions[name], f"recursion deeper than {MAX_DEPTH}")
        function = self._function(name, node)
        params = self.parameters(name)
        if len(args) != len(params):
            raise unsupported(node or function, f"a call to {name} with {len(args)} arguments")
        true, false = self.z3.BoolVal(True, self.ctx), self.z3.BoolVal(False, self.ctx)
        state = _State(
            env=dict(zip(params, args, strict=True)),
            defined=dict.fromkeys(params, true),
            local_names=_local_names(function),
            returned=false,
            crashed=false,
            unsafe=false,
            depth=depth,
        )
        self.block(function.body, state)
        if state.result is None:
            raise unsupported(function, f"{name} without a return value")
        falls_off = self.z3.And(self.z3.Not(state.returned), self.z3.Not(state.crashed))  # Python returns None there
        return Outcome(state.result, state.crashed, self.z3.Or(state.unsafe, falls_off))

    def evaluate(self, text: str, env: dict[str, Any]) -> Outcome:
        """A spec's expression (``requires``, ``ensures``, a domain or answer relation) over the names in ``env``."""
        try:
            expression = parse_python(text, mode="eval").body
        except (SyntaxError, ValueError) as exc:
            raise Unsupported(f"the spec's expression {text!r} is not valid Python: {getattr(exc, 'msg', exc)}") from None
        true, false = self.z3.BoolVal(True, self.ctx), self.z3.BoolVal(False, self.ctx)
        state = _State(
            env=dict(env), defined=dict.fromkeys(env, true), local_names=frozenset(env), returned=false, crashed=false, unsafe=false
        )
        return Outcome(self.expression(expression, state), state.crashed, state.unsafe)

    # ---------------------------------------------------------------- statements

    def active(self, state: _State) -> Any:
        """The condition under which the statement being walked runs: on the path, not returned, not crashed."""
        return self.z3.And(*state.path, self.z3.Not(state.returned), self.z3.Not(state.crashed))

    def block(self, body: list[ast.stmt], state: _State) -> None:
        for statement in body:
            self.statement(statement, state)

    def statement(self, node: ast.stmt, state: _State) -> None:
        z3 = self.z3
        if isinstance(node, ast.Return):
            if node.value is None:
                raise unsupported(node, "a bare return")
            value = self.expression(node.value, state)
            now = self.active(state)
            state.result = value if state.result is None else self.merge(now, value, state.result)
            state.returned = z3.Or(state.returned, now)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            self.assign(node, state)
        elif isinstance(node, ast.If):
            condition = self.as_bool(self.expression(node.test, state))
            for branch, guard in ((node.body, condition), (node.orelse, z3.Not(condition))):
                state.path.append(guard)
                self.block(branch, state)
                state.path.pop()
        elif isinstance(node, ast.For):
            self.loop(node, state)
        elif not _harmless(node):
            raise unsupported(node, f"a {type(node).__name__} statement")

    def assign(self, node: ast.Assign | ast.AugAssign, state: _State) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise unsupported(node, "assignment to anything but one name")
        name = targets[0].id
        if isinstance(node, ast.AugAssign):
            value = self.binary(node.op, self.lookup(name, node, state), self.expression(node.value, state), node, state)
        else:
            value = self.expression(node.value, state)
        self.bind(name, value, state)

    def bind(self, name: str, value: Any, state: _State) -> None:
        """Assign ``name`` on the active path; elsewhere it keeps its value (or stays unassigned)."""
        now = self.active(state)
        old = state.env.get(name)
        state.env[name] = value if old is None else self.merge(now, value, old)
        state.defined[name] = self.z3.Or(state.defined.get(name, self.z3.BoolVal(False, self.ctx)), now)

    def loop(self, node: ast.For, state: _State) -> None:
        call = node.iter
        if not (
            isinstance(node.target, ast.Name)
            and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "range"
        ):
            raise unsupported(node, "a for loop not over range(...)")
        if node.orelse or call.keywords or not 1 <= len(call.args) <= 3:
            raise unsupported(node, "this form of for loop")
        bounds = [self._constant(self.expression(a, state), a) for a in call.args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise unsupported(node, "range() with a step of 0")
        steps = range(*bounds)
        if abs(steps.stop - steps.start) > MAX_UNROLL * abs(steps.step):  # not len(), which overflows past 2**63
            raise unsupported(node, f"a loop of more than {MAX_UNROLL} iterations")
        for value in steps:
            self.bind(node.target.id, self.integer(value), state)
            self.block(node.body, state)

    def _constant(self, value: Any, node: ast.AST) -> int:
        simplified = self.z3.simplify(value)
        if self.bits and self.z3.is_bv_value(simplified):
            return int(simplified.as_signed_long())
        if self.z3.is_int_value(simplified):
            return int(simplified.as_long())
        raise unsupported(node, "a bound or exponent that is not a constant")

    def lookup(self, name: str, node: ast.AST, state: _State) -> Any:
        """A local's value; reading it where it may be unassigned is unsafe (UnboundLocalError)."""
        if name not in state.local_names:
            raise unsupported(node, f"the name {name!r} (not a parameter or local)")
        if name not in state.env:
            state.unsafe = self.z3.Or(state.unsafe, self.active(state))
            return self.integer(0)  # never used: this path is unsafe
        defined = state.defined[name]
        if not self.z3.is_true(defined):
            state.unsafe = self.z3.Or(state.unsafe, self.z3.And(self.active(state), self.z3.Not(defined)))
        return state.env[name]

    # ---------------------------------------------------------------- expressions

    def expression(self, node: ast.expr, state: _State) -> Any:
        z3 = self.z3
        self.steps += 1
        if self.steps > MAX_NODES:
            raise unsupported(node, f"a translation of more than {MAX_NODES} expressions")
        if isinstance(node, ast.Constant) and isinstance(node.value, int):  # bool is an int too
            return z3.BoolVal(node.value, self.ctx) if isinstance(node.value, bool) else self.integer(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(node.id, node, state)
        if isinstance(node, ast.BinOp):
            return self.binary(node.op, self.expression(node.left, state), self.expression(node.right, state), node, state)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, self.expression(node.operand, state), state)
        if isinstance(node, ast.BoolOp):
            return self.boolean(node, state)
        if isinstance(node, ast.Compare):
            return self.compare(node, state)
        if isinstance(node, ast.IfExp):
            test = self.as_bool(self.expression(node.test, state))
            then = self.guarded(node.body, test, state)
            return self.merge(test, then, self.guarded(node.orelse, z3.Not(test), state))
        if isinstance(node, ast.Call):
            return self.function_call(node, state)
        raise unsupported(node, f"the expression {ast.unparse(node)[:60]!r}")

    def unary(self, node: ast.UnaryOp, operand: Any, state: _State) -> Any:
        if isinstance(node.op, ast.Not):
            return self.z3.Not(self.as_bool(operand))
        if isinstance(node.op, ast.USub):
            return self.negated(self.as_int(operand), state)
        if isinstance(node.op, ast.UAdd):
            return self.as_int(operand)
        if isinstance(node.op, ast.Invert) and self.bits:
            return ~self.as_int(operand)
        raise unsupported(node, f"the operator {type(node.op).__name__}")

    def negated(self, value: Any, state: _State) -> Any:
        return self.exact(-value, state, self.z3.BVSNegNoOverflow(value)) if self.width else -value

    def guarded(self, node: ast.expr, condition: Any, state: _State) -> Any:
        """Evaluate ``node`` only on the path where ``condition`` holds (its crashes too)."""
        state.path.append(condition)
        try:
            return self.expression(node, state)
        finally:
            state.path.pop()

    def boolean(self, node: ast.BoolOp, state: _State) -> Any:
        """``and``/``or`` over booleans, short-circuiting as Python does."""
        z3, conjunction = self.z3, isinstance(node.op, ast.And)
        values: list[Any] = []
        for operand in node.values:
            so_far = z3.And(*values) if conjunction else z3.Not(z3.Or(*values))
            values.append(self.guarded(operand, so_far, state) if values else self.expression(operand, state))
            if not z3.is_bool(values[-1]):
                raise unsupported(node, "and/or over non-boolean values")
        return z3.And(*values) if conjunction else z3.Or(*values)

    def compare(self, node: ast.Compare, state: _State) -> Any:
        """A comparison chain, short-circuiting: ``a < b < c`` evaluates ``c`` only where ``a < b``."""
        left = self.expression(node.left, state)
        parts: list[Any] = []
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            name = _COMPARISONS.get(type(op))
            if name is None:
                raise unsupported(node, f"the comparison {type(op).__name__}")
            right = self.guarded(right_node, self.z3.And(*parts), state) if parts else self.expression(right_node, state)
            both_bool = self.z3.is_bool(left) and self.z3.is_bool(right) and name in ("__eq__", "__ne__")
            a, b = (left, right) if both_bool else (self.as_int(left), self.as_int(right))  # True < 2: bools order as ints
            parts.append(getattr(a, name)(b))
            left = right
        return self.z3.And(*parts) if len(parts) > 1 else parts[0]

    def binary(self, op: ast.operator, left: Any, right: Any, node: ast.AST, state: _State) -> Any:
        z3 = self.z3
        if self.bits and isinstance(op, ast.BitAnd | ast.BitOr | ast.BitXor) and z3.is_bool(left) and z3.is_bool(right):
            return {ast.BitAnd: z3.And, ast.BitOr: z3.Or, ast.BitXor: z3.Xor}[type(op)](left, right)  # bool & bool is a bool
        a, b = self.as_int(left), self.as_int(right)
        if isinstance(op, ast.Add):
            return self.exact(a + b, state, z3.BVAddNoOverflow(a, b, True), z3.BVAddNoUnderflow(a, b)) if self.width else a + b
        if isinstance(op, ast.Sub):
            return self.exact(a - b, state, z3.BVSubNoOverflow(a, b), z3.BVSubNoUnderflow(a, b, True)) if self.width else a - b
        if isinstance(op, ast.Mult):
            return self.exact(a * b, state, z3.BVMulNoOverflow(a, b, True), z3.BVMulNoUnderflow(a, b)) if self.width else a * b
        if isinstance(op, ast.FloorDiv | ast.Mod):
            self.crash_when(b == self.integer(0), state)
            quotient = self._floor_div(a, b, state)
            return (
                quotient
                if isinstance(op, ast.FloorDiv)
                else self.binary(ast.Sub(), a, self.binary(ast.Mult(), b, quotient, node, state), node, state)
            )
        if isinstance(op, ast.Pow):
            exponent = self._constant(b, node)
            if not 0 <= exponent <= 16:
                raise unsupported(node, "a power with an exponent outside 0..16")
            result = self.integer(1)
            for _ in range(exponent):
                result = self.binary(ast.Mult(), result, a, node, state)
            return result
        if self.width and isinstance(op, ast.BitAnd | ast.BitOr | ast.BitXor):
            value = {ast.BitAnd: a & b, ast.BitOr: a | b, ast.BitXor: a ^ b}[type(op)]
            if (_is_mixed(left) and (z3.is_bool(right) or _is_mixed(right))) or (_is_mixed(right) and z3.is_bool(left)):
                setattr(value, _MIXED, True)  # bool & bool is a bool, int & anything an int: which, depends on the path
            return value
        if self.width and isinstance(op, ast.LShift | ast.RShift):
            self.crash_when(b < self.integer(0), state)  # ValueError: negative shift count
            if isinstance(op, ast.RShift):
                return a >> b  # arithmetic shift: past the width, 0 or -1, as Python's
            fits = z3.And(z3.ULT(b, self.integer(self.width - 1)), (a << b) >> b == a)
            return self.exact(a << b, state, z3.Or(b < self.integer(0), fits))
        raise unsupported(node, f"the operator {type(op).__name__}" + ("" if self.bits else " (set smt.bits for bit operations)"))

    def crash_when(self, condition: Any, state: _State) -> None:
        state.crashed = self.z3.Or(state.crashed, self.z3.And(self.active(state), condition))

    def exact(self, value: Any, state: _State, *no_overflow: Any) -> Any:
        """``value``, computed in words: where it would overflow them, Python's unbounded result is another
        number, so that path is unmodelled (``unsafe``)."""
        state.unsafe = self.z3.Or(state.unsafe, self.z3.And(self.active(state), self.z3.Not(self.z3.And(*no_overflow))))
        return value

    def _floor_div(self, a: Any, b: Any, state: _State) -> Any:
        z3 = self.z3
        zero = self.integer(0)
        if self.width:  # signed division truncates; step down when the signs differ and it was inexact
            truncated = self.exact(a / b, state, z3.Or(b == zero, z3.BVSDivNoOverflow(a, b)))
            return z3.If(z3.And(truncated * b != a, (a < zero) != (b < zero)), truncated - 1, truncated)
        return z3.If(b > zero, a / b, z3.If(b < zero, (-a) / (-b), zero))  # Z3's div floors for b > 0

    def function_call(self, node: ast.Call, state: _State) -> Any:
        if not isinstance(node.func, ast.Name) or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise unsupported(node, f"the call {ast.unparse(node)[:60]!r}")
        name = node.func.id
        if name in state.local_names:
            raise unsupported(node, f"a call to the local {name!r}")
        args = [self.expression(a, state) for a in node.args]
        if name in INTERPRETED and name != "range":
            return self.builtin(name, args, node, state)
        outcome = self.call(name, args, state.depth + 1, node)
        self.crash_when(outcome.crashed, state)
        state.unsafe = self.z3.Or(state.unsafe, self.z3.And(self.active(state), outcome.unsafe))
        return outcome.value

    def builtin(self, name: str, args: list[Any], node: ast.AST, state: _State) -> Any:
        z3 = self.z3
        if name == "abs" and len(args) == 1:
            value = self.as_int(args[0])
            return z3.If(value < self.integer(0), self.negated(value, state), value)
        if name == "bool" and len(args) == 1:
            return self.as_bool(args[0])
        if name == "int" and len(args) == 1:
            return self.as_int(args[0])
        if name in ("min", "max") and len(args) >= 2:
            return self.extreme(name, args)
        raise unsupported(node, f"{name}() with {len(args)} arguments")

    def extreme(self, name: str, args: list[Any]) -> Any:
        """``min``/``max``: the first of the least (greatest) arguments, itself, so its type too."""
        z3 = self.z3
        if all(z3.is_bool(a) for a in args):
            return z3.And(*args) if name == "min" else z3.Or(*args)
        mixed = any(z3.is_bool(a) or _is_mixed(a) for a in args)
        best = self.as_int(args[0])
        for value in map(self.as_int, args[1:]):
            best = z3.If(value < best if name == "min" else value > best, value, best)
        if mixed:
            setattr(best, _MIXED, True)
        return best


def _is_mixed(term: Any) -> bool:
    return bool(getattr(term, _MIXED, False))


def _harmless(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _module_bindings(node: ast.stmt) -> list[str]:
    """The names a module-level statement binds; Unsupported for any statement the subset does not allow there."""
    if isinstance(node, ast.FunctionDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        if any(alias.name == "*" for alias in node.names):
            raise unsupported(node, "from ... import *")
        modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
        if (isinstance(node, ast.ImportFrom) and node.level) or any(m.split(".")[0] not in sys.stdlib_module_names for m in modules):
            raise unsupported(node, "an import of anything but the standard library")
        return [alias.asname or alias.name.split(".")[0] for alias in node.names]
    if _harmless(node):
        return []
    raise unsupported(node, f"a module-level {type(node).__name__}")


def _check_definition(function: ast.FunctionDef, reserved: set[str] | frozenset[str]) -> None:
    """What a ``def`` runs when the module loads, how it may be called, and what its locals shadow must be
    nothing the model misses: ``reserved`` names (interpreted builtins, the module's functions) stay theirs."""
    args = function.args
    if function.decorator_list:
        raise unsupported(function, "a decorator")
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults or args.kw_defaults:
        raise unsupported(function, "*args, **kwargs, keyword-only, positional-only or default parameters")
    for annotation in [a.annotation for a in args.args] + [function.returns]:
        plain = isinstance(annotation, ast.Name) and annotation.id in PLAIN_ANNOTATIONS
        if annotation is not None and not plain and not (isinstance(annotation, ast.Constant) and annotation.value is None):
            raise unsupported(annotation, "an annotation other than a plain type name")
    shadowing = sorted(n for n in _local_names(function) if n in reserved or n.startswith("__"))
    if shadowing:
        raise unsupported(function, f"a local named {shadowing[0]!r}, which the model reads as another thing")


def _compiled_tree(source: str) -> ast.Module:
    """The module's syntax tree, if it compiles as Python would compile it (``DoesNotCompile`` if not)."""
    try:
        compile(source, "<candidate>", "exec", dont_inherit=True)  # duplicate parameters, misplaced yield, __future__ braces…
    except (SyntaxError, ValueError) as exc:
        raise DoesNotCompile(f"{getattr(exc, 'msg', exc)} (line {getattr(exc, 'lineno', '?')})") from None
    except (RecursionError, MemoryError):
        raise Unsupported("code nested too deeply to translate") from None
    tree: ast.Module = parse_python(source)
    return tree


def _local_names(function: ast.FunctionDef) -> frozenset[str]:
    """Python's locals of a function: its parameters and every name it binds anywhere in its body."""
    names = {a.arg for a in function.args.args}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
    return frozenset(names)
