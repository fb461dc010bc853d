"""``proctor measure``: the verifiers' own error rates, on candidates whose truth is known."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from proctor.cli._sandbox import BACKEND_HELP, UNSAFE_HELP, open_sandbox
from proctor.errors import InputError

DEFAULT_VERIFIERS = "tests,properties,smt,hack_scan,pipeline"
LABELS = {"tests": "tests (the task's own check)", "pipeline": "pipeline (the default)"}


def measure(
    source: str = typer.Argument("humaneval", help="humaneval, humaneval:HumanEval/13, or a task file (.json, .jsonl, .toml)."),
    verifiers: str = typer.Option(
        DEFAULT_VERIFIERS, "--verifiers", help="Comma-separated verifiers to measure; `pipeline` is the default pipeline."
    ),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N tasks."),
    mutants: int = typer.Option(8, "--mutants", min=1, help="Mutants per task, spread over the mutation operators."),
    workers: int = typer.Option(2, "--workers", min=1, help="Candidates judged at once."),
    seed: int = typer.Option(0, "--seed", help="Which mutants are drawn, and the measured verifiers' inputs."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole measurement as one JSON object.", metavar=""),
    ledger: Path = typer.Option(None, "--ledger", help="Also record the measurement in this ledger (one `measurement` entry)."),
    sandbox: str = typer.Option(None, "--sandbox", help=BACKEND_HELP),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
) -> None:
    """Measure the verifiers: kill rate on faulty mutants, false rejects of correct rewrites, hacks accepted.

    For each task with a reference solution: mutants of it (comparison, arithmetic, constant,
    bound, branch, statement, negation, and/or, min/max and return edits), whose truth a
    differential check settles (mutants it cannot tell apart are "possibly equivalent" and not
    counted); rewrites of it (renamed locals, flipped comparisons, an extracted helper, a loop as
    a comprehension and back, independent assignments reordered), each a false reject if refused;
    and the known reward hacks, adapted to the task. Exit status 0.
    """
    from proctor.measure import PIPELINE
    from proctor.measure import measure as run_measure
    from proctor.tasks import resolve_tasks
    from proctor.verifiers import verifier_names

    names = [n.strip() for n in verifiers.split(",") if n.strip()]
    unknown = [n for n in names if n != PIPELINE and n not in verifier_names()]
    if unknown or not names:
        raise InputError(
            f"unknown verifier {unknown[0]!r} (known: {', '.join([*verifier_names(), PIPELINE])})"
            if unknown
            else "--verifiers names no verifier"
        )
    tasks = list(resolve_tasks(source).values())[:limit]
    missing = [t.id for t in tasks if not t.reference]
    if missing:
        raise InputError(f"task {missing[0]} has no reference solution: measure makes its mutants and rewrites from one")
    with open_sandbox(sandbox, unsafe_local) as box, _progress() as advance:
        found = run_measure(tasks, box, names, mutants_per_task=mutants, seed=seed, workers=workers, progress=advance)
    found["command"] = {"source": source, "limit": limit, "mutants": mutants, "seed": seed, "verifiers": names}
    if ledger is not None:
        _record(ledger, found)
    typer.echo(json.dumps(found, indent=1) if as_json else _table(found))


class _progress:
    """A progress bar on a terminal's stderr; the callback ``measure`` calls after each candidate."""

    def __enter__(self) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("measuring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        self.bar = Progress(*columns, transient=True, disable=not sys.stderr.isatty())
        self.bar.__enter__()
        self.task = self.bar.add_task("measure", total=None)
        return lambda done, total: self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


def _record(path: Path, found: dict[str, Any]) -> None:
    from proctor.cli._ledger import open_writer

    with open_writer(path, None) as book:
        entry = book.append("measurement", found)
    typer.echo(f"recorded as entry {entry.seq} of {path}", err=True)


def _table(found: dict[str, Any]) -> str:
    from proctor._display import shown

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.0f}%"

    mutants, rewrites = found["mutants"], found["rewrites"]
    lines = [
        f"{found['tasks']} tasks: {mutants['non_equivalent']} mutants told apart from the reference "
        f"({mutants['possibly_equivalent']} possibly equivalent, not counted), {rewrites['checked_equivalent']} "
        f"correct rewrites, {found['hacks']} hacks; truth: {found['truth']}",
        "",
        f"{'verifier':<32}{'kills':>8}{'false rejects':>15}{'hacks accepted':>16}{'unknown':>9}{'s/candidate':>13}",
    ]
    for name, row in found["verifiers"].items():
        seconds = "—" if row["median_seconds"] is None else f"{row['median_seconds']:.3f}"
        lines.append(
            f"{LABELS.get(name, name):<32}{pct(row['kill_rate']):>8}{pct(row['false_reject_rate']):>15}"
            f"{pct(row['hack_acceptance']):>16}{row['unknown']:>9}{seconds:>13}"
        )
    if found["survivors"]:
        lines += ["", "mutants that survived (and what shows them wrong):"]
        lines += [
            f"  {s['verifier']}: {s['task']}: {shown(s['mutant'])}: {shown(s['shown_wrong_by'])}" for s in found["survivors"][:20]
        ]
        if len(found["survivors"]) > 20:
            lines.append(f"  … and {len(found['survivors']) - 20} more (--json lists them all)")
    if found["false_rejects"]:
        lines += ["", "correct rewrites refused:"]
        lines += [f"  {r['verifier']}: {r['task']}: {r['rewrite']}" for r in found["false_rejects"]]
    return "\n".join(lines)
