"""The LangGraph state machine: propose → self_check → verify → decide → (approve) → record.

State values are plain JSON (models are dumped at node boundaries), so any LangGraph
checkpointer stores them without a custom serializer. Every node is safe to re-run: the
ledger's event ids are derived from the run and the proposal, so a node that re-runs after a
crash (or after an approval, which re-executes the approving node) records nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from proctor.errors import InputError, UnavailableError
from proctor.ledger import Recorder
from proctor.loop._policy import ApprovalPolicy, Budget, Regime, approval_request, decide, needs_approval
from proctor.loop._proposer import Feedback, Proposer
from proctor.models import Decision, Proposal, SelfReport, Task, Verdict
from proctor.verifiers import Verifier

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph

VerifierSource = Verifier | Callable[[Task], Verifier]
SPENT_KEYS = ("proposals", "seconds", "tokens", "cost")


class LoopState(TypedDict, total=False):
    """One task's loop. Input: ``task`` (and ``spent``, the run's totals so far). Output: ``outcome``.

    ``outcome`` is ``accepted`` or ``rejected`` once the task is done, None while it goes on.
    ``proposal``, ``claim``, ``verdict`` (the combined external verdict), ``decision`` and
    ``feedback`` describe the latest cycle; ``cycles`` counts this task's cycles; ``spent``
    holds the run's running totals that budgets are checked against.
    """

    task: dict[str, Any]
    spent: dict[str, float]
    cycles: int
    started: float
    proposal: dict[str, Any] | None
    claim: dict[str, Any] | None
    verdict: dict[str, Any] | None
    decision: dict[str, Any] | None
    stop: str | None
    feedback: dict[str, Any] | None
    approval: dict[str, Any] | None
    outcome: str | None


class Answer(TypedDict, total=False):
    """A human's answer to an approval request (the value to resume an interrupt with)."""

    approved: bool
    by: str
    note: str
    warnings: list[str]  # what the approver was warned of (e.g. bidi characters in the code), recorded with the answer


def run_settings(proposer: Proposer, regime: Regime, budget: Budget, approval: ApprovalPolicy, shadow: bool) -> dict[str, Any]:
    """How a loop is configured, as its run's start records it."""
    return {"proposer": proposer.name, "regime": regime, "budget": budget.model_dump(), "approval": approval, "shadow": shadow}


