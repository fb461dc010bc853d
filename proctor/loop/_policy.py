"""Regimes (who decides), budgets (when to stop) and approval policies (what a human must see)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from proctor.models import Decision, Proposal, Scoring, SelfReport, Verdict

Regime = Literal["external", "self", "hybrid", "none"]
REGIMES: tuple[str, ...] = get_args(Regime)
"""``external``: the verdicts decide. ``self``: the proposer's own claim decides (the degraded
condition scenarios measure). ``hybrid``: the claim filters (a proposal the proposer does not
claim is not verified), the verdicts decide. ``none``: the first proposal is accepted."""

ApprovalPolicy = Literal["never", "accept", "disagree"]
APPROVAL_POLICIES: tuple[str, ...] = get_args(ApprovalPolicy)
"""``accept``: a human approves every acceptance. ``disagree``: only acceptances where the
proposer's claim and the external verdicts disagree. ``never``: nobody is asked."""


class Budget(BaseModel):
    """When a loop stops trying. ``cycles`` is per task; the rest are totals for a run.

    ``seconds`` counts the time spent proposing, checking and verifying, not time paused for an
    approval. ``tokens`` and ``cost`` count only what the proposer reports in its proposals'
    metadata (``tokens``, ``cost``). None means no limit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cycles: int = Field(3, ge=1)
    proposals: int | None = Field(None, ge=1)
    seconds: float | None = Field(None, gt=0)
    tokens: int | None = Field(None, ge=1)
    cost: float | None = Field(None, gt=0)

    def exhausted(self, spent: dict[str, float], cycles: int) -> str | None:
        """Which limit ``spent`` (this run's totals) and ``cycles`` (this task's) reached, if any."""
        if cycles >= self.cycles:
            return f"cycles {cycles}/{self.cycles}"
        for name in ("proposals", "seconds", "tokens", "cost"):
            limit = getattr(self, name)
            if limit is not None and spent.get(name, 0) >= limit:
                return f"{name} {spent[name]:g}/{limit:g}"
        return None


def decide(
    regime: Regime,
    proposal: Proposal,
    claim: SelfReport,
    verdict: Verdict | None,
    stop: str | None,
    *,
    scoring: Scoring | None = None,
    best: float | None = None,
) -> Decision:
    """The decision on one proposal. ``verdict`` is the combined external verdict (None when not verified).

    Only ``pass`` is ever accepted by the external and hybrid regimes: ``fail``, ``unknown`` and
    ``error`` are not. ``stop`` names an exhausted budget: what is not accepted is then
    rejected instead of retried. On a scored task (``scoring``) with a ``best`` score so far, a
    proposal is accepted only if its score improves on it: the measured score under the external
    and hybrid regimes, the proposer's claimed score under ``self``.
    """
    accepted, why = _judge(regime, claim, verdict)
    if accepted and scoring is not None and best is not None and regime != "none":
        accepted, why = _improves(regime, claim, verdict, scoring, best)
    if accepted:
        outcome = "accept"
    else:
        outcome = "reject" if stop else "retry"
        why += f"; budget exhausted: {stop}" if stop else ""
    return Decision(proposal_id=proposal.id, outcome=outcome, regime=regime, reason=why[:500])


def _improves(regime: Regime, claim: SelfReport, verdict: Verdict | None, scoring: Scoring, best: float) -> tuple[bool, str]:
    score, whose = (claim.claimed_score, "claimed") if regime == "self" else (verdict.score if verdict else None, "measured")
    if score is None:
        return False, f"regime {regime}: no {whose} score to compare with the best so far ({best:g})"
    if scoring.better(score, best):
        return True, f"regime {regime}: {whose} score {score:g} improves on the best so far ({best:g}, {scoring.goal})"
    return False, f"regime {regime}: {whose} score {score:g} does not improve on the best so far ({best:g}, {scoring.goal})"


def _judge(regime: Regime, claim: SelfReport, verdict: Verdict | None) -> tuple[bool, str]:
    said = f"the proposer claims {claim.claimed} ({claim.confidence:.2f})"
    if regime == "none":
        return True, "regime none: the first proposal is accepted"
    if regime == "self":
        return claim.claimed == "pass", f"regime self: {said}"
    if regime == "hybrid" and claim.claimed != "pass":
        return False, f"regime hybrid: {said}, so it was not verified"
    if verdict is None:
        return False, f"regime {regime}: no external verdict"
    return verdict.passed, f"{verdict.verifier}: {verdict.status}: {verdict.detail}"


def needs_approval(policy: ApprovalPolicy, decision: Decision, claim: SelfReport, verdict: Verdict | None) -> bool:
    """Whether a human must approve ``decision`` before it stands."""
    if decision.outcome != "accept" or policy == "never":
        return False
    if policy == "accept":
        return True
    verified = verdict is not None and verdict.passed
    return (claim.claimed == "pass") != verified


def approval_request(task_id: str, proposal: Proposal, claim: SelfReport, verdict: Verdict | None) -> dict[str, Any]:
    """What a human sees when asked to approve an acceptance."""
    return {
        "task_id": task_id,
        "proposal_id": proposal.id,
        "attempt": proposal.attempt,
        "proposer": proposal.proposer,
        "claim": f"{claim.claimed} ({claim.confidence:.2f})",
        "verdict": f"{verdict.status}: {verdict.detail}" if verdict else "not verified",
        "code": proposal.code,
    }
