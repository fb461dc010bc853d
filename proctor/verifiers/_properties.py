"""The ``properties`` verifier: generated inputs, the candidate's answers against the reference's.

Inputs grow from the inputs the task's own tests pass (``_inputs``: probes, mutants of them and
fresh values of their shapes over wider ranges, with edge values), drawn by Python's generator from
the verification's seed (the reference answers them in batches, the candidate one at a time); a
counterexample is made smaller greedily. A task
may instead give Hypothesis strategies (``properties.strategies``: one expression per argument,
e.g. ``"st.integers(0, 100)"``), or only type hints: then Hypothesis draws and shrinks, one input
at a time. Inputs the tests already used are not counted: the verdict reports how many new inputs
agreed. An input the task's domain excludes, or on which the reference raises or runs out of time,
is skipped. Both sides run sandboxed with the same job limits as every verifier, and answer across
the same boundary as the ``tests`` verifier.

Time is charged to whoever spent it. The candidate may take ``max(1 s, 50×)`` the reference's
time on each input (and the like in all), timed by the driver from its previous answer; beyond that
it fails, with the input and both times as evidence. The search's budget counts only the verifier's
own time (the reference, drawing inputs), so a slow candidate cannot run it out; running it out is
the verifier's limit: ``pass`` if enough new inputs agreed by then, else ``unknown``. A
counterexample, once found, is the verdict: shrinking it has a budget of its own, and an unshrunk
counterexample still fails.
"""

from __future__ import annotations

import ast
import json
import random
import threading
import typing
from typing import Any

from proctor._syntax import parse_lock
from proctor.models import Proposal, Task, Verdict
from proctor.sandboxes import Sandbox
from proctor.verifiers import _wire
from proctor.verifiers._base import Timer, digest, module_file, provenance, register_verifier, sandbox_name, verdict
from proctor.verifiers._compare import Allowance, CannotLoad, Disagreement, Sides
from proctor.verifiers._driver import BOUNDARY_SOURCES, Proxy, TaskCodeError, run_tests
from proctor.verifiers._inputs import Sampler, first_inputs, probes, smaller_inputs
from proctor.verifiers._spec import Spec, entry_function

REFERENCE_FLOOR, REFERENCE_FACTOR = 0.1, 20.0
"""The reference may take max(0.1 s, 20×) its slowest time on the tests' inputs on a generated one."""
COSTLY_FLOOR, COSTLY_FACTOR = 0.02, 4.0
"""An input on which the reference takes max(20 ms, 4×) its slowest time on the tests' inputs is costly: inputs at
least as big are not asked (``Sides.too_costly``: they cost the verifier, and the candidate, the most for the least news)."""
BATCH = 25
"""Inputs per request to the reference (the candidate is asked one at a time: see ``Sides.judge``)."""
DRAWS_PER_EXAMPLE = 4  # draws (repeats and inputs outside the domain included) the sampler may make per example asked for


class _OutOfTime(BaseException):
    """The verifier's own budget ran out (BaseException: Hypothesis lets it through, unlike a failure)."""


class _ShrinkingDone(BaseException):
    """Shrinking a counterexample used up its budget; the smallest found so far is the verdict."""


class NoStrategy(Exception):
    """No way to generate inputs for this task."""


class _Remembered:
    """Inputs on which a candidate for a task disagreed with the reference, per task, for this process.

    In secret-seed mode every later candidate for the task meets them first: a proposer resubmitting
    variants of a wrong answer, hoping another draw misses its bug, meets the draw that found it.
    (Scenario runs, with fixed seeds, never use them: their verdicts must not depend on order.)
    """

    LIMIT = 32

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inputs: dict[tuple[str, str], list[tuple[Any, ...]]] = {}

    def of(self, task: Task) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._inputs.get(_task_key(task), []))

    def add(self, task: Task, args: tuple[Any, ...]) -> None:
        with self._lock:
            found = self._inputs.setdefault(_task_key(task), [])
            if args not in found:
                found.append(args)
                del found[: -self.LIMIT]


def _task_key(task: Task) -> tuple[str, str]:
    return task.id, task.reference or ""


REMEMBERED = _Remembered()