class _Nodes:
    """The graph's nodes, bound to one proposer, verifier, ledger recorder and policy."""

    def __init__(
        self,
        proposer: Proposer,
        verifier: VerifierSource,
        recorder: Recorder,
        regime: Regime,
        budget: Budget,
        approval: ApprovalPolicy,
        shadow: bool,
        oracle: VerifierSource | None = None,
        best: Mapping[str, float] | None = None,
    ) -> None:
        self.proposer, self.verifier, self.recorder, self.oracle = proposer, verifier, recorder, oracle
        self.best = dict(best or {})
        self.regime, self.budget, self.approval, self.shadow = regime, budget, approval, shadow
        self.run_config = run_settings(proposer, regime, budget, approval, shadow)

    # -- nodes --------------------------------------------------------------------------------

    def propose(self, state: LoopState) -> dict[str, Any]:
        task = Task.model_validate(state["task"])
        feedback = Feedback.model_validate(state["feedback"]) if state.get("feedback") else None
        started = time.time()
        proposal = self.proposer.propose(task, feedback)
        if proposal.task_id != task.id:
            raise InputError(f"proposer {self.proposer.name!r} answered task {proposal.task_id!r} when asked for {task.id!r}")
        if self.recorder.recorded(f"proposal:{proposal.id}") is not None:  # its records would be taken for retries and dropped
            raise InputError(f"proposer {self.proposer.name!r} reused proposal id {proposal.id!r}; each proposal needs a new id")
        return {"proposal": proposal.model_dump(mode="json"), "started": started, "claim": None, "verdict": None, "approval": None}

    def self_check(self, state: LoopState) -> dict[str, Any]:
        task, proposal = _task(state), _proposal(state)
        try:
            claim = self.proposer.self_check(task, proposal)
        except UnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001  (a broken self-check is an unknown claim, recorded as such)
            detail = f"the self-check raised {type(exc).__name__}: {exc}"[:500]
            claim = SelfReport(proposal_id=proposal.id, claimed="unknown", confidence=0.0, detail=detail)
        return {"claim": claim.model_copy(update={"proposal_id": proposal.id}).model_dump(mode="json")}

    def verify(self, state: LoopState) -> dict[str, Any]:
        claim = _claim(state)
        if self.regime == "hybrid" and claim.claimed != "pass":
            return {"verdict": None}
        if self.regime in ("self", "none") and not self.shadow:
            return {"verdict": None}
        task, proposal = _task(state), _proposal(state)
        return {"verdict": guarded_verify(_resolve(self.verifier, task), task, proposal).model_dump(mode="json")}

    def decide(self, state: LoopState) -> dict[str, Any]:
        proposal, claim, verdict = _proposal(state), _claim(state), _verdict(state)
        spent = _spend(state, proposal)
        cycles = state.get("cycles", 0) + 1
        stop = self.budget.exhausted(spent, cycles)
        task = _task(state)
        decision = decide(self.regime, proposal, claim, verdict, stop, scoring=task.scoring, best=self.best.get(task.id))
        return {
            "decision": decision.model_dump(mode="json"),
            "spent": spent,
            "cycles": cycles,
            "stop": stop,
            "feedback": self._feedback(decision, claim, verdict, proposal.attempt + 1),
        }

    def approve(self, state: LoopState) -> dict[str, Any]:
        from langgraph.types import interrupt

        task, proposal, claim, verdict = _task(state), _proposal(state), _claim(state), _verdict(state)
        answer = check_answer(interrupt(approval_request(task.id, proposal, claim, verdict)))
        approval = {
            "approved": answer["approved"],
            "by": answer["by"],
            "note": answer.get("note", ""),
            "warnings": answer.get("warnings", []),
        }
        if answer["approved"]:
            return {"approval": approval}
        stop = state.get("stop")
        reason = f"refused by {answer['by']}" + (f": {answer['note']}" if answer.get("note") else "")
        outcome = "reject" if stop else "retry"
        decision = Decision(proposal_id=proposal.id, outcome=outcome, regime=self.regime, reason=reason[:500])
        feedback = Feedback(attempt=proposal.attempt + 1, source="reviewer", status="refused", detail=reason)
        return {"approval": approval, "decision": decision.model_dump(mode="json"), "feedback": feedback.model_dump(mode="json")}

    def record(self, state: LoopState) -> dict[str, Any]:
        task, proposal, decision = _task(state), _proposal(state), Decision.model_validate(state["decision"])
        if state.get("cycles") == 1:  # a graph used on its own (not through run_loop) starts its run here
            self.recorder.start(self.run_config)
            self.recorder.task(task)
        verdict = _verdict(state)
        oracle = [guarded_verify(_resolve(self.oracle, task), task, proposal)] if self.oracle is not None else []
        self.recorder.cycle(proposal, _claim(state), [verdict] if verdict else [], decision, oracle=oracle)
        if approval := state.get("approval"):
            self.recorder.approval(
                proposal.id,
                approved=approval["approved"],
                by=approval["by"],
                note=approval["note"],
                warnings=approval.get("warnings", []),
            )
        outcome = {"accept": "accepted", "reject": "rejected"}.get(decision.outcome)
        return {"outcome": outcome}

    # -- routing ------------------------------------------------------------------------------

    def after_decide(self, state: LoopState) -> str:
        decision = Decision.model_validate(state["decision"])
        return "approve" if needs_approval(self.approval, decision, _claim(state), _verdict(state)) else "record"

    @staticmethod
    def after_record(state: LoopState) -> str:
        return "propose" if state.get("outcome") is None else "__end__"

    def _feedback(self, decision: Decision, claim: SelfReport, verdict: Verdict | None, attempt: int) -> dict[str, Any] | None:
        if decision.outcome != "retry":
            return None
        if verdict is not None and self.regime in ("external", "hybrid"):
            return Feedback.from_verdict(verdict, attempt).model_dump(mode="json")
        return Feedback.from_claim(claim, attempt).model_dump(mode="json")


def _resolve(source: VerifierSource, task: Task) -> Verifier:
    return source if isinstance(source, Verifier) else source(task)


