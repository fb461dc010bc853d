"""``run_loop`` (many tasks, resumable, with approvals) and ``gate`` (one verification, one record)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.errors import InputError
from proctor.ledger import Ledger, Recorder
from proctor.loop._graph import (
    SPENT_KEYS,
    Answer,
    VerifierSource,
    build_graph,
    check_answer,
    guarded_verify,
    pipeline_identity,
    run_settings,
)
from proctor.loop._policy import ApprovalPolicy, Budget, Regime, decide
from proctor.loop._proposer import Feedback, Proposer
from proctor.models import Decision, Proposal, SelfReport, Task, Verdict
from proctor.verifiers import Verifier

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

NOT_STARTED = "not started (budget)"
AWAITING = "awaiting approval"


@dataclass(frozen=True)
class PendingApproval:
    """An acceptance paused for a human: answer it with ``run_loop(..., answers={proposal_id: answer})``."""

    run: str
    task_id: str
    proposal_id: str
    request: dict[str, Any]


@dataclass
class RunResult:
    """How a run stands: each task's outcome, the approvals it waits for, what it spent."""

    run: str
    outcomes: dict[str, str] = field(default_factory=dict)
    pending: list[PendingApproval] = field(default_factory=list)
    spent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SPENT_KEYS, 0.0))
    ended: bool = False

    @property
    def accepted(self) -> int:
        return sum(outcome == "accepted" for outcome in self.outcomes.values())

    def summary(self) -> dict[str, Any]:
        return {"tasks": len(self.outcomes), "outcomes": dict(Counter(self.outcomes.values())), "spent": self.spent}


