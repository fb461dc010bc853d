"""What every integration shares: a task for each output, verification in parallel, the ledger."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proctor.errors import InputError
from proctor.models import Proposal, Task, Verdict
from proctor.sandboxes import Sandbox

TaskRef = str | Mapping[str, Any] | Task
"""A task: its id (in the judge's tasks, HumanEval by default), a proctor task as a dict or JSON text, or a Task."""


@dataclass(frozen=True)
class Judged:
    """One output judged: the proposal made of it, the pipeline's verdict, and its reward."""

    proposal: Proposal
    verdict: Verdict

    @property
    def reward(self) -> float | None:
        """1.0 accepted, 0.0 rejected, None when the verifiers could not say (``unknown`` or ``error``)."""
        return {"pass": 1.0, "fail": 0.0}.get(self.verdict.status)


class Judge:
    """Verifies model outputs against proctor tasks for a trainer or an eval harness, and records them.

    Args:
        tasks: tasks by id (default: the 164 HumanEval tasks, loaded on first use).
        verifiers: verifier names for a cascade (default: each task's default pipeline).
        ledger: a ledger file to record every verification in, as one run of this judge.
        sandbox: where candidates run (default: ``get_sandbox()``, started on first use; ``close`` ends it).
        workers: verifications at once.
        proposer: the name proposals are recorded under.
        ray: a Ray cluster's address (or ``auto``, ``local``) to verify on instead of this machine's threads.
    """

    def __init__(
        self,
        tasks: Mapping[str, Task] | None = None,
        verifiers: Sequence[str] | None = None,
        ledger: str | Path | None = None,
        *,
        sandbox: Sandbox | None = None,
        workers: int = 4,
        proposer: str = "model",
        ray: str | None = None,
    ) -> None:
        self._tasks, self.verifiers, self.workers, self.proposer = tasks, list(verifiers or []), max(1, workers), proposer
        self._ledger_path, self._sandbox, self._owns_sandbox = ledger, sandbox, sandbox is None
        self._recorder: Any = None
        self._lock = threading.Lock()
        self.ray, self._stack = ray, contextlib.ExitStack()
        self._submit: Any = None

    def task(self, ref: TaskRef) -> Task:
        """The task ``ref`` names; InputError, naming it, when there is none."""
        given = task_given(ref)
        if given is not None:
            return given
        name, tasks = str(ref), self._known_tasks()
        if name not in tasks:
            raise InputError(f"unknown task {name[:80]!r}: give a task id the judge knows, or the task itself as a dict")
        return tasks[name]

    def judge(self, items: Sequence[tuple[TaskRef, str]]) -> list[Judged]:
        """Verify each (task, model output) pair, ``workers`` at a time; record each when there is a ledger."""
        from proctor.loop._chat import extract_code

        tasks = [self.task(ref) for ref, _ in items]
        proposals = [
            Proposal(task_id=task.id, code=extract_code(text, task), proposer=self.proposer, metadata={"output": text})
            for task, (_, text) in zip(tasks, items, strict=True)
        ]
        if self.ray is not None:  # each verification a Ray task, in its worker's own sandbox
            submit = self._ray_submit()
            futures = [submit((task, proposal, self.verifiers or None, None)) for task, proposal in zip(tasks, proposals, strict=True)]
            verdicts = [future.result() for future in futures]
        else:
            box = self.sandbox()
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="proctor-judge") as pool:
                pairs = zip(tasks, proposals, strict=True)
                verdicts = list(pool.map(lambda pair: self._pipeline(pair[0], box).verify(*pair), pairs))
        self._record(tasks, proposals, verdicts)
        return [Judged(p, v) for p, v in zip(proposals, verdicts, strict=True)]

    def _ray_submit(self) -> Any:
        """The cluster's submit function, connected on first use and kept until ``close``."""
        with self._lock:
            if self._submit is None:
                from proctor._cluster import ray_submit
                from proctor.verifiers._batch import verify_on_worker

                self._submit = self._stack.enter_context(ray_submit(self.ray or "", verify_on_worker))
            return self._submit

    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                from proctor.sandboxes import get_sandbox

                self._sandbox = get_sandbox()
            return self._sandbox

    def close(self) -> None:
        """End the ledger's run and the sandbox this judge started."""
        with self._lock:
            if self._recorder is not None:
                self._recorder.end({"command": "judge"})
                self._recorder.ledger.close()
                self._recorder = None
            self._stack.close()  # the Ray connection, if there was one
            self._submit = None
            if self._owns_sandbox and self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _known_tasks(self) -> Mapping[str, Task]:
        if self._tasks is None:
            from proctor.tasks import humaneval_tasks

            self._tasks = humaneval_tasks()
        return self._tasks

    def _pipeline(self, task: Task, box: Sandbox) -> Any:
        from proctor.verifiers import default_pipeline, named_pipeline

        return named_pipeline(self.verifiers, box) if self.verifiers else default_pipeline(task, box)

    def _record(self, tasks: list[Task], proposals: list[Proposal], verdicts: list[Verdict]) -> None:
        if self._ledger_path is None:
            return
        from proctor.loop import settle

        with self._lock:
            recorder = self._recorder or self._start_recording()
            for task, proposal, verdict in zip(tasks, proposals, verdicts, strict=True):
                settle(task, proposal, verdict, recorder)  # the decision rule of gate() and the loop

    def _start_recording(self) -> Any:
        from proctor.ledger import Ledger, Recorder

        self._recorder = Recorder(Ledger(Path(self._ledger_path or "")))
        config = {"command": "judge", "verifiers": self.verifiers or "default pipeline", "proposer": self.proposer}
        self._recorder.start(config, seeds={"properties": "secret per verification (each verdict records its own)"})
        return self._recorder


def task_given(ref: TaskRef) -> Task | None:
    """The task ``ref`` holds itself (a Task, or one as a dict or JSON text), or None for a task id to look up."""
    if isinstance(ref, Task):
        return ref
    if isinstance(ref, Mapping) or (isinstance(ref, str) and ref.lstrip().startswith("{")):
        try:
            return Task.model_validate(ref) if isinstance(ref, Mapping) else Task.model_validate_json(ref)
        except ValueError as exc:
            raise InputError(f"not a proctor task: {str(exc).splitlines()[0]}") from None
    return None


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the last message's ``content`` of a conversation."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], Mapping):
        return str(completion[-1].get("content") or "")
    if isinstance(completion, Mapping):
        return str(completion.get("content") or "")
    raise InputError(f"a completion proctor cannot read: {json.dumps(completion, default=str)[:80]}")
