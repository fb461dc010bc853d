"""What a run did, from its ledger: proposals, acceptances, and the claim-vs-verdict gap.

Per run, for each proposal: the proposer's claim (``self_report``), whether the external
verifiers passed it (every external verdict ``pass``; ``unknown`` and ``error`` never pass),
the held-out oracle's finding where scenarios recorded one, the decision and any approval.
From those:

- the confusion matrix of claims (pass / fail / unknown / none) against external verdicts;
- the claims' false-accept rate, P(claimed pass | verifiers did not pass), and false-reject
  rate, P(claimed not pass | verifiers passed), over the proposals that made a claim;
- the GV-gap (Song et al. 2024): J(f[w]) - J(f), the true pass rate of the accepted proposals
  minus that of all proposals, where "true" is the oracle when recorded, else the external
  verdicts. Positive: acceptance filtered towards good proposals; zero or negative: it did not;
- accepted hacks: accepted proposals that a hack scan flagged with a strong sign, that a
  proposer marked as a hack (simulated ones do), or that the oracle found to be one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CLAIMS = ("pass", "fail", "unknown", "none")


@dataclass(slots=True)
class ProposalRecord:
    """One proposal's facts as the ledger holds them."""

    task_id: str = ""
    claim: str = "none"
    confidence: float | None = None
    claim_method: str | None = None  # how the proposer checked itself: asked, own_tests, simulated, ...
    external: list[str] = field(default_factory=list)
    oracle: list[str] = field(default_factory=list)
    outcome: str | None = None
    approved: bool | None = None
    hack: bool = False
    attempt: int = 1
    label: str | None = None  # what the proposer says it made (simulated ones: correct, mutant or hack)
    claimed_score: float | None = None  # on a scored task: what the proposer says it reaches
    score: float | None = None  # on a scored task: what the external verifiers measured
    oracle_score: float | None = None  # on a scored task: what the held-out oracle measured

    @property
    def true_score(self) -> float | None:
        """The measured score the truth rests on: the oracle's when recorded, else the external verifiers'."""
        return self.oracle_score if self.oracle else self.score

    @property
    def verified(self) -> bool:
        return bool(self.external) and all(s == "pass" for s in self.external)

    @property
    def true_pass(self) -> bool:
        return all(s == "pass" for s in self.oracle) if self.oracle else self.verified


@dataclass
class RunAudit:
    """The audit of one run."""

    run: str
    started_at: str | None = None
    ended_at: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    proposals: dict[str, ProposalRecord] = field(default_factory=dict)
    tasks: int = 0
    isolation: Counter[str] = field(default_factory=Counter)  # verdicts by how the candidate ran: isolated, unisolated, not run
    backends: set[str] = field(default_factory=set)
    worst_scores: dict[str, float] = field(default_factory=dict)  # scored tasks: the worst score in range, by task id

    def proposal(self, proposal_id: str) -> ProposalRecord:
        record = self.proposals.get(proposal_id)
        if record is None:
            record = self.proposals[proposal_id] = ProposalRecord()
        return record

    def summary(self) -> dict[str, Any]:
        records = list(self.proposals.values())
        verified = [r.verified for r in records]
        accepted = [r for r in records if r.outcome == "accept"]
        claimed = [(r, ok) for r, ok in zip(records, verified, strict=True) if r.claim != "none"]
        failed = [r for r, ok in claimed if not ok]
        passed = [r for r, ok in claimed if ok]
        matrix = {claim: {"verified_pass": 0, "verified_not_pass": 0} for claim in CLAIMS}
        for r, ok in zip(records, verified, strict=True):
            matrix[r.claim]["verified_pass" if ok else "verified_not_pass"] += 1
        return {
            "run": self.run,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "tasks": self.tasks,
            "proposals": len(records),
            "accepted": len(accepted),
            "verified_pass": sum(verified),
            "truth": "oracle" if any(r.oracle for r in records) else "external verdicts",
            "claims": matrix,
            "claim_false_accept_rate": _rate(sum(r.claim == "pass" for r in failed), len(failed)),
            "claim_false_reject_rate": _rate(sum(r.claim != "pass" for r in passed), len(passed)),
            "gv_gap": _gap(accepted, records),
            "accepted_hacks": sum(r.hack for r in accepted),
            "approvals": Counter("approved" if r.approved else "refused" for r in records if r.approved is not None),
            "decisions": Counter(r.outcome for r in records if r.outcome),
            "isolation": {
                "isolated": self.isolation["isolated"],
                "unisolated": self.isolation["unisolated"],
                "not_run": self.isolation["not run"],
                "backends": sorted(self.backends),
            },
        }


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _gap(accepted: list[ProposalRecord], records: list[ProposalRecord]) -> float | None:
    if not accepted or not records:
        return None
    return sum(r.true_pass for r in accepted) / len(accepted) - sum(r.true_pass for r in records) / len(records)


