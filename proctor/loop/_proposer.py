"""The Proposer protocol, the feedback a proposer gets between attempts, and the scripted proposer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from proctor.errors import InputError
from proctor.models import Proposal, SelfReport, Task, Verdict
from proctor.verifiers import members_of

_ENTRY_POINT_GROUP = "proctor.proposers"


class Feedback(BaseModel):
    """What the loop tells a proposer after a rejected attempt: why, and on which input.

    ``source`` is ``verifiers`` when external verdicts rejected the attempt and ``self`` when
    the proposer's own claim did (the self and hybrid regimes). ``call`` is the failing input as
    Python (``f(1, 2)``); ``expected`` and ``got`` are short reprs; ``counterexample`` is the
    verifier's own evidence (Hypothesis' shrunk input, Z3's model).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempt: int = Field(ge=1, description="the attempt this feedback is for")
    source: str = "verifiers"
    verifier: str = ""
    status: str = ""
    detail: str = ""
    call: str | None = None
    expected: str | None = None
    got: str | None = None
    counterexample: dict[str, Any] | None = None

    def text(self) -> str:
        """The feedback as a few lines for a language model's prompt."""
        lines = [f"Your previous attempt was rejected ({self.verifier or self.source}: {self.status}): {self.detail}"]
        if self.call:
            lines.append(f"Failing call: {self.call}")
        if self.expected is not None:
            lines.append(f"Expected: {self.expected}")
        if self.got is not None:
            lines.append(f"Got: {self.got}")
        return "\n".join(lines)

    @classmethod
    def from_verdict(cls, verdict: Verdict, attempt: int) -> Feedback:
        """The first member verdict that is not a pass, with its failing input when it names one."""
        members = members_of(verdict) or [verdict]
        failing = next((v for v in members if v.status != "pass"), verdict)
        evidence = failing.evidence
        example = evidence.get("counterexample") if isinstance(evidence.get("counterexample"), dict) else None
        source = example if example and "call" in example else evidence
        return cls(
            attempt=attempt,
            verifier=failing.verifier,
            status=failing.status,
            detail=failing.detail,
            call=_text(source.get("call")),
            expected=_text(source.get("expected")),
            got=_text(source.get("got")),
            counterexample=example,
        )

    @classmethod
    def from_claim(cls, claim: SelfReport, attempt: int) -> Feedback:
        return cls(attempt=attempt, source="self", status=claim.claimed, detail=claim.detail or "your own check did not pass")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:500]


@runtime_checkable
class Proposer(Protocol):
    """Makes proposals for tasks and says what it thinks of them.

    ``propose`` returns a full candidate for ``task`` (``feedback`` is None on the first
    attempt); it may report ``tokens`` and ``cost`` in the proposal's metadata, which budgets
    count. ``self_check`` returns the proposer's own claim about a proposal: it is recorded in
    every regime, and decides only in the ``self`` and ``hybrid`` regimes. Either may raise
    ``UnavailableError`` when the model cannot be reached; the loop stops and can be resumed.
    """

    name: str

    def propose(self, task: Task, feedback: Feedback | None) -> Proposal:
        """A candidate for ``task``."""
        ...

    def self_check(self, task: Task, proposal: Proposal) -> SelfReport:
        """The proposer's own claim about ``proposal``."""
        ...


class ScriptedProposer:
    """Proposes exactly the code it is given, in order, and claims what it is told: for tests.

    ``script`` maps a task id to the successive candidates; ``claims`` (same shape) to the
    successive claims (``pass`` when absent). Running out of candidates repeats the last one.
    Every call is kept in ``calls`` so tests can check what the loop asked and told.
    """

    def __init__(
        self,
        script: Mapping[str, Sequence[str]],
        claims: Mapping[str, Sequence[str]] | None = None,
        *,
        name: str = "scripted",
        tokens: int = 0,
    ) -> None:
        self.script = {task: list(codes) for task, codes in script.items()}
        self.claims = {task: list(c) for task, c in (claims or {}).items()}
        self.name = name
        self.tokens = tokens
        self.calls: list[tuple[str, str, Any]] = []

    def propose(self, task: Task, feedback: Feedback | None) -> Proposal:
        attempt = feedback.attempt if feedback else 1
        self.calls.append(("propose", task.id, feedback))
        codes = self.script.get(task.id)
        if not codes:
            raise InputError(f"the scripted proposer has no candidate for task {task.id}")
        code = codes[min(attempt, len(codes)) - 1]
        metadata = {"tokens": self.tokens} if self.tokens else {}
        return Proposal(task_id=task.id, code=code, proposer=self.name, attempt=attempt, metadata=metadata)

    def self_check(self, task: Task, proposal: Proposal) -> SelfReport:
        self.calls.append(("self_check", task.id, proposal.id))
        claims = self.claims.get(task.id) or ["pass"]
        claimed = claims[min(proposal.attempt, len(claims)) - 1]
        if claimed not in ("pass", "fail", "unknown"):
            raise InputError(f"scripted claim must be pass, fail or unknown (got {claimed!r})")
        return SelfReport(proposal_id=proposal.id, claimed=claimed, confidence=0.9, method="assumed")


# -- the registry: proposer specs on the command line ------------------------------------------

Factory = Callable[[Mapping[str, str]], Proposer]
_F = TypeVar("_F", bound=Factory)
_REGISTRY: dict[str, Factory] = {}


def register_proposer(name: str) -> Callable[[_F], _F]:
    """Register a factory that builds a proposer from ``NAME:key=value,...`` options."""

    def add(factory: _F) -> _F:
        _REGISTRY[name] = factory
        return factory

    return add


def proposer_names() -> list[str]:
    _load_entry_points()
    return sorted(_REGISTRY)


def make_proposer(spec: str) -> Proposer:
    """Build a proposer from a spec such as ``simulated:competence=0.6,seed=3`` or ``openai:model=gpt-4o-mini``."""
    name, _, rest = spec.partition(":")
    _load_entry_points()
    if name not in _REGISTRY:
        raise InputError(f"unknown proposer {name!r} in {spec!r} (known: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name](parse_options(rest, spec))


def parse_options(text: str, spec: str) -> dict[str, str]:
    """``a=1,b=x`` as a dict; an option without ``=`` is an error naming the spec."""
    options: dict[str, str] = {}
    for part in _split(text):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InputError(f"proposer option {part!r} in {spec!r} must look like key=value")
        options[key.strip()] = value.strip()
    return options


def _split(text: str) -> Iterable[str]:
    return (p for p in text.split(",") if p.strip())


def _load_entry_points() -> None:
    for point in entry_points(group=_ENTRY_POINT_GROUP):
        if point.name not in _REGISTRY:
            _REGISTRY[point.name] = point.load()
