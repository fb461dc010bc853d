"""The candidate beside the task's reference, each sandboxed, judged on the same inputs.

``Sides.judge(inputs, agreed)`` answers one question per input: is the candidate right on it? The
reference gets the inputs in one request; the candidate one at a time, each answer timed by the driver.
Inputs the task's domain excludes, or on which the reference raises or runs out of time, are
outside the domain and skipped. Otherwise the candidate must give a right answer (``Spec.accepts``) within
its allowance, ``max(floor, factor × the reference's time on the same input)``; anything else is a
``Disagreement`` naming the input and what happened, the candidate's fault whatever it was:
a wrong answer, an exception, a crash, garbage on the channel, or taking too long.

Who caused the time spent is kept apart: the candidate's seconds are counted on their own, so a
verifier's budget for its own work never runs out because the candidate was slow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from proctor.errors import UnavailableError
from proctor.models import Limits
from proctor.sandboxes import ExecResult, Sandbox
from proctor.verifiers._driver import call_text, short
from proctor.verifiers._inputs import at_least_as_big
from proctor.verifiers._remote import CANDIDATE_LIMITS, Answer, Answers, Fatal, Remote
from proctor.verifiers._spec import Spec


@dataclass(frozen=True)
class Allowance:
    """How long the candidate may take where the reference took ``seconds``: ``max(floor, factor × seconds)``.

    ``total`` bounds all of the candidate's calls together the same way, against the reference's total.
    """

    floor: float = 1.0
    factor: float = 50.0
    total_floor: float = 30.0

    def seconds(self, reference_seconds: float) -> float:
        return max(self.floor, self.factor * reference_seconds)

    def total(self, reference_seconds: float) -> float:
        return max(self.total_floor, self.factor * reference_seconds)

    def describe(self) -> dict[str, float]:
        return {"floor_seconds": self.floor, "factor": self.factor, "total_floor_seconds": self.total_floor}


class OutsideDomain(Exception):
    """The input is outside the task's domain: its spec excludes it, or the reference cannot answer it."""


class Disagreement(Exception):
    """The candidate was not right on ``args``; ``kind`` is wrong, raised, broke, slow or load."""

    def __init__(self, args: tuple[Any, ...], kind: str, got: str, expected: str, seconds: float, reference_seconds: float) -> None:
        super().__init__(f"{got} != {expected}")
        self.call_args, self.kind, self.got, self.expected = args, kind, got, expected
        self.seconds, self.reference_seconds = seconds, reference_seconds

    def evidence(self, name: str) -> dict[str, Any]:
        """The counterexample (the same for the same seed and code) and, apart, the times it took."""
        counterexample = {"call": call_text(name, self.call_args, {}), "kind": self.kind, "got": self.got, "expected": self.expected}
        return {
            "counterexample": counterexample,
            "times": {"candidate_seconds": round(self.seconds, 4), "reference_seconds": round(self.reference_seconds, 4)},
        }


class CannotLoad(BaseException):
    """The candidate's code does not load (or not in its allowance): wrong on every input, nothing to shrink."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Side:
    """One side's sandboxed process, started again after it dies (a timeout or crash ends a process)."""

    def __init__(self, sandbox: Sandbox, code: str, limits: Limits, allow_nan: bool) -> None:
        self.args = (sandbox, code, limits, limits.wall_seconds, allow_nan)
        self.remote: Remote | None = None
        self.ran: ExecResult | None = None  # how its last process ran: the sandbox's provenance

    def ready(self, load_timeout: float | None = None) -> float:
        """Start the process if it is not running; return the seconds loading took (0 if it was running)."""
        if self.remote is not None and self.remote.fatal is None:
            return 0.0
        self.close()
        self.remote = Remote(*self.args)
        return self.remote.start(load_timeout)

    def call(self, name: str, args: tuple[Any, ...], timeout: float) -> Any:
        assert self.remote is not None, "ready() first"
        return self.remote.call(name, args, {}, timeout)

    def answer(self, name: str, args: tuple[Any, ...], timeout: float) -> Answer:
        assert self.remote is not None, "ready() first"
        return self.remote.answer(name, args, timeout)

    def call_each(self, name: str, batch: list[tuple[Any, ...]], timeout: float) -> Answers:
        assert self.remote is not None, "ready() first"
        return self.remote.call_each(name, batch, timeout)

    def close(self) -> None:
        if self.remote is not None:
            remote, self.remote = self.remote, None
            self.ran = remote.close() or self.ran


