"""``proctor verify`` as a user runs it: exit statuses, JSON, one-line errors, batch mode."""

from __future__ import annotations

import json

from proctor.tasks import humaneval_tasks
from tests.cli.test_sandbox_cli import proctor

TOML_TASK = (
    '[[tasks]]\nid = "inc"\nentry_point = "inc"\n'
    'reference = "def inc(x: int) -> int:\\n    return x + 1\\n"\n'
    "cases = [{ args = [1], expected = 2 }, { args = [41], expected = 42 }]\n"
)


def test_an_accepted_candidate_exits_0_and_reports_every_verdict_as_json(tmp_path):
    task = humaneval_tasks()["HumanEval/13"]
    (tmp_path / "c.py").write_text(task.reference or "")
    done = proctor("verify", "humaneval:HumanEval/13", str(tmp_path / "c.py"), "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["accepted"] is True and report["task_id"] == "HumanEval/13"
    assert [v["verifier"] for v in report["verdicts"]] == ["hack_scan", "tests", "properties", "smt"]
    assert all({"verifier", "status", "detail"} <= set(v) for v in report["verdicts"])


def test_a_rejected_candidate_exits_1_and_says_why(tmp_path):
    (tmp_path / "t.toml").write_text(TOML_TASK)
    (tmp_path / "c.py").write_text("def inc(x):\n    return x + 2\n")
    done = proctor("verify", str(tmp_path / "t.toml"), str(tmp_path / "c.py"), "--verifiers", "tests")
    assert done.returncode == 1 and "REJECTED by tests on inc(1)" in done.stdout and "case 1: expected 2" in done.stdout
    done = proctor("verify", str(tmp_path / "t.toml"), str(tmp_path / "c.py"), "--verifiers", "smt", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["decided_by"] == "smt" and report["input"].startswith("inc(")
    assert "counterexample: inc(" in report["verdicts"][0]["detail"]


def test_a_candidate_that_is_not_python_is_rejected_in_one_line(tmp_path):
    (tmp_path / "c.py").write_text("def greatest_common_divisor(a, b:\n")
    done = proctor("verify", "humaneval:HumanEval/13", str(tmp_path / "c.py"))
    assert done.returncode == 1 and "not valid Python (line 1)" in done.stdout and "Traceback" not in done.stderr


def test_bad_input_exits_2_with_one_line(tmp_path):
    (tmp_path / "c.py").write_text("x = 1\n")
    for args, words in (
        (["humaneval:HumanEval/999", str(tmp_path / "c.py")], "no task 'HumanEval/999'"),
        (["humaneval:HumanEval/1", str(tmp_path / "none.py")], "no such candidate file"),
        (["humaneval:HumanEval/1", str(tmp_path / "c.py"), "--verifiers", "tests,magic"], "unknown verifier 'magic'"),
        (["humaneval:HumanEval/1", str(tmp_path / "c.py"), "--sandbox", "local"], "--unsafe-local"),
        ([], "give TASK and CANDIDATE"),
    ):
        done = proctor("verify", *args)
        assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_samples_batch_writes_a_line_per_sample_and_prints_pass_at_k(tmp_path):
    tasks = list(humaneval_tasks().values())[:4]
    lines = []
    for task in tasks:
        body = (task.reference or "")[len(task.prompt) :]
        lines += [{"task_id": task.id, "completion": body}, {"task_id": task.id, "completion": "    return None\n"}]
    (tmp_path / "s.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    done = proctor("verify", "--samples", str(tmp_path / "s.jsonl"), "--verifiers", "tests", "--k", "1,2")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"pass@1": 0.5, "pass@2": 1.0}
    results = [json.loads(x) for x in (tmp_path / "s.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True, False] * 4 and results[1]["verdicts"][0]["verifier"] == "tests"


def test_a_malformed_samples_file_names_the_line(tmp_path):
    (tmp_path / "s.jsonl").write_text('{"task_id": "HumanEval/0", "completion": "x"}\n{"task_id": "HumanEval/0"}\n')
    done = proctor("verify", "--samples", str(tmp_path / "s.jsonl"))
    assert done.returncode == 2 and "s.jsonl:2: needs 'completion'" in done.stderr
