"""Scenario throughput (loop cycles per second) at 1 and 2 workers and on a local Ray cluster.

    python benchmarks/scenarios.py [--suite smt] [--quick] [--runs 3]

Runs the suite into a fresh ledger with each engine, ``--runs`` times each, each time in a new
Python process timed from before its first ``proctor`` import to the end of ``run_suite``, as
a user's ``proctor scenarios run`` is (its summary aside): nothing is imported, remembered or
started beforehand, for one worker as for several. Runs are interleaved so machine noise hits
every engine alike; the report gives each engine's median throughput and its ratio to one
worker (the baseline, measured in the same run). Ray is started as a local cluster
(``--ray local``); it is skipped, with the reason, when Ray is not installed. Cycles are
counted from the ledger (one decision per cycle).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proctor.ledger import Ledger

ENGINES = {"1 worker": {"workers": 1}, "2 workers": {"workers": 2}, "ray (local, 2 CPUs)": {"ray": "local"}}


# Run in a fresh interpreter; prints the seconds from before the first proctor import to the end of the run.
CHILD = """
import json, sys, time
started = time.perf_counter()
from proctor.scenarios import load_suite, run_suite
suite, quick, options, ledger = sys.argv[1], sys.argv[2] == "quick", json.loads(sys.argv[3]), sys.argv[4]
if __name__ == "__main__":  # spawned workers import this module again
    run_suite(load_suite(suite), ledger, quick=quick, **options)
    print(time.perf_counter() - started)
"""


def _throughput(suite_name: str, quick: bool, options: dict[str, object], directory: Path) -> float:
    path = directory / f"run-{time.monotonic_ns()}.ledger"
    mode = "quick" if quick else "full"
    command = [sys.executable, "-c", CHILD, suite_name, mode, json.dumps(options), str(path)]
    seconds = float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[-1])
    with Ledger(path, readonly=True) as book:
        cycles = sum(1 for _ in book.entries(kinds=["decision"]))
    return cycles / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="smt")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engines = dict(ENGINES)
    try:
        import ray  # noqa: F401
    except ImportError:
        print("ray: skipped (not installed; pip install 'proctor[ray]')")
        engines.pop("ray (local, 2 CPUs)")
    results: dict[str, list[float]] = {name: [] for name in engines}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for name, options in engines.items():
                results[name].append(_throughput(args.suite, args.quick, options, Path(tmp)))
    baseline = statistics.median(results["1 worker"])
    print(f"suite {args.suite}{' (quick)' if args.quick else ''}, median of {args.runs} runs")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:<20} {median:7.1f} cycles/s   {median / baseline:4.2f}× one worker")


if __name__ == "__main__":
    main()
