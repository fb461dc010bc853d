"""Run the verifiers on populations whose truth is known, and count what they got right.

For each task with a reference: its *mutants* (faulty variants, ``_mutants``), its *rewrites*
(correct variants, ``_rewrites``) and the known reward *hacks* specialised to it (the simulated
proposer's). A mutant's truth is settled by a differential check independent of the measured
verifiers' settings: the task's tests, then ``properties`` with many more inputs and its own seed.
A mutant neither tells apart is "possibly equivalent" and counted apart, never as a survivor. A
rewrite that check calls wrong is a broken rewrite, reported and left out.

Per verifier: the kill rate on non-equivalent mutants, the false-reject rate on rewrites, the
share of hacks accepted, unknowns, and the median time per candidate.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from proctor.loop._simulated import HACKS
from proctor.measure._mutants import mutants
from proctor.measure._rewrites import rewrites
from proctor.models import Proposal, Task, Verdict
from proctor.sandboxes import Sandbox
from proctor.verifiers import PropertiesVerifier, TestsVerifier, default_pipeline, named_pipeline

TRUTH_EXAMPLES = 300  # the differential check's inputs per mutant: five times what properties tries
TRUTH_SEED = 8_675_309  # apart from any seed the measured verifiers use
PIPELINE = "pipeline"


@dataclass
class Candidate:
    """One member of a population, with its truth once settled."""

    task: Task
    population: str  # mutant, rewrite or hack
    name: str
    code: str
    truth: str = ""  # wrong, right, equivalent? (a mutant nothing told apart) or broken (a rewrite found wrong)
    witness: str = ""  # for a wrong mutant: what showed it
    verdicts: dict[str, tuple[str, float]] = field(default_factory=dict)  # verifier -> (status, seconds)


def populations(task: Task, mutants_per_task: int, seed: int) -> list[Candidate]:
    """The task's candidates: up to ``mutants_per_task`` mutants (spread over the operators), every rewrite, every hack."""
    assert task.reference is not None
    made = mutants(task.reference)
    chosen = _spread(made, mutants_per_task, random.Random(f"{seed}:{task.id}"))
    found = [Candidate(task, "mutant", f"{m.operator}: {m.change} (line {m.line})", m.code) for m in chosen]
    found += [Candidate(task, "rewrite", r.kind, r.code, truth="right") for r in rewrites(task.reference, task.entry_point)]
    found += [Candidate(task, "hack", name, make(task), truth="wrong") for name, make in sorted(HACKS.items())]
    return found


def _spread(made: list[Any], count: int, chosen: random.Random) -> list[Any]:
    """``count`` of ``made``, taking each operator in turn so that no operator crowds out the rest."""
    by_operator: dict[str, list[Any]] = {}
    for mutant in made:
        by_operator.setdefault(mutant.operator, []).append(mutant)
    for group in by_operator.values():
        chosen.shuffle(group)
    picked: list[Any] = []
    while len(picked) < count and any(by_operator.values()):
        for group in by_operator.values():
            if group and len(picked) < count:
                picked.append(group.pop())
    return picked


def settle(candidate: Candidate, sandbox: Sandbox) -> None:
    """A mutant's truth, or a rewrite's check, by the task's tests and then many generated inputs."""
    if candidate.population == "hack":
        return
    proposal = Proposal(task_id=candidate.task.id, code=candidate.code, proposer="measure")
    checks: list[Callable[[Task, Proposal], Verdict]] = []
    if candidate.task.tests or candidate.task.cases:
        checks.append(TestsVerifier(sandbox).verify)
    checks.append(PropertiesVerifier(sandbox, examples=TRUTH_EXAMPLES, seed=TRUTH_SEED, min_examples=1).verify)
    for check in checks:
        verdict = check(candidate.task, proposal)
        if verdict.status == "fail":
            candidate.truth, candidate.witness = ("wrong" if candidate.population == "mutant" else "broken"), verdict.detail[:300]
            return
    if candidate.population == "mutant":
        candidate.truth = "equivalent?"


def judge(candidate: Candidate, sandbox: Sandbox, verifiers: list[str], seed: int) -> None:
    """Each measured verifier's verdict on the candidate, and how long it took."""
    proposal = Proposal(task_id=candidate.task.id, code=candidate.code, proposer="measure")
    for name in verifiers:
        verify = (
            default_pipeline(candidate.task, sandbox, seed=seed) if name == PIPELINE else named_pipeline([name], sandbox, seed=seed)
        )
        started = time.perf_counter()
        verdict = verify.verify(candidate.task, proposal)
        candidate.verdicts[name] = (verdict.status, time.perf_counter() - started)


def measure(
    tasks: Iterable[Task],
    sandbox: Sandbox,
    verifiers: list[str],
    *,
    mutants_per_task: int = 8,
    seed: int = 0,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Build every task's populations, settle their truth, judge them with ``verifiers``; return the report."""
    candidates = [c for task in tasks if task.reference for c in populations(task, mutants_per_task, seed)]
    done = 0

    def one(candidate: Candidate) -> None:
        nonlocal done
        settle(candidate, sandbox)
        if candidate.truth != "broken":
            judge(candidate, sandbox, verifiers, seed)
        done += 1
        if progress is not None:
            progress(done, len(candidates))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(one, candidates))
    return report(candidates, verifiers)


def report(candidates: list[Candidate], verifiers: list[str]) -> dict[str, Any]:
    """The measurement as JSON data: per verifier, the rates; the populations; the survivors."""
    wrong = [c for c in candidates if c.population == "mutant" and c.truth == "wrong"]
    right = [c for c in candidates if c.population == "rewrite" and c.truth == "right"]
    hacks = [c for c in candidates if c.population == "hack"]
    rows = {name: _row(name, wrong, right, hacks) for name in verifiers}
    survivors = [
        {"verifier": name, "task": c.task.id, "mutant": c.name, "shown_wrong_by": c.witness}
        for name in verifiers
        for c in wrong
        if c.verdicts.get(name, ("",))[0] == "pass"
    ]
    return {
        "tasks": len({c.task.id for c in candidates}),
        "mutants": {
            "non_equivalent": len(wrong),
            "possibly_equivalent": sum(c.truth == "equivalent?" for c in candidates),
            "made": sum(c.population == "mutant" for c in candidates),
        },
        "rewrites": {"checked_equivalent": len(right), "broken": sum(c.truth == "broken" for c in candidates)},
        "hacks": len(hacks),
        "truth": f"the task's tests, then properties with {TRUTH_EXAMPLES} inputs (seed {TRUTH_SEED})",
        "verifiers": rows,
        "survivors": survivors,
        "false_rejects": [
            {"verifier": name, "task": c.task.id, "rewrite": c.name}
            for name in verifiers
            for c in right
            if c.verdicts.get(name, ("",))[0] == "fail"
        ],
    }


def _row(name: str, wrong: list[Candidate], right: list[Candidate], hacks: list[Candidate]) -> dict[str, Any]:
    def share(group: list[Candidate], status: str) -> float | None:
        return sum(c.verdicts[name][0] == status for c in group) / len(group) if group else None

    judged = [c for c in (*wrong, *right, *hacks) if name in c.verdicts]
    seconds = [c.verdicts[name][1] for c in judged]
    return {
        "kill_rate": share(wrong, "fail"),
        "false_reject_rate": share(right, "fail"),
        "hack_acceptance": share(hacks, "pass"),
        "unknown": sum(c.verdicts[name][0] in ("unknown", "error") for c in judged),
        "median_seconds": statistics.median(seconds) if seconds else None,
    }
