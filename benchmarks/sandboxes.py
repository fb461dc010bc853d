"""Sandbox latency, side by side with a bare ``python3 -I -S -c pass`` measured in the same run.

    python benchmarks/sandboxes.py [--runs 60]

Prints median and p90 per backend for a trivial job and a HumanEval-sized job, and each as a
ratio of the bare interpreter's median. Target: namespace trivial <= 1.0x bare.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from proctor.errors import SandboxUnavailable
from proctor.sandboxes import Job, get_sandbox

HUMANEVAL_SIZED = """
def has_close_elements(numbers, threshold):
    for i, a in enumerate(numbers):
        for j, b in enumerate(numbers):
            if i != j and abs(a - b) < threshold:
                return True
    return False

def check(candidate):
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False
    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True
    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 0.5) == False

check(has_close_elements)
"""


def timed(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def describe(name: str, samples: list[float], baseline: float) -> str:
    median = statistics.median(samples)
    p90 = statistics.quantiles(samples, n=10)[-1]
    return f"{name:<34} median {median * 1000:7.2f} ms   p90 {p90 * 1000:7.2f} ms   {median / baseline:5.2f}x bare"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--backends", default="namespace,docker")
    args = parser.parse_args()
    bare = timed(lambda: subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=True), args.runs)
    baseline = statistics.median(bare)
    print(describe("bare python3 -I -S -c pass", bare, baseline))
    for backend in args.backends.split(","):
        options = {"pool": 2} if backend == "docker" else {}
        try:
            sandbox = get_sandbox(backend, **options)
        except SandboxUnavailable as exc:
            print(f"{backend:<34} unavailable: {exc}")
            continue
        with sandbox:
            runs = args.runs if backend != "docker" else max(5, args.runs // 6)
            for label, job in (("trivial", Job(command=["python", "-c", "pass"])), ("humaneval-sized", Job.python(HUMANEVAL_SIZED))):
                samples = timed(functools.partial(sandbox.run, job), runs)
                print(describe(f"{backend} {label}", samples, baseline))


if __name__ == "__main__":
    main()
