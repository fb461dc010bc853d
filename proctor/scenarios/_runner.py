"""The scenario runner: every run of a suite, across worker processes or a Ray cluster, into one ledger.

Each run (a ``Cell``) is a pure function of the suite, the cell and the proposer's profile: a
worker runs the loop into a scratch ledger and ships the events back; the driver alone writes
the suite's ledger, one whole run per transaction. So the ledger never holds half a run, a run
gives the same results on any engine, and an interrupted suite continues from the runs its
ledger holds (``run_suite`` skips them). In the ``self-improvement`` style, round r+1 of a
chain starts from ``Profile.after`` of what round r accepted, read back from those events.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from proctor._cluster import ray_submit
from proctor.errors import InputError
from proctor.ledger import Event, Ledger
from proctor.loop import Budget, Loop, Profile, Proposer, SimulatedProposer, make_proposer
from proctor.loop._library import Exemplar, LibraryProposer, accepted_exemplars
from proctor.models import Task
from proctor.scenarios._oracle import OPTIONAL_IN_ORACLE, HeldOut, VerdictMemo, loop_view, pipeline
from proctor.scenarios._suite import Cell, Plan, Suite

Shipped = tuple[str, dict[str, Any], str | None, str, tuple[str, ...]]  # an Event's fields, picklable
Submit = Callable[["Unit"], "Future[list[Shipped]]"]


@dataclass(frozen=True)
class Unit:
    """One run to execute: everything a worker needs, as plain data."""

    suite: dict[str, Any]
    quick: bool
    cell: Cell
    profile: dict[str, Any] | None  # the simulated profile for this round; None for a proposer spec
    sandbox: str | None = None
    unsafe: bool = False
    verdicts: str | None = None  # the directory where this run's workers share verdicts (None: each keeps its own)
    library: tuple[dict[str, Any], ...] = ()  # the exemplars earlier rounds of this chain accepted (Exemplar.as_dict)


@dataclass
class SuiteRun:
    """What ``run_suite`` did: the runs it executed now, and those the ledger already held."""

    suite: str
    ledger: Path
    executed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def run_suite(
    suite: Suite,
    ledger: str | Path,
    *,
    quick: bool = False,
    workers: int | None = None,
    ray: str | None = None,
    sandbox: str | None = None,
    unsafe: bool = False,
    on_run: Callable[[Cell, list[Shipped]], None] | None = None,
) -> SuiteRun:
    """Run every cell of ``suite`` not yet in ``ledger``; resumable, deterministic for its seeds.

    ``workers`` processes run cells in parallel (default: one per CPU, at most the suite's own
    ``workers``; 1 runs them in this process); ``ray`` (a cluster address or ``auto``; ``local``
    starts one here) runs them as
    Ray tasks instead. ``on_run(cell, events)`` reports each finished run.
    """
    plan = suite.plan(quick)
    plan.tasks  # noqa: B018  (a bad task reference fails here, before any work)
    result = SuiteRun(suite.name, Path(ledger))
    if workers is None and suite.workers is not None:
        workers = min(suite.workers, os.cpu_count() or 1)
    with Ledger(ledger) as book, _engine(workers, ray) as (submit, verdicts):
        _check_same_suite(book, plan)
        template = Unit(suite.model_dump(mode="json"), quick, plan.cells()[0], None, sandbox, unsafe, verdicts)
        scheduler = _Scheduler(plan, book, submit, template)
        scheduler.start(result)
        for cell, events in scheduler.finished():
            result.executed.append(cell.run)
            if on_run is not None:
                on_run(cell, events)
        book.checkpoint()
    return result


class _Scheduler:
    """Submits each chain's next round as soon as its previous one is in the ledger."""

    def __init__(self, plan: Plan, book: Ledger, submit: Submit, template: Unit) -> None:
        self.plan, self.book, self.submit, self.template = plan, book, submit, template
        self.running: dict[Future[list[Shipped]], tuple[Cell, tuple[dict[str, Any], ...]]] = {}

    def start(self, result: SuiteRun) -> None:
        for cell in self.plan.cells():
            profile = self._first_profile(cell)
            library: tuple[dict[str, Any], ...] = ()
            while cell.round <= self.plan.rounds and self.book.get(f"{cell.run}:run_end") is not None:
                result.skipped.append(cell.run)
                entries = list(self.book.entries(run=cell.run))
                profile = _next_profile(_payloads(entries))
                library = _next_library(library, [(e.kind, e.data, _bodies(self.book, e.data)) for e in entries], cell.round)
                cell = _round(cell, cell.round + 1)
            if cell.round <= self.plan.rounds:
                self._submit(cell, profile, library)

    def finished(self) -> Iterator[tuple[Cell, list[Shipped]]]:
        try:
            while self.running:
                done, _ = wait(self.running, return_when=FIRST_COMPLETED)
                for future in done:
                    cell, library = self.running.pop(future)
                    events = future.result()
                    self.book.extend(Event(*shipped) for shipped in events)
                    if cell.round < self.plan.rounds:
                        profile = _next_profile([(kind, data) for kind, data, *_ in events])
                        library = _next_library(library, [(kind, data, bodies) for kind, data, _, _, bodies in events], cell.round)
                        self._submit(_round(cell, cell.round + 1), profile, library)
                    yield cell, events
        finally:
            for future in self.running:
                future.cancel()

    def _first_profile(self, cell: Cell) -> dict[str, Any] | None:
        simulated = self.plan.profile(cell.profile).simulated
        return simulated.model_dump() if simulated else None

    def _submit(self, cell: Cell, profile: dict[str, Any] | None, library: tuple[dict[str, Any], ...] = ()) -> None:
        self.running[self.submit(replace(self.template, cell=cell, profile=profile, library=library))] = (cell, library)


