"""The ``smt`` verifier: proves a candidate equivalent to the reference (or to postconditions) with Z3.

The candidate is translated, never run. The subset: module-level functions over ``int`` and
``bool`` parameters; integer and boolean constants; ``+ - * // % **`` (constant exponent),
comparisons (chained), ``and or not``, conditional expressions; assignments and augmented
assignments to names; ``if/elif/else``; ``return`` anywhere; ``for NAME in range(...)`` with
constant bounds (unrolled, at most ``MAX_UNROLL`` times); ``min``, ``max``, ``abs``; calls between
the module's own functions (inlined, at most ``MAX_DEPTH`` deep); docstrings, ``pass`` and
imports. With ``smt.bits = N`` integers are N-bit two's complement words and ``& | ^ ~ << >>``
are allowed too. Division or modulo by zero is modelled as a crash, which must happen on the
same inputs for both sides. Anything else, or a solver timeout, is ``unknown``, never ``pass``.

The task's ``smt`` spec (all optional): ``requires`` (a precondition over the parameters, in the
same subset), ``ensures`` (a postcondition over the parameters and ``result``), ``bits``,
``timeout_ms``. Without ``ensures``, the candidate is compared with the task's reference.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from proctor._syntax import parse_python
from proctor.models import Proposal, Task, Verdict
from proctor.verifiers._base import Timer, digest, module_file, register_verifier, verdict

MAX_UNROLL = 64
MAX_DEPTH = 6


class Unsupported(Exception):
    """The code is outside the documented subset; the message names the construct and line."""


def _unsupported(node: ast.AST, what: str) -> Unsupported:
    return Unsupported(f"line {getattr(node, 'lineno', '?')}: {what} is outside the SMT subset")


@dataclass
class _State:
    """Symbolic state of one function body: variables, the result, and when it returned or crashed."""

    env: dict[str, Any]
    result: Any = None
    returned: Any = None
    crashed: Any = None
    path: list[Any] = field(default_factory=list)
    depth: int = 0


class Translator:
    """Translates the module's functions into Z3 terms over symbolic arguments."""

    def __init__(self, source: str, bits: int | None) -> None:
        import z3

        self.z3, self.bits = z3, bits
        try:
            tree = parse_python(source)
        except SyntaxError as exc:
            raise Unsupported(f"not valid Python: {exc.msg} (line {exc.lineno})") from None
        self.functions: dict[str, ast.FunctionDef] = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif not _harmless(node):
                raise _unsupported(node, f"a module-level {type(node).__name__}")

    # ---------------------------------------------------------------- values

    def integer(self, value: int) -> Any:
        return self.z3.BitVecVal(value, self.bits) if self.bits else self.z3.IntVal(value)

    def variable(self, name: str, kind: str) -> Any:
        if kind == "bool":
            return self.z3.Bool(name)
        return self.z3.BitVec(name, self.bits) if self.bits else self.z3.Int(name)

    def as_int(self, value: Any) -> Any:
        return self.z3.If(value, self.integer(1), self.integer(0)) if self.z3.is_bool(value) else value

    def as_bool(self, value: Any) -> Any:
        return value if self.z3.is_bool(value) else value != self.integer(0)

    # ---------------------------------------------------------------- functions

    def parameters(self, name: str) -> list[tuple[str, str]]:
        function = self._function(name, None)
        params = []
        for arg in function.args.args:
            kind = ast.unparse(arg.annotation) if arg.annotation else "int"
            if kind not in ("int", "bool"):
                raise _unsupported(arg, f"a parameter of type {kind}")
            params.append((arg.arg, kind))
        if function.args.vararg or function.args.kwarg or function.args.kwonlyargs or function.args.defaults:
            raise _unsupported(function, "*args, **kwargs, keyword-only or default parameters")
        return params

    def _function(self, name: str, node: ast.AST | None) -> ast.FunctionDef:
        if name not in self.functions:
            raise _unsupported(node or ast.Module(body=[], type_ignores=[]), f"a call to {name!r}, which the module does not define")
        return self.functions[name]

    def call(self, name: str, args: list[Any], depth: int = 0, node: ast.AST | None = None) -> tuple[Any, Any]:
        """(result, crashed) of ``name(*args)``."""
        if depth > MAX_DEPTH:
            raise _unsupported(node or self.functions[name], f"recursion deeper than {MAX_DEPTH}")
        function = self._function(name, node)
        params = self.parameters(name)
        if len(args) != len(params):
            raise _unsupported(node or function, f"a call to {name} with {len(args)} arguments")
        state = self.state(dict(zip((p for p, _ in params), args, strict=True)), depth)
        self.block(function.body, state)
        if state.result is None:
            raise _unsupported(function, f"{name} without a return value")
        return state.result, state.crashed

    def state(self, env: dict[str, Any], depth: int = 0) -> _State:
        false = self.z3.BoolVal(False)
        return _State(env=env, returned=false, crashed=false, depth=depth)

    def merge(self, condition: Any, then: Any, otherwise: Any) -> Any:
        """``then if condition else otherwise``; a bool meeting an int becomes 0 or 1."""
        if self.z3.is_bool(then) != self.z3.is_bool(otherwise):
            then, otherwise = self.as_int(then), self.as_int(otherwise)
        return self.z3.If(condition, then, otherwise)

    def equal(self, a: Any, b: Any) -> Any:
        if self.z3.is_bool(a) and self.z3.is_bool(b):
            return a == b
        return self.as_int(a) == self.as_int(b)

    # ---------------------------------------------------------------- statements

    def active(self, state: _State) -> Any:
        return self.z3.And(*state.path, self.z3.Not(state.returned)) if state.path else self.z3.Not(state.returned)

    def block(self, body: list[ast.stmt], state: _State) -> None:
        for statement in body:
            self.statement(statement, state)

    def statement(self, node: ast.stmt, state: _State) -> None:
        z3 = self.z3
        if isinstance(node, ast.Return):
            if node.value is None:
                raise _unsupported(node, "a bare return")
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
            raise _unsupported(node, f"a {type(node).__name__} statement")

    def assign(self, node: ast.Assign | ast.AugAssign, state: _State) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise _unsupported(node, "assignment to anything but one name")
        name = targets[0].id
        if isinstance(node, ast.AugAssign):
            value = self.binary(node.op, self._lookup(name, node, state), self.expression(node.value, state), node, state)
        else:
            value = self.expression(node.value, state)
        old = state.env.get(name)
        state.env[name] = value if old is None else self.merge(self.active(state), value, old)

    def loop(self, node: ast.For, state: _State) -> None:
        call = node.iter
        if not (
            isinstance(node.target, ast.Name)
            and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "range"
        ):
            raise _unsupported(node, "a for loop not over range(...)")
        if node.orelse:
            raise _unsupported(node, "for ... else")
        bounds = [self._constant(self.expression(a, state), a) for a in call.args]
        steps = list(range(*bounds))
        if len(steps) > MAX_UNROLL:
            raise _unsupported(node, f"a loop of {len(steps)} iterations (limit {MAX_UNROLL})")
        for value in steps:
            state.env[node.target.id] = self.integer(value)
            self.block(node.body, state)

    def _constant(self, value: Any, node: ast.AST) -> int:
        simplified = self.z3.simplify(value)
        if self.bits and self.z3.is_bv_value(simplified):
            return int(simplified.as_signed_long())
        if self.z3.is_int_value(simplified):
            return int(simplified.as_long())
        raise _unsupported(node, "a range bound that is not a constant")

    def _lookup(self, name: str, node: ast.AST, state: _State) -> Any:
        if name not in state.env:
            raise _unsupported(node, f"the name {name!r} (not a parameter or local)")
        return state.env[name]

    # ---------------------------------------------------------------- expressions

    def expression(self, node: ast.expr, state: _State) -> Any:
        z3 = self.z3
        if isinstance(node, ast.Constant) and isinstance(node.value, int):  # bool is an int too
            return z3.BoolVal(node.value) if isinstance(node.value, bool) else self.integer(node.value)
        if isinstance(node, ast.Name):
            return self._lookup(node.id, node, state)
        if isinstance(node, ast.BinOp):
            return self.binary(node.op, self.expression(node.left, state), self.expression(node.right, state), node, state)
        if isinstance(node, ast.UnaryOp):
            operand = self.expression(node.operand, state)
            if isinstance(node.op, ast.Not):
                return z3.Not(self.as_bool(operand))
            if isinstance(node.op, ast.USub):
                return -self.as_int(operand)
            if isinstance(node.op, ast.UAdd):
                return self.as_int(operand)
            if isinstance(node.op, ast.Invert) and self.bits:
                return ~self.as_int(operand)
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
        raise _unsupported(node, f"the expression {ast.unparse(node)[:60]!r}")

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
                raise _unsupported(node, "and/or over non-boolean values")
        return z3.And(*values) if conjunction else z3.Or(*values)

    def compare(self, node: ast.Compare, state: _State) -> Any:
        operators = {ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__", ast.GtE: "__ge__", ast.Eq: "__eq__", ast.NotEq: "__ne__"}
        left = self.expression(node.left, state)
        parts = []
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expression(right_node, state)
            name = operators.get(type(op))
            if name is None:
                raise _unsupported(node, f"the comparison {type(op).__name__}")
            a, b = (left, right) if self.z3.is_bool(left) and self.z3.is_bool(right) else (self.as_int(left), self.as_int(right))
            parts.append(getattr(a, name)(b))
            left = right
        return self.z3.And(*parts) if len(parts) > 1 else parts[0]

    def binary(self, op: ast.operator, left: Any, right: Any, node: ast.AST, state: _State) -> Any:
        z3 = self.z3
        a, b = self.as_int(left), self.as_int(right)
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.FloorDiv | ast.Mod):
            state.crashed = z3.Or(state.crashed, z3.And(self.active(state), b == self.integer(0)))
            quotient = self._floor_div(a, b)
            return quotient if isinstance(op, ast.FloorDiv) else a - b * quotient
        if isinstance(op, ast.Pow):
            exponent = self._constant(b, node)
            if not 0 <= exponent <= 16:
                raise _unsupported(node, "a power with an exponent outside 0..16")
            result = self.integer(1)
            for _ in range(exponent):
                result = result * a
            return result
        if self.bits and isinstance(op, ast.BitAnd | ast.BitOr | ast.BitXor | ast.LShift | ast.RShift):
            return {ast.BitAnd: a & b, ast.BitOr: a | b, ast.BitXor: a ^ b, ast.LShift: a << b, ast.RShift: a >> b}[type(op)]
        raise _unsupported(node, f"the operator {type(op).__name__}" + ("" if self.bits else " (set smt.bits for bit operations)"))

    def _floor_div(self, a: Any, b: Any) -> Any:
        z3 = self.z3
        zero = self.integer(0)
        if self.bits:  # signed division truncates; step down when the signs differ and it was inexact
            truncated = a / b
            return z3.If(z3.And(truncated * b != a, (a < zero) != (b < zero)), truncated - 1, truncated)
        return z3.If(b > zero, a / b, z3.If(b < zero, (-a) / (-b), zero))  # Z3's div floors for b > 0

    def function_call(self, node: ast.Call, state: _State) -> Any:
        z3 = self.z3
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise _unsupported(node, f"the call {ast.unparse(node)[:60]!r}")
        name = node.func.id
        args = [self.expression(a, state) for a in node.args]
        if name == "abs" and len(args) == 1:
            value = self.as_int(args[0])
            return z3.If(value < self.integer(0), -value, value)
        if name in ("min", "max") and len(args) >= 2:
            best = self.as_int(args[0])
            for value in map(self.as_int, args[1:]):
                best = z3.If(value < best if name == "min" else value > best, value, best)
            return best
        if name == "bool" and len(args) == 1:
            return self.as_bool(args[0])
        if name == "int" and len(args) == 1:
            return self.as_int(args[0])
        result, crashed = self.call(name, args, state.depth + 1, node)
        state.crashed = z3.Or(state.crashed, z3.And(self.active(state), crashed))
        return result


