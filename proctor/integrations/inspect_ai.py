"""An inspect_ai scorer: the model's code verified by proctor's external verifiers.

    from proctor.integrations.inspect_ai import proctor_scorer
    Task(dataset=[Sample(input=..., metadata={"task_id": "HumanEval/2"})], solver=generate(), scorer=proctor_scorer())

The sample's task is its metadata's ``task`` (a proctor task as a dict) or ``task_id`` (HumanEval by
default, or ``tasks``). The score is CORRECT when the pipeline accepts, INCORRECT when it rejects, and
unscored (left out of the metrics) when the verifiers could not say; its explanation is the verdict's
detail, its metadata every verifier's verdict and, with a ledger, the proposal recorded there. The
scorer is registered through the ``inspect_ai`` entry point as ``proctor/proctor_scorer``.
"""

from __future__ import annotations

import asyncio
import atexit
from collections.abc import Mapping, Sequence
from pathlib import Path

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from proctor.integrations._judge import Judge
from proctor.models import Task
from proctor.sandboxes import Sandbox


@scorer(metrics=[accuracy(), stderr()])
def proctor_scorer(
    verifiers: Sequence[str] | None = None,
    sandbox: Sandbox | None = None,
    ledger: str | Path | None = None,
    tasks: Mapping[str, Task] | None = None,
) -> Scorer:
    """Score each sample by proctor's verifiers (default: the task's default pipeline)."""
    judge = Judge(tasks, verifiers, ledger, sandbox=sandbox, workers=1, proposer="inspect_ai")
    atexit.register(judge.close)  # the ledger's run ends, the sandbox stops, when the eval's process does

    async def score(state: TaskState, target: Target) -> Score:
        from proctor.verifiers import members_of

        ref = state.metadata.get("task") or state.metadata.get("task_id")
        if ref is None:
            why = "the sample names no proctor task (metadata 'task_id' or 'task')"
            return Score.unscored(reason="scoring_failed", explanation=why)
        (judged,) = await asyncio.to_thread(judge.judge, [(ref, state.output.completion)])
        verdict = judged.verdict
        metadata = {
            "status": verdict.status,
            "decided_by": verdict.evidence.get("decided_by"),
            "verdicts": [{"verifier": v.verifier, "status": v.status, "detail": v.detail} for v in members_of(verdict) or [verdict]],
            "proposal_id": judged.proposal.id if ledger is not None else None,
        }
        if verdict.status not in ("pass", "fail"):
            return Score.unscored(reason="scoring_failed", answer=judged.proposal.code, explanation=verdict.detail, metadata=metadata)
        value = CORRECT if verdict.passed else INCORRECT
        return Score(value=value, answer=judged.proposal.code, explanation=verdict.detail, metadata=metadata)

    score.judge = judge  # type: ignore[attr-defined]  # judge.close() ends the ledger's run now rather than at exit
    return score