def _round(cell: Cell, number: int) -> Cell:
    return replace(cell, round=number)


def _check_same_suite(book: Ledger, plan: Plan) -> None:
    """Refuse a ledger whose runs of this suite (and mode) were made by another version of it."""
    run = next((run for run in book.runs() if run.startswith(plan.prefix + "/")), None)
    start = book.get(f"{run}:run_start") if run else None
    recorded = start.data["config"].get("scenario", {}).get("digest") if start else None
    if recorded not in (None, plan.digest):
        raise InputError(
            f"{book.path} holds runs of another version of suite {plan.suite.name!r} ({recorded}, now {plan.digest}); "
            "use another --ledger"
        )


# -- what a round teaches the next one ----------------------------------------------------------


def _payloads(entries: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(entry.kind, entry.data) for entry in entries]


def accepted_kinds(payloads: Iterable[tuple[str, dict[str, Any]]]) -> Counter[str]:
    """How many accepted proposals of each kind (correct, mutant, hack) a run's events hold."""
    kinds: dict[str, str] = {}
    accepted: list[str] = []
    for kind, data in payloads:
        if kind == "proposal":
            kinds[data["id"]] = str((data.get("metadata") or {}).get("simulated"))
        elif kind == "decision" and data.get("outcome") == "accept":
            accepted.append(data["proposal_id"])
    return Counter(kinds.get(proposal_id, "unknown") for proposal_id in accepted)