class _Search:
    """What one search has seen: the inputs tried, the new ones among them, and the smallest counterexample."""

    def __init__(self, seen: list[tuple[Any, ...]]) -> None:
        self.known = {_key(args) for args in seen}
        self.inputs = self.novel = 0
        self.found: Disagreement | None = None
        self.found_at = 0.0

    def agreed(self, args: tuple[Any, ...]) -> None:
        self.inputs += 1
        self.novel += _key(args) not in self.known


def _key(args: tuple[Any, ...]) -> str:
    return json.dumps(_wire.encode(list(args)), sort_keys=True)


@register_verifier("properties")
class PropertiesVerifier:
    """Compares the candidate with the task's reference on generated inputs.

    Args:
        sandbox: where the candidate and the reference run.
        examples: how many inputs to try (Hypothesis ``max_examples``).
        seed: where the inputs' randomness comes from. By default a fresh secret for each verification:
            no candidate can know its inputs, nor try versions of itself offline until one slips through
            (the verdict records the seed it used). Given a number, each candidate's seed is a digest of
            it, the task and the candidate's code: the same code always meets the same inputs (scenario
            runs use this, so their results depend only on their seeds).
        budget_seconds: the verifier's own time (the reference's calls and generating inputs,
            never the candidate's) after which the search stops.
        shrink_seconds: how long shrinking a counterexample may take; then the smallest so far is reported.
        min_examples: how many new inputs (ones the tests did not use) must agree for a pass.
        allowance: how long the candidate may take, against the reference's time on the same input.
        reference_seconds: the most the reference may take on one generated input before the input
            counts as outside the task's domain.
    """

    id = "properties"

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        examples: int = 60,
        seed: int | None = None,
        budget_seconds: float = 20.0,
        shrink_seconds: float = 10.0,
        min_examples: int = 10,
        allowance: Allowance | None = None,
        reference_seconds: float = 2.0,
    ) -> None:
        self.sandbox, self.examples, self.seed = sandbox, examples, seed
        self.budget_seconds, self.shrink_seconds, self.min_examples = budget_seconds, shrink_seconds, min_examples
        self.allowance, self.reference_seconds = allowance or Allowance(), reference_seconds
        config = {
            "examples": examples,
            "seed": "secret per verification" if seed is None else seed,
            "budget": budget_seconds,
            "shrink": shrink_seconds,
            "min": min_examples,
            "allowance": self.allowance.describe(),
            "reference": reference_seconds,
            "sandbox": sandbox_name(sandbox),
        }
        self.version = digest(
            module_file("_properties.py"),
            *(module_file(m) for m in ("_inputs.py", "_compare.py", "_spec.py")),
            *BOUNDARY_SOURCES,
            config=config,
        )

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        if not task.reference:
            return verdict(self, proposal, "unknown", "the task has no reference to compare with", timer)
        try:
            spec = Spec.of(task)
        except TaskCodeError as exc:
            return verdict(self, proposal, "error", str(exc), timer)
        allow_nan = bool(task.metadata.get("allow_nan") or (task.properties or {}).get("allow_nan"))
        sides = Sides(
            self.sandbox, spec, proposal.code, reference_seconds=self.reference_seconds, allowance=self.allowance, allow_nan=allow_nan
        )
        try:
            strategy, origin, seen = self._strategy(task, sides)
            found = self._search(task, proposal, strategy, origin, seen, sides, timer)
        except NoStrategy as exc:
            found = verdict(self, proposal, "unknown", f"no inputs to generate: {exc}", timer)
        except TaskCodeError as exc:
            found = verdict(self, proposal, "error", str(exc), timer)
        finally:
            sides.close()
        return found.model_copy(update={"sandbox": provenance(sides.candidate.ran)})

    def _strategy(self, task: Task, sides: Sides) -> tuple[Any, str, list[tuple[Any, ...]]]:
        """Where inputs come from: the task's Hypothesis strategies, a ``Sampler`` grown from its tests' inputs, or its hints."""
        spec = task.properties or {}
        if spec.get("strategies"):
            return _strategies_from_spec(task, spec["strategies"]), "the task's strategies", []
        if task.tests or task.cases:
            seen = _tests_inputs(task, sides)
            if seen:
                return Sampler(seen), f"grown from {len(seen)} inputs in the task's tests", seen
        return _strategy_from_hints(task), "the entry point's type hints", []

    def _search(
        self, task: Task, proposal: Proposal, source: Any, origin: str, seen: list[tuple[Any, ...]], sides: Sides, timer: Timer
    ) -> Verdict:
        search = _Search(seen)
        seed = candidate_seed(self.seed, task, proposal)
        stopped = ""
        try:
            self._ask((first_inputs(seen, seed) if seen else []) + self._remembered(task), sides, search)
            if search.found is None:
                explore = self._sample if isinstance(source, Sampler) else self._hypothesis
                stopped = explore(source, sides, search, timer, seed)
            if search.found is not None and isinstance(source, Sampler):  # Hypothesis shrinks what it finds itself
                search.found = self._shrink(search.found, sides, timer)
        except CannotLoad as exc:
            return verdict(self, proposal, "fail", exc.reason, timer, kind="load", origin=origin)
        evidence = {"inputs": search.inputs, "new_inputs": search.novel, "origin": origin, "seed": seed}
        evidence.update(allowance=self.allowance.describe(), slowest=sides.slowest)
        if search.found is not None:
            return self._counterexample(task, proposal, search.found, timer, evidence)
        if search.novel < self.min_examples:
            why = f"; {stopped}" if stopped else ""
            detail = f"only {search.novel} inputs beyond the tests' own agreed, fewer than {self.min_examples} ({origin}{why})"
            return verdict(self, proposal, "unknown", detail, timer, **evidence)
        detail = f"agrees with the reference on {search.novel} inputs beyond the tests' own ({origin})"
        return verdict(self, proposal, "pass", detail, timer, **evidence)

    def _ask(self, questions: list[tuple[Any, ...]], sides: Sides, search: _Search) -> int:
        """Ask these, in batches; return how many agreed. A disagreement ends the asking: it is ``search.found``."""
        agreed = 0
        for start in range(0, len(questions), BATCH):
            try:
                agreed += sides.judge(questions[start : start + BATCH], search.agreed)
            except Disagreement as found:
                search.found = found
                break
        return agreed

    def _sample(self, sampler: Sampler, sides: Sides, search: _Search, timer: Timer, seed: int) -> str:
        """Ask the probes, then draws of ``sampler`` (but those ``Sides.too_costly``) until ``examples`` new ones
        agreed; return why it stopped short, if it did."""
        self._ask(probes(sampler.seeds), sides, search)
        chosen, asked = random.Random(f"{seed}:sampled"), set(search.known)
        agreed = drawn = 0
        while search.found is None and agreed < self.examples and drawn < DRAWS_PER_EXAMPLE * self.examples:
            if timer.seconds - sides.candidate_seconds > self.budget_seconds:
                return "the search's own time ran out"
            batch: list[tuple[Any, ...]] = []
            while len(batch) < min(BATCH, self.examples - agreed) and drawn < DRAWS_PER_EXAMPLE * self.examples:
                args, drawn = sampler.draw(chosen), drawn + 1
                if (key := _key(args)) not in asked and not sides.too_costly(args):
                    asked.add(key)
                    batch.append(args)
            agreed += self._ask(batch, sides, search)
        return "" if agreed >= self.min_examples else "nearly every input drawn was outside the task's domain"

    def _shrink(self, found: Disagreement, sides: Sides, timer: Timer) -> Disagreement:
        """The counterexample made smaller, greedily: the first smaller input (``smaller_inputs``) on which the
        candidate is wrong the same way replaces it, until none is or ``shrink_seconds`` pass. (A slow input is
        kept: each try of a smaller one could cost the whole allowance.)"""
        deadline, best, smaller = timer.seconds + self.shrink_seconds, found, True
        while smaller and found.kind != "slow":
            smaller = False
            for args in smaller_inputs(best.call_args):
                if timer.seconds > deadline:
                    return best
                try:
                    sides.judge([args], lambda args: None)
                except Disagreement as again:
                    if again.kind == found.kind:
                        best, smaller = again, True
                        break
                except CannotLoad:
                    return best
        return best

    def _hypothesis(self, strategy: Any, sides: Sides, search: _Search, timer: Timer, seed: int) -> str:
        """Run Hypothesis on the task's own strategies (it shrinks what it finds); return why it stopped short, if it did."""
        from hypothesis.errors import Unsatisfiable

        try:
            self._property(strategy, sides, search, timer, seed)()
        except (_OutOfTime, _ShrinkingDone):
            return "the search's own time ran out" if search.found is None else ""
        except Unsatisfiable:
            return "nearly every input was outside the task's domain"
        except Disagreement:
            pass  # the counterexample is search.found
        except Exception:
            if search.found is None:
                raise
        return ""

    def _property(self, strategy: Any, sides: Sides, search: _Search, timer: Timer, seed: int) -> Any:
        from hypothesis import HealthCheck, Phase, given, reject, settings
        from hypothesis import seed as hypothesis_seed

        with parse_lock():  # given() reads the test function's source (see proctor._syntax)

            @settings(
                max_examples=self.examples,
                database=None,
                deadline=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
                print_blob=False,
            )
            @hypothesis_seed(seed)
            @given(strategy)
            def agrees(args: tuple[Any, ...]) -> None:
                self._within_budget(sides, search, timer)
                try:
                    if not sides.judge([args], search.agreed):
                        reject()
                except Disagreement as found:
                    if search.found is None:
                        search.found_at = timer.seconds
                    search.found = found  # Hypothesis tries only simpler inputs once one fails: the last is the smallest
                    raise

        return agrees

    def _remembered(self, task: Task) -> list[tuple[Any, ...]]:
        return REMEMBERED.of(task) if self.seed is None else []

    def _within_budget(self, sides: Sides, search: _Search, timer: Timer) -> None:
        if search.found is not None:
            if timer.seconds - search.found_at > self.shrink_seconds:
                raise _ShrinkingDone
        elif timer.seconds - sides.candidate_seconds > self.budget_seconds:
            raise _OutOfTime

    def _counterexample(self, task: Task, proposal: Proposal, found: Disagreement, timer: Timer, evidence: dict[str, Any]) -> Verdict:
        if self.seed is None:
            REMEMBERED.add(task, found.call_args)
        found_evidence = found.evidence(task.entry_point)
        counterexample = found_evidence["counterexample"]
        if found.kind == "slow":
            detail = f"too slow on {counterexample['call']}: {found.got}"
        elif found.kind == "wrong":
            detail = f"differs from the reference: {counterexample['call']} gave {found.got}, expected {found.expected}"
        else:
            detail = f"on {counterexample['call']}: {found.got} (the reference gave {found.expected})"
        return verdict(self, proposal, "fail", detail, timer, input=counterexample["call"], **found_evidence, **evidence)


