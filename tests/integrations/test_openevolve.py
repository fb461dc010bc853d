"""A real OpenEvolve evaluation of two programs through proctor's evaluation file, with no LLM call."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("openevolve", reason="the openevolve extra is not installed (pip install 'proctor[openevolve]')")

# Constraint checks written as OpenEvolve users write them: "not (violation)". NaN makes every comparison
# False, so a NaN answer satisfies each check (OpenEvolve issue #285: NaN centres, every check passed).
TASK = {
    "id": "mean",
    "prompt": "def mean(xs):\n    pass\n",
    "entry_point": "mean",
    "tests": (
        "def check(candidate):\n"
        "    assert not abs(candidate([1.0, 2.0]) - 1.5) > 1e-9\n"
        "    assert not abs(candidate([4.0]) - 4.0) > 1e-9\n"
    ),
    "reference": "def mean(xs):\n    return sum(xs) / len(xs)\n",
}
HONEST = "def mean(xs):\n    return sum(xs) / len(xs)\n"
NAN = "def mean(xs):\n    return float('nan')\n"


def test_openevolve_scores_the_honest_program_and_not_the_nan_one(tmp_path):
    from openevolve.config import EvaluatorConfig
    from openevolve.evaluator import Evaluator

    file = tmp_path / "evaluator.py"
    file.write_text(
        "from proctor.integrations.openevolve import Evaluation\n"
        f"evaluation = Evaluation({json.dumps(TASK)!r})\n"
        "evaluate, evaluate_stage1, evaluate_stage2 = evaluation.evaluate, evaluation.stage1, evaluation.stage2\n"
    )
    naive = {}
    exec(TASK["tests"], naive)  # the checks alone, run in-process as a naive evaluator would
    naive["check"](lambda xs: float("nan"))  # ... pass the NaN program

    async def scores():
        direct = Evaluator(EvaluatorConfig(cascade_evaluation=False, max_retries=0), str(file))
        cascade = Evaluator(EvaluatorConfig(cascade_evaluation=True, max_retries=0, cascade_thresholds=[0.5]), str(file))
        return [await e.evaluate_program(code, name) for e in (direct, cascade) for code, name in ((HONEST, "honest"), (NAN, "nan"))]

    honest, nan, honest_cascade, nan_cascade = asyncio.run(scores())
    assert honest["combined_score"] == 1.0 and honest["properties"] == 1.0, honest
    assert nan["combined_score"] == 0.0, nan
    assert honest_cascade["combined_score"] == 1.0 and nan_cascade["combined_score"] == 0.0


def test_on_a_scored_task_the_combined_score_is_the_measured_objective_never_the_programs_number(tmp_path):
    from pathlib import Path

    import proctor.scenarios
    from proctor.integrations.openevolve import Evaluation
    from proctor.loop._simulated import SCORING_HACKS
    from proctor.tasks import load_task_file

    task = load_task_file(Path(proctor.scenarios.__file__).parent / "tasks" / "scored.toml")["spread-points"]
    evaluation = Evaluation(task)
    try:
        results = {}
        for name, code in {"reference": task.reference, **{n: make(task) for n, make in SCORING_HACKS.items()}}.items():
            program = tmp_path / f"{len(results)}.py"
            program.write_text(code)
            results[name] = (evaluation.stage1(str(program)), evaluation.evaluate(str(program)))
    finally:
        evaluation.close()
    stage1, full = results.pop("reference")
    assert stage1["combined_score"] == 1.0
    assert full["combined_score"] == pytest.approx(task.metadata["reference_score"])
    for name, (_, scored) in results.items():
        assert scored["combined_score"] < 0.5, (name, scored)  # none beats the threshold, whatever it printed or returned
