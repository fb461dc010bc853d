"""``proctor scenarios list|show|run`` and ``proctor report``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from proctor._display import shown
from proctor.cli._sandbox import BACKEND_HELP, UNSAFE_HELP
from proctor.errors import IntegrityError

if TYPE_CHECKING:
    from proctor.scenarios import Cell, Suite

scenarios_app = typer.Typer(
    help="Scenario suites: how results degrade when self-verification replaces external verification.", no_args_is_help=True
)
SUITE_HELP = "A shipped suite's name (see `proctor scenarios list`) or a suite .toml file."


@scenarios_app.command("list")
def list_suites() -> None:
    """List the shipped suites, with their size (runs) full and --quick."""
    from proctor.scenarios import load_suite, suite_names

    for name in suite_names():
        suite = load_suite(name)
        full, quick = suite.plan(), suite.plan(quick=True)
        first = suite.description.strip().split("\n")[0]
        typer.echo(f"{shown(name):<18} {full.size():>4} runs ({quick.size()} quick)  {shown(first)}")


@scenarios_app.command("show")
def show(suite: str = typer.Argument(..., help=SUITE_HELP, show_default=False)) -> None:
    """Print a suite: what it measures, its tasks, profiles, regimes, seeds, rounds and verifiers."""
    from proctor.scenarios import load_suite

    found = load_suite(suite)
    typer.echo(f"{shown(found.name)}\n\n{shown(found.description.strip(), block=True)}\n")
    sources = shown(", ".join(found.task_sources))
    for quick in (False, True):
        plan = found.plan(quick)
        typer.echo(
            f"{'quick' if quick else 'full '}: {len(plan.tasks)} tasks from {sources}, {len(plan.profiles)} profile(s), "
            f"regimes {', '.join(found.regimes)}, seeds {list(plan.seeds)}, {plan.rounds} round(s), {plan.cycles} cycle(s) per task: "
            f"{plan.size()} runs"
        )
    typer.echo(f"loop verifiers: {', '.join(found.verifiers) if found.verifiers else 'the default pipeline'}")
    typer.echo(f"held-out oracle: {', '.join(found.oracle)}")
    if found.workers is not None:
        typer.echo(f"workers: at most {found.workers} unless --workers says otherwise")
    for profile in found.profiles:
        what = profile.proposer or ", ".join(f"{k}={v}" for k, v in (profile.model_extra or {}).items())
        typer.echo(f"  profile {shown(profile.name)}: {shown(what)}")


@scenarios_app.command("run")
def run(
    suite: str = typer.Argument(..., help=SUITE_HELP, show_default=False),
    ledger: Path = typer.Option(None, "--ledger", help="Record every run here (default: SUITE.ledger, or SUITE.quick.ledger)."),
    workers: int = typer.Option(
        None, "--workers", min=1, help="Worker processes (default: one per CPU, at most the suite's workers; 1 runs here)."
    ),
    quick: bool = typer.Option(False, "--quick", help="The suite's quick variant: fewer tasks, seeds or rounds.", metavar=""),
    ray: str = typer.Option(
        None, "--ray", help="Run on Ray: a cluster ADDRESS, auto (the running cluster) or local (start one here)."
    ),
    report: Path = typer.Option(None, "--report", help="Write the report into this directory when the suite is done."),
    sandbox: str = typer.Option(None, "--sandbox", help=BACKEND_HELP),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
    as_json: bool = typer.Option(False, "--json", help="Print the suite's metrics as one JSON object.", metavar=""),
    measure_verifiers: bool = typer.Option(
        False,
        "--measure-verifiers",
        help="Also measure the verifiers on mutants, rewrites and hacks of the suite's tasks (as `proctor measure`); "
        "the report shows their kill and false-reject rates.",
        metavar="",
    ),
) -> None:
    """Run a suite (every profile × regime × seed × round) into a ledger, then summarise it.

    Each run lands in the ledger whole, so an interrupted suite continues where it stopped when
    the same command is run again; the runs a ledger holds are skipped. Results depend only on
    the suite and its seeds, not on the number of workers or on Ray.
    """
    from proctor.errors import InputError
    from proctor.scenarios import load_suite

    if sandbox == "local" and not unsafe_local:
        raise InputError("the 'local' backend does not isolate; pass --unsafe-local to use it anyway")
    found = load_suite(suite)
    plan = found.plan(quick)
    path = ledger or Path(f"{plan.prefix}.ledger")
    typer.echo(
        f"suite {found.name}{' (quick)' if quick else ''}: {plan.size()} runs of {len(plan.tasks)} tasks; ledger {path}", err=True
    )
    try:
        result = _with_progress(found, quick, path, workers, ray, sandbox, unsafe_local)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; finished runs are in {path}. Run the same command again to continue.", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"{len(result.executed)} run(s) done now, {len(result.skipped)} already in the ledger", err=True)
    if measure_verifiers:
        _measure_verifiers(plan.tasks, path, sandbox, unsafe_local)
    _summarise(path, report, as_json)


def _measure_verifiers(tasks: Any, path: Path, sandbox: str | None, unsafe: bool) -> None:
    """Record one `measurement` of the verifiers on the suite's tasks, unless the ledger holds one already."""
    from proctor.cli._measure import DEFAULT_VERIFIERS
    from proctor.cli._sandbox import open_sandbox
    from proctor.ledger import Ledger
    from proctor.measure import measure

    with Ledger(path) as book:
        if next(book.entries(kinds=["measurement"]), None) is not None:
            return
    typer.echo("measuring the verifiers on the suite's tasks", err=True)
    with open_sandbox(sandbox, unsafe) as box:
        found = measure([t for t in tasks if t.reference], box, DEFAULT_VERIFIERS.split(","), mutants_per_task=4)
    with Ledger(path) as book:
        book.append("measurement", found)


