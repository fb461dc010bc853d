"""Task references as the command line writes them: ``humaneval[:ID]``, ``FILE`` or ``FILE#ID``."""

from __future__ import annotations

from proctor.errors import InputError
from proctor.models import Task
from proctor.tasks._files import load_task_file
from proctor.tasks._humaneval import humaneval_tasks


def resolve_tasks(reference: str) -> dict[str, Task]:
    """Every task ``reference`` names, by id."""
    source, _, task_id = reference.partition("#") if not reference.startswith("humaneval") else reference.partition(":")
    tasks = humaneval_tasks() if source == "humaneval" else load_task_file(source)
    if not task_id:
        return tasks
    if task_id not in tasks:
        near = ", ".join(list(tasks)[:5])
        raise InputError(f"{source}: no task {task_id!r} (it holds {len(tasks)} tasks, e.g. {near})")
    return {task_id: tasks[task_id]}


def resolve_task(reference: str) -> Task:
    """The one task ``reference`` names; a file with several tasks needs ``FILE#TASK_ID``."""
    tasks = resolve_tasks(reference)
    if len(tasks) != 1:
        raise InputError(f"{reference}: holds {len(tasks)} tasks; name one as {reference}#TASK_ID (or humaneval:HumanEval/N)")
    return next(iter(tasks.values()))