def _harmless(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass | ast.Import | ast.ImportFrom):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


@register_verifier("smt")
class SmtVerifier:
    """Proves equivalence with the reference (or the task's ``ensures``), or finds a counterexample."""

    id = "smt"

    def __init__(self, *, timeout_ms: int = 10_000) -> None:
        self.timeout_ms = timeout_ms
        self.version = digest(module_file("_smt.py"), config={"timeout_ms": timeout_ms, "z3": _z3_version()})

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        spec = task.smt or {}
        if not spec.get("ensures") and not task.reference:
            return verdict(self, proposal, "unknown", "the task has neither a reference nor an smt.ensures", timer)
        try:
            return self._prove(task, proposal, spec, timer)
        except Unsupported as exc:
            return verdict(self, proposal, "unknown", f"not translated: {exc}", timer)
        except RecursionError:
            return verdict(self, proposal, "unknown", "not translated: the code nests too deeply", timer)

    def _prove(self, task: Task, proposal: Proposal, spec: dict[str, Any], timer: Timer) -> Verdict:
        import z3

        bits = spec.get("bits")
        candidate = Translator(proposal.code, bits)
        params = candidate.parameters(task.entry_point)
        symbols = [candidate.variable(name, kind) for name, kind in params]
        got, got_crash = candidate.call(task.entry_point, symbols)
        env = dict(zip((n for n, _ in params), symbols, strict=True))
        claim = self._claim(task, spec, bits, symbols, env, got, got_crash)
        solver = z3.Solver()
        solver.set("timeout", int(spec.get("timeout_ms", self.timeout_ms)))
        if spec.get("requires"):
            solver.add(_condition(spec["requires"], candidate, env))
        solver.add(z3.Not(claim))
        answer = solver.check()
        what = "the postcondition" if spec.get("ensures") else "the reference"
        if answer == z3.unsat:
            return verdict(self, proposal, "pass", f"proved equivalent to {what} for all inputs", timer, proved=True)
        if answer == z3.unknown:
            return verdict(self, proposal, "unknown", f"the solver gave up: {solver.reason_unknown()}", timer)
        model = solver.model()
        inputs = {name: _value(model, symbol, bits) for (name, _), symbol in zip(params, symbols, strict=True)}
        evidence = {"counterexample": inputs, "candidate": _outcome(model, got, got_crash, bits)}
        if not spec.get("ensures"):
            evidence["reference"] = self._reference_outcome(task, bits, symbols, model)
        shown = ", ".join(f"{k}={v!r}" for k, v in inputs.items())
        return verdict(self, proposal, "fail", f"counterexample: {task.entry_point}({shown}) violates {what}", timer, **evidence)

    def _claim(
        self, task: Task, spec: dict[str, Any], bits: int | None, symbols: list[Any], env: dict[str, Any], got: Any, crash: Any
    ) -> Any:
        import z3

        if spec.get("ensures"):
            translator = Translator("", bits)
            return z3.And(z3.Not(crash), _condition(spec["ensures"], translator, {**env, "result": got}))
        assert task.reference is not None
        reference = Translator(task.reference, bits)
        expected, expected_crash = reference.call(task.entry_point, symbols)
        return z3.And(crash == expected_crash, z3.Or(crash, reference.equal(got, expected)))

    def _reference_outcome(self, task: Task, bits: int | None, symbols: list[Any], model: Any) -> Any:
        assert task.reference is not None
        expected, crash = Translator(task.reference, bits).call(task.entry_point, symbols)
        return _outcome(model, expected, crash, bits)


def _condition(text: str, translator: Translator, env: dict[str, Any]) -> Any:
    try:
        expression = parse_python(text, mode="eval").body
    except SyntaxError as exc:
        raise Unsupported(f"the spec's condition {text!r} is not valid Python: {exc.msg}") from None
    return translator.as_bool(translator.expression(expression, translator.state(env)))


def _value(model: Any, term: Any, bits: int | None) -> Any:
    import z3

    value = model.eval(term, model_completion=True)
    if z3.is_bool(value):
        return z3.is_true(value)
    return int(value.as_signed_long()) if bits else int(value.as_long())


def _outcome(model: Any, value: Any, crash: Any, bits: int | None) -> Any:
    import z3

    if z3.is_true(model.eval(crash, model_completion=True)):
        return "raises ZeroDivisionError"
    return _value(model, value, bits)


def _z3_version() -> str:
    try:
        from importlib.metadata import version

        return version("z3-solver")
    except Exception:  # noqa: BLE001  (not installed: the verifier reports unknown)
        return "missing"
