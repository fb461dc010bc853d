"""A real inspect_ai eval (its mockllm model with fixed outputs) scored by proctor_scorer."""

from __future__ import annotations

import pytest

from tests.integrations.test_rewards import HACK, RIGHT, WRONG

pytest.importorskip("inspect_ai", reason="the inspect extra is not installed (pip install 'proctor[inspect]')")


def _eval(scorer, outputs, metadata, tmp_path):
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.solver import generate

    replies = [ModelOutput.from_content("mockllm/model", text) for text in outputs]
    for reply in replies:  # given usage, mockllm counts no tokens (tiktoken would fetch its encoding from the internet)
        reply.usage = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)
    model = get_model("mockllm/model", custom_outputs=replies)
    samples = [Sample(input=f"Write it ({i}).", id=i, metadata=m) for i, m in enumerate(metadata)]
    (log,) = eval(
        Task(dataset=samples, solver=generate(), scorer=scorer), model=model, log_dir=str(tmp_path), display="none", max_samples=1
    )
    assert log.status == "success", log.error
    return [sample.scores["proctor_scorer"] for sample in sorted(log.samples, key=lambda s: s.id)]


def test_an_eval_scores_the_right_solution_correct_and_the_wrong_and_the_hack_incorrect(namespace_sandbox, tmp_path):
    from proctor.integrations.inspect_ai import proctor_scorer

    scores = _eval(proctor_scorer(sandbox=namespace_sandbox), [RIGHT, WRONG, HACK], [{"task_id": "HumanEval/2"}] * 3, tmp_path)
    assert [s.value for s in scores] == ["C", "I", "I"]
    assert "accepted" in scores[0].explanation or "pass" in scores[0].explanation
    assert scores[1].metadata["decided_by"] in ("tests", "properties") and scores[1].metadata["status"] == "fail"
    assert any(v["verifier"] == "hack_scan" for v in scores[2].metadata["verdicts"])


def test_an_eval_records_each_score_in_the_ledger_and_names_the_proposal(namespace_sandbox, tmp_path):
    from proctor.integrations.inspect_ai import proctor_scorer
    from proctor.ledger import Ledger

    path = tmp_path / "eval.ledger"
    task = {
        "id": "double",
        "prompt": "def double(x):\n    pass\n",
        "entry_point": "double",
        "tests": "def check(candidate):\n    assert candidate(2) == 4\n",
        "reference": "def double(x):\n    return 2 * x\n",
    }
    scorer = proctor_scorer(sandbox=namespace_sandbox, ledger=path)
    scores = _eval(scorer, ["def double(x):\n    return x + x\n"], [{"task": task}], tmp_path)
    assert scores[0].value == "C"
    scorer.judge.close()
    with Ledger(path, readonly=True) as book:
        recorded = [e.data["id"] for e in book.entries(kinds=["proposal"])]
        kinds = [e.kind for e in book.entries()]
    assert recorded == [scores[0].metadata["proposal_id"]] and kinds[0] == "run_start" and kinds[-1] == "run_end"


def test_a_sample_without_a_task_is_left_unscored(namespace_sandbox, tmp_path):
    import math

    from proctor.integrations.inspect_ai import proctor_scorer

    (score,) = _eval(proctor_scorer(sandbox=namespace_sandbox), [RIGHT], [{}], tmp_path)
    assert math.isnan(score.value) and "names no proctor task" in score.explanation


def test_the_scorer_is_registered_where_inspect_eval_looks():
    from importlib.metadata import entry_points

    from inspect_ai._util.registry import registry_info, registry_lookup

    (point,) = [p for p in entry_points(group="inspect_ai") if p.name == "proctor"]
    module = point.load()  # what inspect_ai does before it resolves a scorer by name
    # "proctor/proctor_scorer" where proctor is installed; inspect leaves the package off when run from a source tree
    name = registry_info(module.proctor_scorer).name
    assert name in ("proctor/proctor_scorer", "proctor_scorer")
    assert registry_lookup("scorer", name) is module.proctor_scorer
