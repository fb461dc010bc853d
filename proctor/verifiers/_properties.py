"""The ``properties`` verifier: Hypothesis inputs, the candidate's outputs against the reference's.

Inputs come from the task's strategies (``properties.strategies``: one Hypothesis expression per
argument, e.g. ``"st.integers(0, 100)"``), else are derived from the inputs the task's own tests
pass (same types, ranges, sizes and alphabets: what the spec's examples imply), else from the
entry point's type hints. An input on which the reference raises or times out is outside the
task's domain and discarded. Both sides run sandboxed and answer across the same boundary as the
``tests`` verifier; runs are seeded, and the shrunk counterexample is the evidence.
"""

from __future__ import annotations

import ast
import threading
import typing
from collections import Counter
from typing import Any

from proctor._syntax import parse_python
from proctor.models import Limits, Proposal, Task, Verdict
from proctor.sandboxes import Sandbox
from proctor.verifiers._base import Timer, digest, module_file, register_verifier, verdict
from proctor.verifiers._driver import BOUNDARY_SOURCES, Proxy, TaskCodeError, call_text, run_tests, same, short
from proctor.verifiers._remote import Fatal, Remote

_HYPOTHESIS_LOCK = threading.Lock()  # Hypothesis keeps per-process state; one run at a time


class Mismatch(Exception):
    """The candidate disagreed with the reference on ``args``."""

    def __init__(self, args: tuple[Any, ...], got: str, expected: str) -> None:
        super().__init__(f"{got} != {expected}")
        self.call_args, self.got, self.expected = args, got, expected


class _OutOfTime(BaseException):
    """The time budget for generating inputs ran out."""


class NoStrategy(Exception):
    """No way to generate inputs for this task."""


class _Respawning:
    """A Remote that is started again after it dies (a timeout or crash ends a process)."""

    def __init__(self, sandbox: Sandbox, code: str, limits: Limits, call_seconds: float, allow_nan: bool) -> None:
        self.args = (sandbox, code, limits, call_seconds, allow_nan)
        self.remote: Remote | None = None
        self.starts = 0

    def call(self, name: str, args: tuple[Any, ...]) -> Any:
        if self.remote is None or self.remote.fatal is not None:
            self.close()
            self.starts += 1
            self.remote = Remote(*self.args)
            self.remote.start()
        return self.remote.call(name, args, {})

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()
            self.remote = None


