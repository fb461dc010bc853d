"""``proctor tasks``: make tasks for the verifiers from what a user already has."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from proctor._display import shown
from proctor.cli._sandbox import BACKEND_HELP, UNSAFE_HELP, open_sandbox

tasks_app = typer.Typer(
    help="Make repository tasks: from a local repository's own tests, or from SWE-bench instances.", no_args_is_help=True
)


@tasks_app.command("synthesize")
def synthesize(
    repository: Path = typer.Argument(..., help="A local Python repository with a tests/ directory of pytest tests."),
    out: Path = typer.Option(..., "-o", "--out", help="Write one task directory per fault here (must not hold them already)."),
    test_command: str = typer.Option("python -m pytest -q", "--test-command", help="How the repository runs its tests (pytest)."),
    limit: int = typer.Option(10, "--limit", min=1, help="At most this many tasks."),
    sandbox: str = typer.Option(None, "--sandbox", help=BACKEND_HELP),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
) -> None:
    """Make repository tasks by injecting faults the repository's tests catch (as SWE-smith does).

    Each library file's AST mutants (one small edit each: a flipped comparison, an off-by-one, a
    deleted statement, ...) replace it in a copy of the repository, and its tests run in the
    sandbox. A mutant that breaks tests which passed before becomes a task: the mutant is the
    task's base, the broken tests its fail-to-pass ids, the rest its pass-to-pass ids, the
    repository's tests the verifier's own, and the diff back to the original its reference fix
    (reference.diff). Verify a patch against one with `proctor verify TASK_DIR PATCH.diff`.
    """
    from proctor.measure import synthesize as make

    with open_sandbox(sandbox, unsafe_local) as box:
        made = make(
            repository, out, box, test_command=shlex.split(test_command), limit=limit, progress=lambda line: typer.echo(line, err=True)
        )
    for task in made:
        typer.echo(f"{task.directory}  fail_to_pass: {shown(', '.join(task.fail_to_pass))}")
    typer.echo(f"{len(made)} task(s) in {out}" if made else f"no fault in {repository} broke a passing test: no task written")


@tasks_app.command("swebench")
def swebench(
    instances: Path = typer.Argument(..., help="SWE-bench instances: JSON (a list or one) or JSON Lines, with SWE-bench's fields."),
    repos: Path = typer.Option(..., "--repos", help="Where the repositories are cloned: REPOS/owner__name (or owner/name, name)."),
    out: Path = typer.Option(..., "-o", "--out", help="Write one task directory per instance here."),
    sandbox: str = typer.Option(None, "--sandbox", help=BACKEND_HELP),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
) -> None:
    """Make repository tasks from SWE-bench instances whose repository is cloned locally.

    Each instance's tree at its base_commit (read from the clone; nothing runs git on the host)
    is the task's base; the files its test_patch touches, once applied in the sandbox, are the
    verifier's tests (protected); its patch is the reference fix; FAIL_TO_PASS and PASS_TO_PASS are
    the ids (pytest ids only). Then `proctor verify --samples preds.jsonl --tasks OUT` verifies
    SWE-bench predictions against them.
    """
    from proctor.measure import tasks_from_instances

    with open_sandbox(sandbox, unsafe_local) as box:
        written = tasks_from_instances(instances, repos, out, box, progress=lambda line: typer.echo(line, err=True))
    typer.echo(f"{len(written)} task(s) in {out}")