class Sides:
    """The reference and the candidate, called on the same inputs and judged by the task's spec.

    Args:
        sandbox: where both run, in jobs with the same limits (``CANDIDATE_LIMITS``).
        spec: the task's domain and answer relation.
        code: the candidate's source.
        reference_seconds: how long the reference may take on one input before the input counts as
            outside the domain.
        allowance: how long the candidate may take, against the reference's time.
        allow_nan: whether the candidate may return NaN.
    """

    def __init__(
        self, sandbox: Sandbox, spec: Spec, code: str, *, reference_seconds: float, allowance: Allowance, allow_nan: bool
    ) -> None:
        task = spec.task
        assert task.reference is not None
        self.spec, self.name, self.allowance = spec, task.entry_point, allowance
        self.reference_limit = reference_seconds
        self.reference = Side(sandbox, task.reference, CANDIDATE_LIMITS, allow_nan=True)
        self.candidate = Side(sandbox, code, CANDIDATE_LIMITS, allow_nan)
        self.candidate_seconds = self.reference_seconds = self.reference_load = 0.0
        self.slowest: dict[str, Any] = {}
        self.seeds: list[tuple[Any, ...]] = []  # the tests' inputs, once known
        self.costly: list[tuple[Any, ...]] = []  # see too_costly
        self.costly_seconds = math.inf

    def reference_answer(self, args: tuple[Any, ...], timeout: float | None = None) -> tuple[Any, float]:
        """The reference's answer on ``args`` and its time; OutsideDomain if it raises or runs out of time."""
        try:
            self.reference_load = self.reference.ready() or self.reference_load
            started = time.perf_counter()
            expected = self.reference.call(self.name, args, timeout or self.reference_limit)
        except UnavailableError:
            raise  # the sandbox broke: nothing can be verified, and it is nobody's answer
        except (Fatal, Exception) as exc:  # noqa: BLE001  (whatever stops the reference, the input is outside its domain)
            raise OutsideDomain(str(exc)) from None
        seconds = time.perf_counter() - started
        self.reference_seconds += seconds
        return expected, seconds

    def judge(self, inputs: list[tuple[Any, ...]], agreed: Callable[[tuple[Any, ...]], None]) -> int:
        """Judge the candidate on ``inputs``, in order: call ``agreed(args)`` for each it is right on and return how
        many; skip those outside the domain; raise the first Disagreement (or CannotLoad).

        The reference answers them all in one request. The candidate is asked one at a time, each answer
        timed by the driver against its own allowance: seeing the next input before answering this one, it
        could spend this answer's time on that one.
        """
        expected = self._reference_answers([args for args in inputs if self.spec.admits(args) and not self.too_costly(args)])
        for args, want, reference_seconds in expected:
            self._load_candidate()
            self._judge_one(
                args, want, reference_seconds, self.candidate.answer(self.name, args, self.allowance.seconds(reference_seconds))
            )
            agreed(args)
        return len(expected)

    def _reference_answers(self, inputs: list[tuple[Any, ...]]) -> list[tuple[tuple[Any, ...], Any, float]]:
        """The reference's answer and time on each input it answers; one it raises on or cannot answer in
        ``reference_limit`` is outside the domain (its process, ended by a timeout, starts again for the rest)."""
        found = []
        while inputs:
            self.reference_load = self.reference.ready() or self.reference_load
            answered = 0
            for args, answer in zip(inputs, self.reference.call_each(self.name, inputs, self.reference_limit), strict=False):
                answered += 1
                if answer.fatal is None and answer.raised is None:
                    found.append((args, answer.value, answer.seconds))
                    self.reference_seconds += answer.seconds
                if answer.seconds > self.costly_seconds or (answer.fatal is not None and answer.fatal.timed_out):
                    self._note_costly(args)
            inputs = [args for args in inputs[answered:] if not self.too_costly(args)]
        return found

    def _note_costly(self, args: tuple[Any, ...]) -> None:
        if self.seeds and all(at_least_as_big(args, seed) for seed in self.seeds):
            self.costly.append(args)

    def too_costly(self, args: tuple[Any, ...]) -> bool:
        """Whether ``args`` is at least as big as a costly input (``costly``): one beyond all the tests' inputs on
        which the reference took ``costly_seconds`` or more, or ran out of time. Such inputs are not asked: they
        would cost as much or more, or time out. Only inputs beyond the tests' count, so even a reference slowed
        on purpose cannot shrink what is asked below the tests' own sizes."""
        return any(at_least_as_big(args, costly) for costly in self.costly)

    def _judge_one(self, args: tuple[Any, ...], expected: Any, reference_seconds: float, answer: Answer) -> None:
        seconds = self._count(args, answer.seconds, reference_seconds)
        if answer.fatal is not None:
            limit = self.allowance.seconds(reference_seconds)
            if answer.fatal.timed_out:
                got = f"took more than {limit:.2f} s (the reference took {reference_seconds:.4f} s)"
                raise Disagreement(args, "slow", got, short(expected), seconds, reference_seconds)
            raise Disagreement(args, "broke", answer.fatal.reason, short(expected), seconds, reference_seconds)
        if answer.raised is not None:
            got = f"raised {type(answer.raised).__name__}: {str(answer.raised)[:200]}"
            raise Disagreement(args, "raised", got, short(expected), seconds, reference_seconds)
        if not self.spec.accepts(args, answer.value, expected):
            raise Disagreement(args, "wrong", short(answer.value), short(expected), seconds, reference_seconds)
        total = self.allowance.total(self.reference_seconds)
        if self.candidate_seconds > total:
            reason = f"took {self.candidate_seconds:.2f} s over its calls, more than its {total:.2f} s in all"
            raise Disagreement(args, "slow", reason, short(expected), seconds, reference_seconds)

    def _load_candidate(self) -> None:
        limit = self.allowance.seconds(self.reference_load)
        try:
            self.candidate_seconds += self.candidate.ready(limit)
        except Fatal as fatal:
            if fatal.timed_out:
                took = f"the reference loaded in {self.reference_load:.3f} s"
                raise CannotLoad(f"the candidate's code did not load within {limit:.2f} s ({took})") from None
            raise CannotLoad(fatal.reason) from None

    def _count(self, args: tuple[Any, ...], seconds: float, reference_seconds: float) -> float:
        self.candidate_seconds += seconds
        if seconds > self.slowest.get("candidate_seconds", -1.0):
            self.slowest = {
                "call": call_text(self.name, args, {}),
                "candidate_seconds": round(seconds, 4),
                "reference_seconds": round(reference_seconds, 4),
            }
        return seconds

    def close(self) -> None:
        self.reference.close()
        self.candidate.close()
