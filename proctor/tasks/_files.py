"""User task files: JSON, JSONL and TOML, in HumanEval's fields or proctor's own.

HumanEval's fields are accepted as they are (``task_id``, ``test``, ``canonical_solution``, whose
prompt + completion becomes the reference); proctor's own are the ``Task`` model's. A JSON file
holds one task, a list of tasks, or ``{"tasks": [...]}``; a TOML file holds ``[[tasks]]`` tables.
Every error names the file, the task and the field.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from proctor.errors import InputError
from proctor.models import Task

HUMANEVAL_FIELDS = {"task_id": "id", "test": "tests"}


def load_task_file(path: str | Path) -> dict[str, Task]:
    """Every task in ``path`` by id; InputError naming the file, task and field on any problem."""
    path = Path(path)
    records = _records(path)
    tasks: dict[str, Task] = {}
    for number, record in enumerate(records, 1):
        task = _task(path, number, record)
        if task.id in tasks:
            raise InputError(f"{path}: task {task.id!r} appears twice (entries {list(tasks).index(task.id) + 1} and {number})")
        tasks[task.id] = task
    if not tasks:
        raise InputError(f"{path}: holds no tasks")
    return tasks


def _records(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such task file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it: {exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return [_json(path, line, f"line {n}") for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if suffix == ".toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML: {exc}") from None
        return _listed(path, document)
    if suffix == ".json":
        return _listed(path, _json(path, text, "the file"))
    raise InputError(f"{path}: unknown task file type {suffix!r} (use .json, .jsonl or .toml)")


def _json(path: Path, text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: {where} is not valid JSON: {exc}") from None


def _listed(path: Path, document: Any) -> list[Any]:
    if isinstance(document, dict) and "tasks" in document:
        document = document["tasks"]
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list):
        return document
    raise InputError(f"{path}: expected a task, a list of tasks or {{'tasks': [...]}} (got {type(document).__name__})")


def _task(path: Path, number: int, record: Any) -> Task:
    if not isinstance(record, dict):
        raise InputError(f"{path}: task #{number}: expected an object with task fields (got {type(record).__name__})")
    fields = {HUMANEVAL_FIELDS.get(k, k): v for k, v in record.items()}
    canonical = fields.pop("canonical_solution", None)
    if canonical is not None and "reference" not in fields:
        fields["reference"] = str(fields.get("prompt", "")) + str(canonical)
    name = repr(fields["id"]) if isinstance(fields.get("id"), str) else f"#{number}"
    try:
        return Task.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(task)"
        raise InputError(f"{path}: task {name}: field {field!r}: {first['msg']}") from None
