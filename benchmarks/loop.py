"""The loop's own cost per cycle (graph, checkpointer, ledger) beside the verification it wraps.

    python benchmarks/loop.py [--tasks 20] [--runs 3]

Runs the loop over the first ``--tasks`` HumanEval tasks with a simulated proposer (about half
its first attempts wrong, so tasks take one to three cycles), the default verifier pipeline in
the namespace sandbox, a SQLite checkpointer (durability "sync") and a ledger at synchronous
FULL. Verification and the proposer's own time are measured inside the same run; the loop's
overhead is the rest of the wall time. Target: overhead under 10% of a cycle. Every figure is
the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from proctor.loop import Budget, Profile, SimulatedProposer, run_loop
from proctor.sandboxes import default_sandbox_name, get_sandbox
from proctor.tasks import humaneval_tasks
from proctor.verifiers import default_pipeline


class Timed:
    """Wraps a proposer or verifier and adds the time its calls take to ``spent``."""

    def __init__(self, inner: Any, spent: list[float], name: str = "") -> None:
        self.inner, self.spent = inner, spent
        self.name = getattr(inner, "name", name)
        self.id, self.version = getattr(inner, "id", name), getattr(inner, "version", "")

    def _timed(self, method: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return getattr(self.inner, method)(*args)
        finally:
            self.spent.append(time.perf_counter() - started)

    def propose(self, *args: Any) -> Any:
        return self._timed("propose", *args)

    def self_check(self, *args: Any) -> Any:
        return self._timed("self_check", *args)

    def verify(self, *args: Any) -> Any:
        return self._timed("verify", *args)


def one_run(tasks: list[Any], box: Any, seed: int) -> dict[str, float]:
    verifying: list[float] = []
    proposing: list[float] = []
    proposer = Timed(SimulatedProposer(Profile(competence=0.5, hack=0.1), seed=seed), proposing)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = run_loop(
            tasks,
            proposer,
            lambda task: Timed(default_pipeline(task, box), verifying, "pipeline"),
            Path(tmp) / "bench.ledger",
            state=Path(tmp) / "bench.state",
            budget=Budget(cycles=3),
        )
        wall = time.perf_counter() - started
    cycles = int(result.spent["proposals"])
    overhead = (wall - sum(verifying) - sum(proposing)) / cycles
    verify = sum(verifying) / cycles
    return {"cycles": cycles, "overhead_ms": overhead * 1000, "verify_ms": verify * 1000, "share": overhead / (overhead + verify)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    tasks = list(humaneval_tasks().values())[: options.tasks]
    with get_sandbox(default_sandbox_name()) as box:
        one_run(tasks[:2], box, seed=99)  # warm up imports, the sandbox and Hypothesis
        runs = [one_run(tasks, box, seed) for seed in range(options.runs)]
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print(f"{options.tasks} HumanEval tasks, {options.runs} runs, median of runs")
    print(f"  cycles per run                    {median['cycles']:.0f}")
    print(f"  loop overhead per cycle           {median['overhead_ms']:.1f} ms  (graph + SQLite checkpointer + ledger)")
    print(f"  verification per cycle            {median['verify_ms']:.1f} ms  (default pipeline, namespace sandbox)")
    verdict = "meets" if median["share"] < 0.10 else "MISSES"
    print(f"  overhead share of a cycle         {median['share']:.1%}  (target < 10%: {verdict})")


if __name__ == "__main__":
    main()
