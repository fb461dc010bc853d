"""The shared domain types: what is asked, what is proposed, what is claimed and what is found.

Every model here is a frozen pydantic model that round-trips through JSON unchanged
(``Model.model_validate_json(m.model_dump_json()) == m``), because each of them is read from
files, written to the ledger or shown to a user.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Decision",
    "DecisionOutcome",
    "Limits",
    "Proposal",
    "Scoring",
    "SelfReport",
    "Task",
    "TestCase",
    "Verdict",
    "VerdictStatus",
]

VerdictStatus = Literal["pass", "fail", "unknown", "error"]
"""``pass`` and ``fail`` are findings; ``unknown`` (could not decide) and ``error`` (the verifier
broke) are never a pass."""

DecisionOutcome = Literal["accept", "reject", "retry", "escalate"]

MiB = 1024 * 1024


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def utf8_safe(value: Any) -> Any:
    """``value`` with every string UTF-8 can carry: a lone surrogate (a candidate's exception message can
    hold one) becomes its backslash escape, so the ledger's canonical JSON can record it. The same object
    when nothing needed it."""
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if type(value) is dict:
        cleaned = {utf8_safe(k): utf8_safe(v) for k, v in value.items()}
        unchanged = all(k is c and v is w for (k, v), (c, w) in zip(value.items(), cleaned.items(), strict=True))
        return value if unchanged else cleaned
    if type(value) in (list, tuple):
        items = [utf8_safe(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else type(value)(items)
    return value


class Limits(_Frozen):
    """Hard limits for one sandboxed job, enforced from outside the job.

    ``disk_bytes`` caps each writable mount (the work directory and /tmp) separately, since
    memory limits do not count tmpfs pages. ``output_bytes`` caps each captured stream; a job
    that writes more is stopped with ``limit_hit == "output"``.
    """

    wall_seconds: float = Field(10.0, gt=0, le=24 * 3600)
    cpu_seconds: float = Field(10.0, gt=0, le=24 * 3600)
    memory_bytes: int = Field(512 * MiB, ge=16 * MiB)
    processes: int = Field(64, ge=1, le=65536)
    file_size_bytes: int = Field(16 * MiB, ge=1)
    disk_bytes: int = Field(64 * MiB, ge=MiB)
    output_bytes: int = Field(1 * MiB, ge=1024)


class TestCase(_Frozen):
    """One explicit input/expected pair: ``entry_point(*args, **kwargs) == expected``."""

    __test__ = False  # not a pytest test class

    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None


class Scoring(_Frozen):
    """A task's objective: trusted task code that measures the candidate and returns a number.

    ``code`` defines ``function(candidate)``; it runs in the verifier's process, as tests do, and
    reaches the candidate only through the plain-data channel. A measured score must be a finite
    number within ``[low, high]``; anything else (NaN, an infinity, a score out of range, an
    exception) is the candidate's failure, never a score. ``goal`` says which way is better;
    with a ``threshold``, only scores at or beyond it pass. Instances a scorer writes out are the
    proposer's to read in the task file; draw them from ``random`` with ``random = "secret"`` to hide them.
    """

    code: str = Field(min_length=1)
    function: str = Field("score", min_length=1)
    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)
    goal: Literal["max", "min"] = "max"
    threshold: float | None = Field(None, allow_inf_nan=False)
    random: Literal["task", "secret"] = "task"
    """The scorer's ``import random``: seeded by the task's id (``task``: the same instances every time, so
    scores compare across runs, and a candidate can compute them in advance), or by a fresh secret for
    each verification (``secret``: instances nobody can prepare for; the seed is in the verdict's evidence)."""

    @model_validator(mode="after")
    def _ordered(self) -> Scoring:
        if not self.low < self.high:
            raise ValueError(f"scoring: low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def better(self, score: float, than: float | None) -> bool:
        """Whether ``score`` improves on ``than`` (None: nothing to improve on yet)."""
        return than is None or (score > than if self.goal == "max" else score < than)

    def meets_threshold(self, score: float) -> bool:
        if self.threshold is None:
            return True
        return score >= self.threshold if self.goal == "max" else score <= self.threshold


class Task(_Frozen):
    """What is asked of a proposer and how its answer can be checked.

    ``tests`` is HumanEval-style code defining ``check(candidate)``; ``cases`` are explicit
    input/expected pairs. ``reference`` is a trusted solution for property and SMT checks.
    ``scoring``, when given, makes it a scored task (see ``Scoring``).
    """

    id: str = Field(min_length=1)
    prompt: str = ""
    entry_point: str = Field(min_length=1)
    tests: str | None = None
    cases: list[TestCase] = Field(default_factory=list)
    reference: str | None = None
    properties: dict[str, Any] | None = None
    smt: dict[str, Any] | None = None
    scoring: Scoring | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Proposal(_Frozen):
    """A proposer's answer to a task: the full candidate code and how it was made."""

    id: str = Field(default_factory=_new_id)
    task_id: str
    code: str
    proposer: str = "unknown"
    attempt: int = Field(1, ge=1)
    created_at: datetime = Field(default_factory=_now)
    metadata: dict[str, Any] = Field(default_factory=dict)


class SelfReport(_Frozen):
    """The proposer's own claim about its proposal, recorded beside, never instead of, verdicts.

    ``method`` says how the claim was made: by asking the model (``asked``), by running tests
    the model wrote itself (``own_tests``), or by fiat (``assumed``).
    """

    proposal_id: str
    claimed: Literal["pass", "fail", "unknown"]
    confidence: float = Field(ge=0.0, le=1.0)
    method: Literal["asked", "own_tests", "assumed"] = "asked"
    detail: str = ""
    claimed_score: float | None = Field(None, allow_inf_nan=False)
    """On a scored task, the score the proposer says its proposal reaches."""

    _safe_detail = field_validator("detail")(utf8_safe)


class Verdict(_Frozen):
    """One external verifier's finding on one proposal.

    ``verifier`` and ``version`` identify exactly what judged: ``version`` is a digest of the
    verifier's code and configuration. ``detail`` is one line for humans; ``evidence`` holds
    the machine-readable reasons (failing input, expected vs got, counterexample). ``sandbox`` says
    what ran the candidate, when something did: ``{"backend", "isolated", "enforcement"}``.
    """

    verifier: str
    version: str
    status: VerdictStatus
    detail: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    duration_seconds: float = Field(0.0, ge=0.0)
    proposal_id: str | None = None
    sandbox: dict[str, Any] | None = None
    score: float | None = Field(None, allow_inf_nan=False)
    """On a scored task, the score measured (finite and in the task's range); None otherwise."""

    _safe_text = field_validator("detail", "evidence")(utf8_safe)  # they quote the candidate's own words

    @property
    def passed(self) -> bool:
        """Whether this verdict is a pass; ``unknown`` and ``error`` never are."""
        return self.status == "pass"


class Decision(_Frozen):
    """What the loop did with a proposal, under which regime, and why."""

    proposal_id: str
    outcome: DecisionOutcome
    regime: Literal["external", "self", "hybrid", "none"] = "external"
    reason: str = ""
    decided_at: datetime = Field(default_factory=_now)

    _safe_reason = field_validator("reason")(utf8_safe)