def candidate_seed(seed: int | None, task: Task, proposal: Proposal) -> int:
    """A fresh secret seed (``seed`` None), or a digest of ``seed``, the task and the candidate's code."""
    import hashlib
    import secrets

    if seed is None:
        return secrets.randbits(63)
    return int.from_bytes(hashlib.sha256(f"{seed}\0{task.id}\0{proposal.code}".encode()).digest()[:8], "big")


def _tests_inputs(task: Task, sides: Sides) -> list[tuple[Any, ...]]:
    """The positional inputs the task's tests pass, of their most common arity (the tests run against the reference).

    The reference's slowest answer to them sets how long it may take on a generated input: inputs
    far costlier than any the tests use (``fib(90)`` beside ``fib(12)``) are outside the domain they imply.
    """
    from collections import Counter

    times = [0.0]

    def answer(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        expected, seconds = sides.reference_answer(args, timeout=10.0)
        times.append(seconds)
        return expected

    proxy = Proxy(task.entry_point, answer)
    run_tests(task, proxy)
    sides.reference_limit = min(sides.reference_limit, max(REFERENCE_FLOOR, REFERENCE_FACTOR * max(times)))
    sides.costly_seconds = max(COSTLY_FLOOR, COSTLY_FACTOR * max(times))
    seen = [args for args, kwargs in proxy.inputs if not kwargs]
    if not seen:
        return []
    arity = Counter(len(a) for a in seen).most_common(1)[0][0]
    sides.seeds = [a for a in seen if len(a) == arity]
    return sides.seeds


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

    function = entry_function(task, task.reference) or entry_function(task, task.prompt)
    if function is None or not function.args.args or not all(a.annotation for a in function.args.args):
        raise NoStrategy("the entry point has no type hints; give properties.strategies in the task")
    namespace = {name: getattr(typing, name) for name in typing.__all__}
    try:
        hints = [eval(ast.unparse(a.annotation), namespace) for a in function.args.args if a.annotation]
    except Exception as exc:  # noqa: BLE001  (the task's strategy text may raise anything)
        raise NoStrategy(f"the entry point's type hints do not evaluate: {exc}") from None
    return st.tuples(*(st.from_type(hint) for hint in hints))
