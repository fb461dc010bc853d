"""A PrimeIntellect ``verifiers`` rubric function: ``vf.Rubric(funcs=[reward_function()])``.

The rubric passes what a function names: here ``completion`` (text, or messages whose last is the
model's), ``answer`` and ``info``. The task is ``info["task_id"]`` (or ``info["task"]``, a proctor
task as a dict) when given, else ``answer``. 1.0 accepted, else 0.0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from proctor.integrations._judge import Judge, completion_text
from proctor.models import Task
from proctor.sandboxes import Sandbox


def reward_function(
    tasks: Mapping[str, Task] | None = None,
    verifiers: Sequence[str] | None = None,
    ledger: str | Path | None = None,
    *,
    sandbox: Sandbox | None = None,
) -> Callable[..., float]:
    """A rubric function; its ``judge`` (``.judge.close()`` ends the ledger's run and the sandbox)."""
    judge = Judge(tasks, verifiers, ledger, sandbox=sandbox, workers=1, proposer="verifiers")

    def proctor(completion: Any, answer: Any = None, info: Mapping[str, Any] | None = None, **kwargs: Any) -> float:
        ref = (info or {}).get("task_id") or (info or {}).get("task") or answer
        (judged,) = judge.judge([(ref, completion_text(completion))])
        return judged.reward or 0.0

    proctor.judge = judge  # type: ignore[attr-defined]
    return proctor
