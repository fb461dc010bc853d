"""Task references as the command line writes them: ``humaneval[:ID]``, ``FILE`` or ``FILE#ID``, or a directory
of repository tasks (one task's, or one holding several)."""

from __future__ import annotations

from pathlib import Path

from proctor.errors import InputError
from proctor.models import Task
from proctor.tasks._files import load_task_file
from proctor.tasks._humaneval import humaneval_tasks
from proctor.tasks._repo import as_task, is_repo_task, load_repo_task


def resolve_tasks(reference: str) -> dict[str, Task]:
    """Every task ``reference`` names, by id."""
    source, _, task_id = reference.partition("#") if not reference.startswith("humaneval") else reference.partition(":")
    if Path(source).is_dir():
        tasks = repo_tasks(Path(source))
    else:
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


def repo_tasks(directory: Path) -> dict[str, Task]:
    """The repository tasks in ``directory`` (itself one, or its subdirectories), by id."""
    found = [directory] if is_repo_task(directory) else sorted(d for d in directory.iterdir() if is_repo_task(d))
    if not found:
        raise InputError(f"{directory}: no repository task here (a directory with task.toml, repo/ and tests/)")
    tasks = [as_task(load_repo_task(d)) for d in found]
    return {task.id: task for task in tasks}