def _next_profile(payloads: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """The profile the next round starts from: the run's recorded profile after what the run accepted."""
    start = next(data for kind, data in payloads if kind == "run_start")
    profile = start["config"]["scenario"].get("profile_values")
    if profile is None:  # a proposer spec, not a simulated profile: nothing to update
        return None
    return Profile.model_validate(profile).after(accepted_kinds(payloads)).model_dump()


def _next_library(
    library: tuple[dict[str, Any], ...], events: list[tuple[str, dict[str, Any], tuple[str, ...]]], round_: int
) -> tuple[dict[str, Any], ...]:
    """The library the next round starts from: this one, and what the run (round ``round_``) accepted."""
    return (*library, *(e.as_dict() for e in accepted_exemplars(events, round_)))


def _bodies(book: Ledger, data: dict[str, Any]) -> tuple[str, ...]:
    """The contents an event's data names by digest (a proposal's code), as the ledger holds them."""
    return tuple(body for digest in (data.get("contents") or {}).values() if (body := book.content(digest)) is not None)


# -- engines -------------------------------------------------------------------------------------


@contextmanager
def _engine(workers: int | None, ray: str | None) -> Iterator[tuple[Submit, str | None]]:
    """Where runs go, and the directory their workers share verdicts through (None for one worker).

    Workers on this machine (a process pool, a Ray cluster started here) share verdicts through
    a private scratch directory; a remote Ray cluster's workers keep a memo each.
    """
    count = workers or os.cpu_count() or 1
    shares = (ray is None and count > 1) or ray == "local"
    with tempfile.TemporaryDirectory(prefix="proctor-verdicts-") if shares else nullcontext() as verdicts:
        if ray is not None:
            with ray_submit(ray, execute) as submit:
                yield submit, verdicts
            return
        with _pool(count) as submit:
            yield submit, verdicts


@contextmanager
def _pool(count: int) -> Iterator[Submit]:
    if count <= 1:
        executor: Executor = ThreadPoolExecutor(1, thread_name_prefix="proctor-scenario")  # in this process, one run at a time
    else:
        import multiprocessing

        # spawn, not fork: the driver may hold sandbox threads and SQLite connections a fork would copy
        context = multiprocessing.get_context("spawn")
        executor = ProcessPoolExecutor(count, mp_context=context, initializer=_ignore_interrupts)
    with executor as pool:
        try:
            yield lambda unit: pool.submit(execute, unit)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the driver, which stops them; finished runs are already in the ledger."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# -- the worker side -----------------------------------------------------------------------------


class _Worker:
    """What one worker process keeps between runs: its sandbox, its verdict memo, resolved suites."""

    def __init__(self) -> None:
        self.sandboxes: dict[tuple[str | None, bool], Any] = {}
        self.memo = VerdictMemo()
        self.plans: dict[str, tuple[Plan, list[Task], HeldOut]] = {}

    def sandbox(self, name: str | None, unsafe: bool) -> Any:
        from proctor.sandboxes import default_sandbox_name, get_sandbox

        key = (name, unsafe)
        if key not in self.sandboxes:
            chosen = name or default_sandbox_name()
            self.sandboxes[key] = get_sandbox(chosen, unsafe=True) if chosen == "local" and unsafe else get_sandbox(chosen)
        return self.sandboxes[key]

    def plan(self, unit: Unit) -> tuple[Plan, list[Task], HeldOut]:
        plan = Suite.model_validate(unit.suite).plan(unit.quick)
        key = f"{plan.digest}:{unit.sandbox}"
        if key not in self.plans:
            box = self.sandbox(unit.sandbox, unit.unsafe)
            oracle = HeldOut(plan.tasks, pipeline(plan.suite.oracle, box, self.memo, OPTIONAL_IN_ORACLE))
            self.plans[key] = (plan, [loop_view(task) for task in plan.tasks], oracle)
        return self.plans[key]


_WORKER: _Worker | None = None


def execute(unit: Unit) -> list[Shipped]:
    """Run one cell's loop over the suite's tasks; return the events it recorded, in order."""
    global _WORKER
    _WORKER = _WORKER or _Worker()
    _WORKER.memo.shared = Path(unit.verdicts) if unit.verdicts else None
    plan, tasks, oracle = _WORKER.plan(unit)
    verifier = pipeline(plan.suite.verifiers, _WORKER.sandbox(unit.sandbox, unit.unsafe), _WORKER.memo)
    cell = unit.cell
    with tempfile.TemporaryDirectory(prefix="proctor-scenario-") as scratch_dir:
        scratch = Ledger(Path(scratch_dir) / "run.ledger", synchronous="NORMAL", checkpoint_every=0)
        with scratch:
            loop = Loop(
                _proposer(plan, unit),
                verifier,
                scratch,
                run=cell.run,
                regime=cell.regime,
                budget=Budget(cycles=plan.cycles),
                config=_config(plan, unit),
                oracle=oracle,
            )
            with loop:
                loop.run(tasks)
            return [_ship(entry, scratch) for entry in scratch.entries()]


def _proposer(plan: Plan, unit: Unit) -> Proposer:
    spec = _proposer_spec(plan, unit.cell)
    if spec is not None:
        proposer: Proposer = make_proposer(spec)
    else:
        proposer = SimulatedProposer(Profile.model_validate(unit.profile), seed=_draw_seed(unit.cell), name=unit.cell.profile)
    if not plan.suite.library:
        return proposer
    prompts = {task.id: task.prompt for task in plan.tasks}
    library = [Exemplar(**e) for e in unit.library]
    return LibraryProposer(proposer, library, prompts, plan.suite.library, _draw_seed(unit.cell))


def _draw_seed(cell: Cell) -> int:
    # Rounds draw afresh; regimes of one seed and round share draws, so they compare like for like.
    return cell.seed + 10_000 * (cell.round - 1)


def _proposer_spec(plan: Plan, cell: Cell) -> str | None:
    """The profile's proposer spec with ``{seed}`` replaced by the cell's draw seed (None for a simulated profile)."""
    spec = plan.profile(cell.profile).proposer
    return None if spec is None else spec.replace("{seed}", str(_draw_seed(cell)))


def _config(plan: Plan, unit: Unit) -> dict[str, Any]:
    cell = unit.cell
    scenario = {
        "suite": plan.suite.name,
        "digest": plan.digest,
        "quick": plan.quick,
        "profile": cell.profile,
        "profile_values": unit.profile,
        "proposer_spec": _proposer_spec(plan, cell),
        "regime": cell.regime,
        "seed": cell.seed,
        "round": cell.round,
        "rounds": plan.rounds,
        "tasks": len(plan.tasks),
        "impossible": [task.id for task in plan.tasks if task.metadata.get("impossible")],
        "verifiers": plan.suite.verifiers,
        "oracle": plan.suite.oracle,
        "memoised_verdicts": True,
    }
    if plan.suite.library:  # what this round's prompts drew on: the library's size and how much of it is wrong
        scenario["library"] = {"size": len(unit.library), "wrong": sum(not e["good"] for e in unit.library)}
    return {"command": "scenario", "scenario": scenario}


def _ship(entry: Any, scratch: Ledger) -> Shipped:
    return entry.kind, entry.data, entry.run, entry.id, _bodies(scratch, entry.data)
