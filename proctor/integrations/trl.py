"""A TRL ``GRPOTrainer`` reward function: the completions verified by proctor, 1.0 accepted, 0.0 rejected.

    from proctor.integrations.trl import reward_function
    trainer = GRPOTrainer(model=..., reward_funcs=[reward_function()], train_dataset=dataset)  # a "task_id" column

TRL calls it as ``f(prompts=..., completions=..., completion_ids=..., **columns)`` with every dataset
column (and ``trainer_state``) as keyword lists; completions are strings, or conversations whose last
message is the model's. ``None`` (TRL skips it) where the verifiers could not say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from proctor.errors import InputError
from proctor.integrations._judge import Judge, completion_text
from proctor.models import Task
from proctor.sandboxes import Sandbox

RewardFunction = Callable[..., list[float | None]]


def reward_function(
    tasks: Mapping[str, Task] | None = None,
    verifiers: Sequence[str] | None = None,
    ledger: str | Path | None = None,
    *,
    sandbox: Sandbox | None = None,
    workers: int = 4,
    task_column: str = "task_id",
    ray: str | None = None,
) -> RewardFunction:
    """A reward function for TRL; its ``judge`` (``.judge.close()`` ends the ledger's run and the sandbox).

    ``ray``: a Ray cluster's address to verify each batch on (each completion a Ray task, in its worker's sandbox).
    """
    judge = Judge(tasks, verifiers, ledger, sandbox=sandbox, workers=workers, proposer="trl", ray=ray)

    def proctor(prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **columns: Any) -> list[float | None]:
        refs = columns.get(task_column)
        if refs is None:
            raise InputError(f"proctor's reward needs the dataset column {task_column!r} (the task of each prompt)")
        if len(refs) != len(completions):
            raise InputError(f"{len(completions)} completions but {len(refs)} values of {task_column!r}")
        return [j.reward for j in judge.judge([(ref, completion_text(c)) for ref, c in zip(refs, completions, strict=True)])]

    proctor.judge = judge  # type: ignore[attr-defined]
    return proctor
