"""Composition: ``all_of``, ``any_of``, ``cascade`` and ``quorum(k)`` over verifiers.

A composite is itself a Verifier: its verdict combines its members' and carries every member's
verdict in ``evidence["verdicts"]`` (``members_of`` reads them back). A member that raises
(other than ``UnavailableError``, which means nothing can be verified here) yields an ``error``
verdict. ``unknown`` and ``error`` never count as a pass; ``optional(v)`` marks a member whose
``unknown`` (it could not decide) does not hold the composite back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from proctor.errors import UnavailableError
from proctor.models import Proposal, Task, Verdict, VerdictStatus
from proctor.verifiers._base import Timer, Verifier, digest, module_file

Rule = Callable[[Sequence[Verdict], Sequence[bool]], VerdictStatus]


@dataclass(frozen=True)
class Optional:
    """A member whose ``unknown`` does not block its composite."""

    verifier: Verifier


def optional(verifier: Verifier) -> Optional:
    """Mark ``verifier`` optional inside ``all_of`` or ``cascade``."""
    return Optional(verifier)


class Composite:
    """Runs member verifiers and combines their verdicts by a rule."""

    def __init__(self, kind: str, members: Sequence[Verifier | Optional], rule: Rule, stop_at_fail: bool = False) -> None:
        if not members:
            raise ValueError(f"{kind} needs at least one verifier")
        self.members = [m.verifier if isinstance(m, Optional) else m for m in members]
        self.optional = [isinstance(m, Optional) for m in members]
        self.rule, self.stop_at_fail = rule, stop_at_fail
        self.id = f"{kind}({','.join(m.id + ('?' if o else '') for m, o in zip(self.members, self.optional, strict=True))})"
        self.version = digest(module_file("_compose.py"), config=[m.version for m in self.members])

    def verify_each(self, task: Task, proposal: Proposal) -> list[Verdict]:
        """Every member's verdict, in order (a cascade stops after the first fail)."""
        verdicts: list[Verdict] = []
        for member in self.members:
            found = _guarded(member, task, proposal)
            verdicts.append(found)
            if self.stop_at_fail and found.status == "fail":
                break
        return verdicts

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        verdicts = self.verify_each(task, proposal)
        status = self.rule(verdicts, self.optional[: len(verdicts)])
        decisive = self._decided_by(verdicts, status)
        shown = decisive or next((v for v in verdicts if v.status != "pass"), verdicts[0])
        detail = "; ".join(f"{v.verifier}: {v.status}" for v in verdicts) + f" — {shown.detail}"
        evidence: dict[str, Any] = {"verdicts": [v.model_dump(mode="json") for v in verdicts]}
        if decisive is not None:
            evidence.update(decided_by=decisive.verifier, input=decisive.evidence.get("input"))
        return Verdict(
            verifier=self.id,
            version=self.version,
            status=status,
            detail=detail[:500],
            evidence=evidence,
            duration_seconds=timer.seconds,
            proposal_id=proposal.id,
            sandbox=combined_provenance(verdicts),
            score=next((v.score for v in verdicts if v.score is not None), None),  # a scored task's measured objective
        )

    def _decided_by(self, verdicts: Sequence[Verdict], status: VerdictStatus) -> Verdict | None:
        """The member whose verdict made the composite's, when it is not a pass (an optional unknown decides nothing)."""
        if status == "pass":
            return None
        return next(
            (v for v, o in zip(verdicts, self.optional, strict=False) if v.status == status and not (o and status == "unknown")), None
        )


def _guarded(member: Verifier, task: Task, proposal: Proposal) -> Verdict:
    timer = Timer()
    try:
        return member.verify(task, proposal)
    except UnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001  (a broken verifier is an error, never a pass)
        return Verdict(
            verifier=member.id,
            version=member.version,
            status="error",
            detail=f"the verifier broke: {type(exc).__name__}: {exc}"[:500],
            evidence={"exception": type(exc).__name__},
            duration_seconds=timer.seconds,
            proposal_id=proposal.id,
        )


def _every(verdicts: Sequence[Verdict], optional: Sequence[bool]) -> VerdictStatus:
    statuses = [v.status for v in verdicts]
    if "fail" in statuses:
        return "fail"
    if "error" in statuses:
        return "error"
    if any(s == "unknown" and not o for s, o in zip(statuses, optional, strict=True)):
        return "unknown"
    return "pass" if "pass" in statuses else "unknown"


def _any(verdicts: Sequence[Verdict], optional: Sequence[bool]) -> VerdictStatus:
    statuses = {v.status for v in verdicts}
    order: tuple[VerdictStatus, ...] = ("pass", "fail", "error")
    return next((status for status in order if status in statuses), "unknown")


def all_of(*members: Verifier | Optional) -> Composite:
    """Pass only when every member passes (optional ones may be unknown); runs them all."""
    return Composite("all_of", members, _every)


def cascade(*members: Verifier | Optional) -> Composite:
    """``all_of`` in order, cheap first, stopping at the first ``fail``."""
    return Composite("cascade", members, _every, stop_at_fail=True)


def any_of(*members: Verifier | Optional) -> Composite:
    """Pass when any member passes; else fail if any failed; else error or unknown."""
    return Composite("any_of", members, _any)


def quorum(k: int, *members: Verifier | Optional) -> Composite:
    """Pass when at least ``k`` members pass; fail when too many failed for that; else unknown."""
    if not 1 <= k <= len(members):
        raise ValueError(f"quorum needs 1 <= k <= {len(members)} (got {k})")

    def rule(verdicts: Sequence[Verdict], optional: Sequence[bool]) -> VerdictStatus:
        passes = sum(v.status == "pass" for v in verdicts)
        fails = sum(v.status == "fail" for v in verdicts)
        if passes >= k:
            return "pass"
        return "fail" if fails > len(verdicts) - k else "unknown"

    return Composite(f"quorum{k}", members, rule)


def combined_provenance(verdicts: Sequence[Verdict]) -> dict[str, Any] | None:
    """What ran the candidate for any of ``verdicts``: every backend, isolated only if every one was."""
    ran = [v.sandbox for v in verdicts if v.sandbox]
    if not ran:
        return None
    backends = sorted({str(r["backend"]) for r in ran})
    enforcement = sorted({e for r in ran for e in r.get("enforcement", [])})
    return {"backend": ",".join(backends), "isolated": all(r.get("isolated") for r in ran), "enforcement": enforcement}


def members_of(verdict: Verdict) -> list[Verdict]:
    """The member verdicts a composite's verdict carries ([] for a plain verifier's)."""
    return [Verdict.model_validate(v) for v in verdict.evidence.get("verdicts", [])]