class Loop:
    """A configured loop over a ledger and a checkpoint database; ``run_loop`` is the one-call form.

    Use it as a context manager: it opens the ledger (when given a path) and the LangGraph
    checkpointer, and closes them on exit. ``run`` advances tasks; ``pending`` lists the
    acceptances waiting for a human. ``best`` maps scored tasks' ids to the score to beat.
    """

    def __init__(
        self,
        proposer: Proposer,
        verifier: VerifierSource,
        ledger: Ledger | str | Path,
        *,
        run: str | None = None,
        regime: Regime = "external",
        budget: Budget | None = None,
        approval: ApprovalPolicy = "never",
        shadow: bool = True,
        state: str | Path | None = None,
        config: Mapping[str, Any] | None = None,
        oracle: VerifierSource | None = None,
        best: Mapping[str, float] | None = None,
    ) -> None:
        self.budget = budget or Budget()
        self.oracle, self.best = oracle, dict(best or {})
        self.regime, self.approval, self.shadow = regime, approval, shadow
        self.config = {**run_settings(proposer, regime, self.budget, approval, shadow), **(config or {})}
        self._proposer, self._verifier, self._ledger, self._run, self._state = proposer, verifier, ledger, run, state
        self._stack = ExitStack()

    def __enter__(self) -> Loop:
        ledger = self._ledger
        book = ledger if isinstance(ledger, Ledger) else self._stack.enter_context(Ledger(Path(ledger)))
        self.recorder = Recorder(book, self._run)
        self.checkpointer = self._stack.enter_context(_checkpointer(self._state))
        self.graph = build_graph(
            self._proposer,
            self._verifier,
            self.recorder,
            regime=self.regime,
            budget=self.budget,
            approval=self.approval,
            shadow=self.shadow,
            checkpointer=self.checkpointer,
            oracle=self.oracle,
            best=self.best,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def ended(self) -> bool:
        return self.recorder.recorded("run_end") is not None

    def run(
        self,
        tasks: Iterable[Task],
        answers: Mapping[str, Answer | bool] | None = None,
        on_task: Callable[[str, str], None] | None = None,
    ) -> RunResult:
        """Advance every task as far as it goes; record the run's end once nothing is paused."""
        if self.ended:
            raise InputError(f"run {self.recorder.run} has already ended in {self.recorder.ledger.path}; start a new run instead")
        tasks = list(tasks)
        seeds = {"proposer": getattr(self._proposer, "seed", None)}
        self.recorder.start_on_first_record(self.config, verifiers=pipeline_identity(self._verifier, tasks), seeds=seeds)
        answered = {key: check_answer(value) for key, value in (answers or {}).items()}
        result = RunResult(self.recorder.run)
        for task in tasks:
            outcome = self._advance(task, result, answered)
            result.outcomes[task.id] = outcome
            if on_task is not None:
                on_task(task.id, outcome)
        self.recorder.started()  # a run that paused before recording anything is still a run (approve finds it)
        if not result.pending:
            self.recorder.end(result.summary())
            result.ended = True
        return result

    def pending(self, tasks: Iterable[Task]) -> list[PendingApproval]:
        """The acceptances of this run that wait for a human."""
        found = (_paused(self.graph.get_state(self._thread(task)), self.recorder.run, task.id) for task in tasks)
        return [paused for paused in found if paused is not None]

    def _thread(self, task: Task) -> RunnableConfig:
        return {"configurable": {"thread_id": f"{self.recorder.run}/{task.id}"}}

    def _advance(self, task: Task, result: RunResult, answers: Mapping[str, Answer]) -> str:
        """Take one task's thread as far as it goes now: start, resume, answer an approval, or skip."""
        from langgraph.types import Command

        config = self._thread(task)
        snapshot = self.graph.get_state(config)
        paused = _paused(snapshot, result.run, task.id)
        if not snapshot.values:
            if self.budget.exhausted(result.spent, 0):
                return NOT_STARTED
            start = {"task": task.model_dump(mode="json"), "spent": dict(result.spent)}
            self.graph.invoke(start, config, durability="sync")
        elif paused is not None:
            if paused.proposal_id in answers:
                self.graph.invoke(Command(resume=answers[paused.proposal_id]), config, durability="sync")
        elif snapshot.values.get("outcome") is None:
            # Killed mid-task. Not ``snapshot.next``: a kill after a node's writes were saved but
            # before its step's checkpoint leaves ``next`` empty though the task is not done.
            self.graph.invoke(None, config, durability="sync")
        return _settle(self.graph.get_state(config), result, task.id)


def run_loop(
    tasks: Iterable[Task],
    proposer: Proposer,
    verifier: VerifierSource,
    ledger: Ledger | str | Path,
    *,
    answers: Mapping[str, Answer | bool] | None = None,
    on_task: Callable[[str, str], None] | None = None,
    **options: Any,
) -> RunResult:
    """Run the loop over ``tasks``, one LangGraph thread per task; call again with the same ``run`` to resume.

    Options are ``Loop``'s: ``run`` (an id; new when None), ``regime``, ``budget``,
    ``approval``, ``shadow``, ``state`` (the LangGraph SQLite checkpoint file that makes the
    run resumable; in memory when None), ``config`` (recorded in the run's start), ``oracle``
    (held-out ground truth, recorded beside each cycle and never shown to the loop) and ``best``
    (scored tasks' ids to the score to beat: only an improvement is accepted).
    Everything is recorded in ``ledger`` under the run. Calling again with the same ``run`` and
    ``state`` skips finished tasks, continues interrupted ones where they stopped (nothing is
    recorded twice), and resumes paused approvals that ``answers`` answers (proposal id →
    ``{"approved": bool, "by": name, "note": text}``). The run's end is recorded once no task is
    paused; resuming an ended run is refused. ``on_task(task_id, outcome)`` reports progress.
    """
    with Loop(proposer, verifier, ledger, **options) as loop:
        return loop.run(tasks, answers, on_task)


async def arun_loop(*args: Any, **kwargs: Any) -> RunResult:
    """``run_loop`` without blocking the event loop (it runs in a worker thread)."""
    return await asyncio.to_thread(run_loop, *args, **kwargs)


def _checkpointer(state: str | Path | None) -> AbstractContextManager[Any]:
    if state is None:
        from langgraph.checkpoint.memory import InMemorySaver

        return nullcontext(InMemorySaver())
    return _sqlite_saver(Path(state))


@contextmanager
def _sqlite_saver(path: Path) -> Iterator[Any]:
    """LangGraph's SQLite checkpointer at ``path``, WAL with synchronous NORMAL.

    NORMAL survives the process being killed (only a power cut can lose the latest steps);
    the ledger, not this file, is the durable record (synchronous FULL), and a step re-run
    after a lost checkpoint records nothing twice. It halves the loop's per-cycle overhead.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(str(path)) as saver:
        saver.setup()
        saver.conn.execute("PRAGMA synchronous=NORMAL")
        yield saver


def _settle(snapshot: Any, result: RunResult, task_id: str) -> str:
    result.spent = {key: float(snapshot.values.get("spent", {}).get(key, result.spent[key])) for key in SPENT_KEYS}
    paused = _paused(snapshot, result.run, task_id)
    if paused is not None:
        result.pending.append(paused)
        return AWAITING
    return str(snapshot.values.get("outcome"))


def _paused(snapshot: Any, run: str, task_id: str) -> PendingApproval | None:
    for interrupt in snapshot.interrupts:
        request = dict(interrupt.value)
        return PendingApproval(run, task_id, request["proposal_id"], request)
    return None


# -- gate: for agent systems with their own loop -------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """What ``gate`` decided, the verdict it decided on, and feedback for a retry."""

    decision: Decision
    verdict: Verdict | None
    feedback: Feedback | None

    @property
    def accepted(self) -> bool:
        return self.decision.outcome == "accept"


def gate(
    task: Task,
    proposal: Proposal,
    verifier: Verifier,
    recorder: Recorder,
    *,
    claim: SelfReport | None = None,
    regime: Regime = "external",
    best: float | None = None,
) -> GateResult:
    """One verification, one ledger record, one decision: accept or reject, never retry.

    For agent systems that run their own loop: call it on each proposal before keeping it. The
    task, proposal, claim (if given), verdict and decision are recorded under ``recorder``'s
    run. Without a claim, the ``self`` and ``hybrid`` regimes never accept. On a scored task,
    ``best`` (the best score kept so far) makes only an improvement on it acceptable, as
    optimisation loops keep a program only when it beats the best.
    """
    said = _said(proposal, claim)
    verdict = None if regime == "hybrid" and said.claimed != "pass" else guarded_verify(verifier, task, proposal)
    return settle(task, proposal, verdict, recorder, claim=claim, regime=regime, best=best)


def settle(
    task: Task,
    proposal: Proposal,
    verdict: Verdict | None,
    recorder: Recorder,
    *,
    claim: SelfReport | None = None,
    regime: Regime = "external",
    best: float | None = None,
) -> GateResult:
    """``gate``'s decision and record for a verdict reached elsewhere (verified in parallel, say): one rule for both."""
    decision = decide(regime, proposal, _said(proposal, claim), verdict, None, scoring=task.scoring, best=best)
    if decision.outcome == "retry":
        decision = decision.model_copy(update={"outcome": "reject"})
    recorder.start({"command": "gate", "regime": regime})  # a run already started keeps its own run_start
    recorder.task(task)
    recorder.cycle(proposal, claim, [verdict] if verdict else [], decision)
    feedback = Feedback.from_verdict(verdict, proposal.attempt + 1) if verdict and not verdict.passed else None
    return GateResult(decision, verdict, feedback)


def _said(proposal: Proposal, claim: SelfReport | None) -> SelfReport:
    return claim or SelfReport(proposal_id=proposal.id, claimed="unknown", confidence=0.0, method="assumed", detail="no claim given")


async def agate(*args: Any, **kwargs: Any) -> GateResult:
    """``gate`` without blocking the event loop (verification runs in a worker thread)."""
    return await asyncio.to_thread(gate, *args, **kwargs)