def _with_progress(
    suite: Suite, quick: bool, path: Path, workers: int | None, ray: str | None, sandbox: str | None, unsafe: bool
) -> Any:
    from rich.markup import escape as markup_escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from proctor.scenarios import run_suite

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        total = suite.plan(quick).size()
        progress = bar.add_task(markup_escape(shown(suite.name)), total=total)

        def finished(cell: Cell, events: list[Any]) -> None:
            where = f"{shown(cell.profile)} · {shown(cell.regime)} · seed {cell.seed} · round {cell.round}"
            bar.update(progress, advance=1, description=markup_escape(where))

        result = run_suite(suite, path, quick=quick, workers=workers, ray=ray, sandbox=sandbox, unsafe=unsafe, on_run=finished)
        bar.update(progress, completed=total)
        return result


def report(
    ledger: Path = typer.Argument(..., help="A ledger written by `proctor scenarios run` (or `proctor run`).", show_default=False),
    output: Path = typer.Option(None, "--output", "-o", help="Write index.html, its PNG plots and metrics.json here."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as one JSON object.", metavar=""),
) -> None:
    """Verify a ledger and report its runs: per cell, metrics with 95% intervals across seeds, and plots.

    Without -o, prints a table. Exits 1 when the ledger's integrity fails (the page then says so
    in a red banner, and its numbers cover only the entries before the first bad one).
    """
    from proctor.errors import InputError

    if output is None and not as_json:
        raise InputError("say where the report goes with -o DIR (or print the metrics with --json)")
    if not ledger.exists():
        raise InputError(f"{ledger}: no such ledger")
    if output is not None and output.exists() and not output.is_dir():
        raise InputError(f"{output}: exists and is not a directory; -o names the directory the report is written into")
    _summarise(ledger, output, as_json, table=False)


def _summarise(ledger: Path, output: Path | None, as_json: bool, table: bool = True) -> None:
    from proctor.scenarios import ledger_metrics, write_report

    metrics = ledger_metrics(ledger)
    if output is not None:
        page = write_report(metrics, output)
        typer.echo(f"report: {page}", err=True)
    if as_json:
        typer.echo(json.dumps(metrics.as_dict()))
    elif table:
        _print_table(metrics)
    if not metrics.ok:
        typer.secho(f"{ledger}: INTEGRITY FAILURE: {shown(str(metrics.integrity['problems'][0]['message']))}", err=True, fg="red")
        raise typer.Exit(IntegrityError.exit_code)


def _print_table(metrics: Any) -> None:
    columns: tuple[tuple[str, str], ...] = (
        ("acceptance_rate", "accepted"),
        ("true_score", "legit"),
        ("precision", "precision"),
        ("cheating_rate", "cheating"),
        ("gv_gap", "GV-gap"),
        ("claim_far", "claim FAR"),
    )
    if any(cell.estimate("measured_score").mean is not None for cell in metrics.cells):  # scored tasks
        columns = (*columns, ("claimed_score", "claimed score"), ("measured_score", "measured score"))
    if metrics.truth != "oracle":
        typer.echo("truth: the external verdicts themselves (no held-out oracle judged these runs)")
    if metrics.verifier_rates:
        rates = metrics.verifier_rates["verifiers"]
        kills = ", ".join(f"{name} {row['kill_rate'] or 0:.0%}" for name, row in rates.items())
        typer.echo(f"verifiers' measured kill rates on mutants of these tasks: {kills}")
    typer.echo(f"{'profile':<14} {'regime':<9} {'round':>5} {'seeds':>5} " + " ".join(f"{label:>14}" for _, label in columns))
    suite = None
    for cell in metrics.cells:
        if cell.suite != suite:
            suite = cell.suite
            typer.echo(f"suite {shown(suite)}")
        values = []
        for metric, _ in columns:
            estimate = cell.estimate(metric)
            text = "n/a" if estimate.mean is None else f"{estimate.mean:+.2f}" if metric == "gv_gap" else f"{estimate.mean:.2f}"
            values.append(f"{text + (f' ±{estimate.ci:.2f}' if estimate.ci is not None else ''):>14}")
        typer.echo(f"{shown(cell.profile):<14} {shown(cell.regime):<9} {cell.round:>5} {len(cell.facts):>5} " + " ".join(values))