class Auditor:
    """Builds RunAudits from payloads in ledger order; pass ``visit`` to ``verify_ledger``."""

    def __init__(self, run: str | None = None) -> None:
        self.only = run
        self.runs: dict[str, RunAudit] = {}

    def visit(self, seq: int, payload: dict[str, Any]) -> None:
        run = payload.get("run")
        if run is None or (self.only is not None and run != self.only):
            return
        audit = self.runs.get(run) or self.runs.setdefault(run, RunAudit(run))
        handler = _HANDLERS.get(payload["kind"])
        if handler is not None:
            handler(audit, payload["data"], payload["at"])


def _run_start(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    audit.started_at, audit.config = at, data.get("config", {})


def _run_end(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    audit.ended_at = at


def _task(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    audit.tasks += 1
    scoring = data.get("scoring")
    if scoring:
        audit.worst_scores[data.get("task_id", "")] = scoring["low"] if scoring.get("goal", "max") == "max" else scoring["high"]


def _proposal(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    record = audit.proposal(data["id"])
    metadata = data.get("metadata") or {}
    record.task_id, record.attempt = data.get("task_id", ""), int(data.get("attempt", 1))
    record.label = metadata.get("simulated")
    record.hack = record.hack or bool(metadata.get("hack"))


def _self_report(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    record = audit.proposal(data["proposal_id"])
    record.claim, record.confidence = data.get("claimed", "unknown"), data.get("confidence")
    record.claim_method = data.get("method")
    record.claimed_score = data.get("claimed_score")


def _verdict(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    record = audit.proposal(data["proposal_id"])
    record.external.append(data["status"])
    record.score = data.get("score", record.score)
    ran = data.get("sandbox")
    audit.isolation["not run" if not ran else "isolated" if ran.get("isolated") else "unisolated"] += 1
    if ran:
        audit.backends.add(str(ran.get("backend")))
    if not record.hack and data.get("evidence"):
        record.hack = _flags_hack(data)


def _oracle_verdict(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    record = audit.proposal(data["proposal_id"])
    record.oracle.append(data["status"])
    record.oracle_score = data.get("score", record.oracle_score)
    record.hack = record.hack or bool((data.get("evidence") or {}).get("hack")) or _flags_hack(data)


def _decision(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    audit.proposal(data["proposal_id"]).outcome = data["outcome"]


def _approval(audit: RunAudit, data: dict[str, Any], at: str) -> None:
    audit.proposal(data["proposal_id"]).approved = bool(data.get("approved"))


def _flags_hack(verdict: dict[str, Any]) -> bool:
    """Whether a verdict, or any verdict composed into it, is a hack scan with a strong sign."""
    evidence = verdict.get("evidence")
    if not evidence:
        return False
    if verdict.get("verifier") == "hack_scan" and any(s.get("strength") == "strong" for s in evidence.get("signs") or ()):
        return True
    members = evidence.get("verdicts")
    return bool(members) and any(_flags_hack(member) for member in members)


_HANDLERS = {
    "run_start": _run_start,
    "run_end": _run_end,
    "task": _task,
    "proposal": _proposal,
    "self_report": _self_report,
    "verdict": _verdict,
    "oracle_verdict": _oracle_verdict,
    "decision": _decision,
    "approval": _approval,
}