@register_verifier("properties")
class PropertiesVerifier:
    """Compares the candidate with the task's reference on generated inputs.

    Args:
        sandbox: where the candidate and the reference run.
        examples: how many inputs to try (Hypothesis ``max_examples``).
        seed: the Hypothesis seed; the same seed gives the same inputs.
        call_seconds: how long one call of the reference may take; the candidate gets
            ``slack`` times as long.
        total_seconds: each side's wall limit.
        budget_seconds: when the search has run this long it stops; it passes if at least
            ``min_examples`` inputs agreed by then, else it is ``unknown``.
    """

    id = "properties"

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        examples: int = 60,
        seed: int = 0,
        call_seconds: float = 2.0,
        slack: float = 3.0,
        total_seconds: float = 60.0,
        budget_seconds: float = 10.0,
        min_examples: int = 10,
    ) -> None:
        self.budget_seconds, self.min_examples = budget_seconds, min_examples
        self.sandbox, self.examples, self.seed = sandbox, examples, seed
        self.call_seconds, self.slack = call_seconds, slack
        self.limits = Limits(wall_seconds=total_seconds, cpu_seconds=total_seconds)
        config = {
            "examples": examples,
            "seed": seed,
            "call": call_seconds,
            "slack": slack,
            "total": total_seconds,
            "budget": budget_seconds,
        }
        self.version = digest(module_file("_properties.py"), *BOUNDARY_SOURCES, config=config)

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        if not task.reference:
            return verdict(self, proposal, "unknown", "the task has no reference to compare with", timer)
        spec = task.properties or {}
        allow_nan = bool(task.metadata.get("allow_nan") or spec.get("allow_nan"))
        reference = _Respawning(self.sandbox, task.reference, self.limits, self.call_seconds, allow_nan=True)
        candidate = _Respawning(self.sandbox, proposal.code, self.limits, self.call_seconds * self.slack, allow_nan)
        try:
            strategy, origin = self._strategy(task, spec, reference)
            return self._search(task, proposal, strategy, origin, reference, candidate, spec, timer)
        except NoStrategy as exc:
            return verdict(self, proposal, "unknown", f"no inputs to generate: {exc}", timer)
        except TaskCodeError as exc:
            return verdict(self, proposal, "error", str(exc), timer)
        finally:
            reference.close()
            candidate.close()

    def _strategy(self, task: Task, spec: dict[str, Any], reference: _Respawning) -> tuple[Any, str]:
        from hypothesis import strategies as st

        if spec.get("strategies"):
            return _strategies_from_spec(task, spec["strategies"]), "the task's strategies"
        if task.tests or task.cases:
            proxy = Proxy(task.entry_point, lambda args, kwargs: reference.call(task.entry_point, args))
            run_tests(task, proxy)
            seen = [args for args, kwargs in proxy.inputs if not kwargs]
            if seen:
                arity = Counter(len(a) for a in seen).most_common(1)[0][0]
                seen = [a for a in seen if len(a) == arity]
                derived = st.tuples(*(like([a[i] for a in seen]) for i in range(arity)))
                return st.one_of(st.sampled_from(seen), derived), f"derived from {len(seen)} inputs in the task's tests"
        return _strategy_from_hints(task), "the entry point's type hints"

    def _search(
        self,
        task: Task,
        proposal: Proposal,
        strategy: Any,
        origin: str,
        reference: _Respawning,
        candidate: _Respawning,
        spec: dict[str, Any],
        timer: Timer,
    ) -> Verdict:
        from hypothesis import HealthCheck, Phase, given, reject, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis.errors import Unsatisfiable

        tolerance = spec.get("float_tolerance", task.metadata.get("float_tolerance"))
        name = task.entry_point
        tried = Counter[str]()

        @settings(
            max_examples=self.examples,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @hypothesis_seed(self.seed)
        @given(strategy)
        def agrees(args: tuple[Any, ...]) -> None:
            if timer.seconds > self.budget_seconds:
                raise _OutOfTime
            try:
                expected = reference.call(name, args)
            except (Fatal, Exception):  # noqa: BLE001  (the reference cannot answer: outside the domain)
                reject()  # outside the task's domain: the reference itself cannot answer
            tried["inputs"] += 1
            try:
                got = candidate.call(name, args)
            except Fatal as fatal:
                raise Mismatch(args, fatal.reason, short(expected)) from None
            except Exception as exc:  # noqa: BLE001  (any exception from the candidate is a mismatch)
                raise Mismatch(args, f"raised {type(exc).__name__}: {str(exc)[:200]}", short(expected)) from None
            if not same(got, expected, tolerance):
                raise Mismatch(args, short(got), short(expected))

        with _HYPOTHESIS_LOCK:
            try:
                agrees()
            except Mismatch as found:
                counterexample = {"call": call_text(name, found.call_args, {}), "got": found.got, "expected": found.expected}
                detail = f"differs from the reference: {counterexample['call']} gave {found.got}, expected {found.expected}"
                return verdict(
                    self,
                    proposal,
                    "fail",
                    detail,
                    timer,
                    counterexample=counterexample,
                    inputs=tried["inputs"],
                    origin=origin,
                    seed=self.seed,
                )
            except Unsatisfiable:
                return verdict(
                    self, proposal, "unknown", f"the reference answered none of the inputs ({origin})", timer, origin=origin
                )
            except _OutOfTime:
                if tried["inputs"] < self.min_examples:
                    detail = f"only {tried['inputs']} inputs tried within {self.budget_seconds:g} s ({origin})"
                    return verdict(self, proposal, "unknown", detail, timer, inputs=tried["inputs"], origin=origin)
        if tried["inputs"] == 0:
            return verdict(self, proposal, "unknown", f"the reference answered none of the inputs ({origin})", timer, origin=origin)
        detail = f"agrees with the reference on {tried['inputs']} inputs ({origin})"
        return verdict(self, proposal, "pass", detail, timer, inputs=tried["inputs"], origin=origin, seed=self.seed)


def like(values: list[Any]) -> Any:
    """A strategy for values of the same shape as ``values``: types, ranges, sizes, alphabets."""
    from hypothesis import strategies as st

    kinds = {type(v) for v in values}
    if len(kinds) != 1:
        return st.sampled_from(values)
    (kind,) = kinds
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(min(values), max(values))
    if kind is float:
        return st.floats(min(values), max(values), allow_nan=False, allow_infinity=False)
    if kind is str:
        alphabet = sorted(set("".join(values)))
        sizes = [len(v) for v in values]
        return st.text(alphabet=alphabet, min_size=min(sizes), max_size=max(sizes)) if alphabet else st.just("")
    if kind in (list, tuple, set):
        items = [item for v in values for item in v]
        sizes = [len(v) for v in values]
        if not items:
            return st.just(kind())
        inner = st.lists(like(items), min_size=min(sizes), max_size=max(sizes))
        return inner if kind is list else inner.map(kind)
    if kind is dict:
        keys = [k for v in values for k in v]
        if not keys:
            return st.just({})
        return st.dictionaries(like(keys), like([x for v in values for x in v.values()]), max_size=max(len(v) for v in values))
    return st.sampled_from(values)


def _strategies_from_spec(task: Task, expressions: Any) -> Any:
    from hypothesis import strategies as st

    if not isinstance(expressions, dict | list):
        raise NoStrategy(f"task {task.id}: properties.strategies must map argument names to expressions")
    texts = list(expressions.values()) if isinstance(expressions, dict) else list(expressions)
    try:
        parts = [eval(text, {"st": st, "__builtins__": {}}) for text in texts]  # the task's own (trusted) spec
    except Exception as exc:
        raise NoStrategy(f"task {task.id}: a strategy does not evaluate: {exc}") from exc
    return st.tuples(*parts)


def _strategy_from_hints(task: Task) -> Any:
    from hypothesis import strategies as st

    source = task.reference or task.prompt
    try:
        tree = parse_python(source)
    except SyntaxError as exc:
        raise NoStrategy(f"the reference is not valid Python: {exc}") from None
    function = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == task.entry_point), None)
    if function is None or not all(a.annotation for a in function.args.args):
        raise NoStrategy("the entry point has no type hints; give properties.strategies in the task")
    namespace = {name: getattr(typing, name) for name in typing.__all__}
    try:
        hints = [eval(ast.unparse(a.annotation), namespace) for a in function.args.args if a.annotation]
    except Exception as exc:  # noqa: BLE001  (the task's strategy text may raise anything)
        raise NoStrategy(f"the entry point's type hints do not evaluate: {exc}") from None
    return st.tuples(*(st.from_type(hint) for hint in hints))
