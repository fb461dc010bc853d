"""An OpenEvolve evaluator: each evolved program verified by proctor, sandboxed, against a proctor task.

OpenEvolve imports an evaluation file and calls its ``evaluate(program_path)`` (or, for cascades,
``evaluate_stage1/2``); write that file as::

    from proctor.integrations.openevolve import Evaluation
    evaluation = Evaluation("humaneval:HumanEval/2")       # a task reference, a dict, or a Task
    evaluate, evaluate_stage1, evaluate_stage2 = evaluation.evaluate, evaluation.stage1, evaluation.stage2

The program runs only in proctor's sandbox; the checks run outside it. ``combined_score`` is 1.0 when
the default pipeline accepts the program and 0.0 otherwise, with each verifier's pass as a metric.
On a scored task it is the score the task's trusted scorer measured (negated where lower is better:
OpenEvolve maximises it), or the range's worst when no valid score was measured.
Stage 1 is the cheap checks (``hack_scan``, and ``tests`` where the task has tests); stage 2 the whole
pipeline. A program that returns NaN, or anything else its verifiers refuse, scores 0.0 (a scored
task's worst): never a number the program chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from proctor.integrations._judge import Judge, Judged, TaskRef, task_given
from proctor.models import Task
from proctor.sandboxes import Sandbox


class Evaluation:
    """OpenEvolve's evaluation functions for one task (``verifiers``: a cascade instead of the default pipeline)."""

    def __init__(
        self,
        task: TaskRef,
        verifiers: Sequence[str] | None = None,
        ledger: str | Path | None = None,
        *,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.task = _resolve(task)
        known = {self.task.id: self.task}
        self.full = Judge(known, verifiers, ledger, sandbox=sandbox, workers=1, proposer="openevolve")
        cheap = ["hack_scan", *(["tests"] if self.task.tests or self.task.cases else [])]
        self.cheap = Judge(known, cheap, None, sandbox=sandbox, workers=1, proposer="openevolve")

    def evaluate(self, program_path: str) -> dict[str, float]:
        return _metrics(self.task, self.full.judge([(self.task, _read(program_path))])[0])

    def stage1(self, program_path: str) -> dict[str, float]:
        return _metrics(None, self.cheap.judge([(self.task, _read(program_path))])[0])  # a gate: pass or not

    def stage2(self, program_path: str) -> dict[str, float]:
        return self.evaluate(program_path)

    def close(self) -> None:
        self.full.close()
        self.cheap.close()


def _resolve(task: TaskRef) -> Task:
    """The one task ``task`` names: a Task, a dict or JSON of one, or a reference (``humaneval:HumanEval/2``, ``FILE#ID``)."""
    from proctor.tasks import resolve_task

    return task_given(task) or resolve_task(str(task))


def _read(program_path: str) -> str:
    return Path(program_path).read_text(encoding="utf-8")


def _metrics(task: Task | None, judged: Judged) -> dict[str, float]:
    from proctor.verifiers import members_of

    metrics = {"combined_score": _combined(task, judged)}
    metrics.update({v.verifier: 1.0 if v.passed else 0.0 for v in members_of(judged.verdict)})
    return metrics


def _combined(task: Task | None, judged: Judged) -> float:
    scoring, score = task.scoring if task else None, judged.verdict.score
    if scoring is None:
        return 1.0 if judged.verdict.passed else 0.0
    if score is None:
        return scoring.low if scoring.goal == "max" else -scoring.high  # no valid score: the bottom of what OpenEvolve maximises
    return score if scoring.goal == "max" else -score
