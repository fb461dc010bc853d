"""verl's reward: ``compute_score(data_source, solution_str, ground_truth, extra_info=None) -> float``.

Point verl's ``custom_reward_function.path`` at this module (``name: compute_score``). The task is
``extra_info["task_id"]`` when given, else ``ground_truth``: a task id (HumanEval by default) or a
proctor task as a dict or JSON text. 1.0 accepted, else 0.0 (verl needs a number); a sandbox that
cannot run raises. ``make_compute_score`` builds one with its own tasks, verifiers or ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from proctor.integrations._judge import Judge

ComputeScore = Callable[..., float]


def make_compute_score(judge: Judge) -> ComputeScore:
    """A ``compute_score`` that judges with ``judge``."""

    def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None) -> float:
        ref = (extra_info or {}).get("task_id") or ground_truth
        (judged,) = judge.judge([(ref, solution_str)])
        return judged.reward or 0.0

    return compute_score


_default: list[ComputeScore] = []
_lock = threading.Lock()


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None) -> float:
    """verl's contract, with a judge of the default pipeline on HumanEval (started on first use)."""
    with _lock:
        if not _default:
            _default.append(make_compute_score(Judge(proposer="verl")))
    return _default[0](data_source, solution_str, ground_truth, extra_info)
