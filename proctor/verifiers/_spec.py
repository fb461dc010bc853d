"""What a task says about right answers beyond its tests: the inputs it is defined on, and which answers are right.

A task's metadata may hold two Python expressions, the task's own (trusted) code, evaluated in
the driver with the task's prompt helpers in scope and the entry point's parameters bound by name:

- ``domain``: true for inputs the specification covers (``len(numbers) >= 2``). Inputs outside it
  are never used to judge a candidate.
- ``answer``: true when ``result`` (the candidate's answer) is right, given ``expected`` (the
  reference's answer) and the parameters (``abs(poly(xs, result)) < 1e-4``). Without it a right
  answer is the reference's exact answer, with the same types (floats within the task's
  ``float_tolerance``).

Both are used by ``properties`` and ``smt``; ``tests`` judge by the task's own assertions.
"""

from __future__ import annotations

import ast
import copy
import types
from dataclasses import dataclass
from typing import Any

from proctor._syntax import parse_python
from proctor.models import Task
from proctor.verifiers._driver import TaskCodeError, same, task_namespace


@dataclass(frozen=True)
class Spec:
    """A task's domain and answer relation, compiled, with the names its expressions bind."""

    task: Task
    parameters: tuple[str, ...]
    domain: types.CodeType | None
    answer: types.CodeType | None
    tolerance: float | None
    namespace: dict[str, Any]

    @classmethod
    def of(cls, task: Task) -> Spec:
        """The task's spec; TaskCodeError when an expression does not compile or names are missing."""
        domain, answer = (_compiled(task, key) for key in ("domain", "answer"))
        parameters = entry_parameters(task) if domain or answer else ()
        namespace = task_namespace(task) if domain or answer else {}
        return cls(task, parameters, domain, answer, task.metadata.get("float_tolerance"), namespace)

    def admits(self, args: tuple[Any, ...]) -> bool:
        """Whether ``args`` is inside the task's domain (an expression that raises on it says no)."""
        if self.domain is None:
            return True
        try:
            return bool(eval(self.domain, {**self.namespace, **self._bound(args)}))  # the task's own expression
        except Exception:  # noqa: BLE001  (a domain that cannot even be evaluated on the input excludes it)
            return False

    def accepts(self, args: tuple[Any, ...], result: Any, expected: Any) -> bool:
        """Whether ``result`` is a right answer on ``args`` (the answer relation, else sameness with ``expected``).

        A float tolerance is for floats computed: where every float of the right answer is one of the
        inputs' own (a maximum, a closest pair), the answer is chosen, not computed, and must be exact.
        """
        if self.answer is None:
            answer_floats = _floats(expected)
            chosen = bool(answer_floats) and answer_floats <= _floats(args)
            try:
                return same(result, expected, None if chosen else self.tolerance)
            except (OverflowError, ValueError, TypeError):  # an int too large to compare with a float: not the same
                return False
        try:
            names = {**self.namespace, **self._bound(args), "result": result, "expected": expected}
            return bool(eval(self.answer, names))  # globals, not locals: comprehensions and lambdas see the names
        except Exception:  # noqa: BLE001  (an answer the relation cannot even be evaluated on is not right)
            return False

    def _bound(self, args: tuple[Any, ...]) -> dict[str, Any]:
        if len(args) != len(self.parameters):
            raise TypeError(f"{len(args)} arguments for {len(self.parameters)} parameters")
        return dict(zip(self.parameters, copy.deepcopy(args), strict=True))  # the expression may not change the input


def _floats(value: Any) -> set[float]:
    """Every float inside ``value`` (plain data, nested)."""
    if type(value) is float:
        return {value}
    if type(value) in (list, tuple, set, frozenset):
        return set().union(*map(_floats, value)) if value else set()
    if type(value) is dict:
        return _floats(list(value)) | _floats(list(value.values()))
    return set()


def _compiled(task: Task, key: str) -> types.CodeType | None:
    text = task.metadata.get(key)
    if text is None:
        return None
    if not isinstance(text, str):
        raise TaskCodeError(f"task {task.id}: metadata.{key} must be a Python expression (got {type(text).__name__})")
    try:
        return compile(text, f"<{key} of {task.id}>", "eval")
    except SyntaxError as exc:
        raise TaskCodeError(f"task {task.id}: metadata.{key} is not a Python expression: {exc.msg}") from None


def entry_parameters(task: Task) -> tuple[str, ...]:
    """The entry point's positional parameter names, from the reference (else the prompt)."""
    for source in (task.reference, task.prompt):
        function = entry_function(task, source)
        if function is not None:
            return tuple(a.arg for a in function.args.posonlyargs + function.args.args)
    raise TaskCodeError(f"task {task.id}: neither its reference nor its prompt defines {task.entry_point}()")


def entry_function(task: Task, source: str | None) -> ast.FunctionDef | None:
    """The module-level definition of the task's entry point in ``source``, if it has one."""
    if not source:
        return None
    try:
        tree = parse_python(source)
    except (SyntaxError, ValueError):
        return None
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == task.entry_point]
    return found[-1] if found else None