def pipeline_identity(source: VerifierSource, tasks: list[Task]) -> list[dict[str, str]]:
    """Every verifier that will judge these tasks (a composite's members too), by id and version: what
    ``run_start`` records, so a ledger says exactly what judged before any verdict is in it."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for task in tasks:
        verifier = _resolve(source, task)
        for judge in [verifier, *getattr(verifier, "members", [])]:
            found.setdefault((judge.id, judge.version), {"id": judge.id, "version": judge.version})
    return list(found.values())


def guarded_verify(verifier: Verifier, task: Task, proposal: Proposal) -> Verdict:
    """``verifier``'s verdict; a verifier that raises gives ``error``, which is never accepted.

    ``UnavailableError`` (the sandbox is gone) is not the candidate's verdict and goes up: the run
    stops there, records nothing for the proposal, and resumes from the same step.
    """
    try:
        return verifier.verify(task, proposal)
    except UnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001  (broken machinery is recorded as error, never as a pass)
        return Verdict(
            verifier=getattr(verifier, "id", type(verifier).__name__),
            version=getattr(verifier, "version", "?"),
            status="error",
            detail=f"the verifier raised {type(exc).__name__}: {exc}"[:500],
            proposal_id=proposal.id,
        )


def check_answer(answer: Any) -> Answer:
    """An approval answer, validated: ``{"approved": bool, "by": str, "note": str, "warnings": [str]}``."""
    if isinstance(answer, bool):
        return {"approved": answer, "by": "unknown", "note": "", "warnings": []}
    if not isinstance(answer, Mapping) or not isinstance(answer.get("approved"), bool):
        raise InputError(f"an approval answer must be {{'approved': true|false, 'by': NAME}} (got {answer!r})")
    warnings = [str(w) for w in answer.get("warnings") or []]
    return {
        "approved": answer["approved"],
        "by": str(answer.get("by") or "unknown"),
        "note": str(answer.get("note") or ""),
        "warnings": warnings,
    }


def _spend(state: LoopState, proposal: Proposal) -> dict[str, float]:
    spent = {key: float(state.get("spent", {}).get(key, 0)) for key in SPENT_KEYS}
    spent["proposals"] += 1
    spent["seconds"] += max(0.0, time.time() - state.get("started", time.time()))
    spent["tokens"] += float(proposal.metadata.get("tokens", 0) or 0)
    spent["cost"] += float(proposal.metadata.get("cost", 0) or 0)
    return spent


def _task(state: LoopState) -> Task:
    return Task.model_validate(state["task"])


def _proposal(state: LoopState) -> Proposal:
    return Proposal.model_validate(state["proposal"])


def _claim(state: LoopState) -> SelfReport:
    return SelfReport.model_validate(state["claim"])


def _verdict(state: LoopState) -> Verdict | None:
    return Verdict.model_validate(state["verdict"]) if state.get("verdict") else None


def build_graph(
    proposer: Proposer,
    verifier: VerifierSource,
    recorder: Recorder,
    *,
    regime: Regime = "external",
    budget: Budget | None = None,
    approval: ApprovalPolicy = "never",
    shadow: bool = True,
    checkpointer: Any = None,
    oracle: VerifierSource | None = None,
    best: Mapping[str, float] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The loop for one task as a compiled LangGraph graph; add it as a node of your own graph.

    Invoke it with ``{"task": task.model_dump(mode="json")}``; it returns ``LoopState`` with
    ``outcome`` (``accepted`` or ``rejected``) and the last ``proposal``, ``claim``, ``verdict``
    and ``decision``. ``verifier`` is a Verifier or a function from a task to one (e.g.
    ``lambda t: default_pipeline(t, sandbox)``). Every cycle is recorded through ``recorder``.
    With ``shadow`` (the default), the ``self`` and ``none`` regimes still run the verifiers
    and record their verdicts, which then do not decide. An approval policy other than
    ``never`` needs a ``checkpointer``: the graph pauses with ``interrupt`` and is resumed with
    ``Command(resume={"approved": ..., "by": ...})``. An ``oracle`` (scenarios' held-out ground
    truth) judges each proposal in the record node; its verdict goes to the ledger as an
    ``oracle_verdict`` and never into the graph's state, so nothing the loop decides can see it.
    ``best`` maps a scored task's id to the score to beat: only an improvement on it is accepted.
    """
    from langgraph.graph import END, START, StateGraph

    if approval != "never" and checkpointer is None:
        raise InputError(f"approval policy {approval!r} pauses the graph, which needs a checkpointer to resume from")
    nodes = _Nodes(proposer, verifier, recorder, regime, budget or Budget(), approval, shadow, oracle, best)
    graph = StateGraph(LoopState)
    for name in ("propose", "self_check", "verify", "decide", "approve", "record"):
        graph.add_node(name, getattr(nodes, name))
    graph.add_edge(START, "propose")
    graph.add_edge("propose", "self_check")
    graph.add_edge("self_check", "verify")
    graph.add_edge("verify", "decide")
    graph.add_conditional_edges("decide", nodes.after_decide, ["approve", "record"])
    graph.add_edge("approve", "record")
    graph.add_conditional_edges("record", nodes.after_record, {"propose": "propose", "__end__": END})
    return graph.compile(checkpointer=checkpointer, name="proctor-loop")
