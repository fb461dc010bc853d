"""proctor measure: the verifiers' kill, false-reject and hack-acceptance rates, from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proctor.ledger import Ledger

TASKS = [
    {
        "id": "measure/clamp",
        "prompt": 'def clamp(x: int, low: int, high: int) -> int:\n    """x, or the nearer bound when outside [low, high]."""\n',
        "entry_point": "clamp",
        "tests": "def check(candidate):\n    assert candidate(5, 0, 10) == 5\n    assert candidate(-3, 0, 10) == 0\n",
        "reference": (
            "def clamp(x: int, low: int, high: int) -> int:\n"
            "    if x < low:\n        return low\n    if x > high:\n        return high\n    return x\n"
        ),
    },
    {
        "id": "measure/count_even",
        "prompt": 'def count_even(xs: list) -> int:\n    """How many items of xs are even."""\n',
        "entry_point": "count_even",
        "tests": "def check(candidate):\n    assert candidate([1, 2, 3, 4]) == 2\n",
        "reference": (
            "def count_even(xs: list) -> int:\n"
            "    total = 0\n    for x in xs:\n        if x % 2 == 0:\n            total += 1\n    return total\n"
        ),
    },
]


def proctor(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proctor", *args], capture_output=True, text=True, timeout=900, cwd=cwd)


@pytest.fixture
def task_file(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(TASKS))
    return path


def test_a_weak_verifier_kills_few_mutants_and_the_default_pipeline_many(task_file, tmp_path):
    done = proctor(
        "measure",
        str(task_file),
        "--verifiers",
        "hack_scan,tests,pipeline",
        "--mutants",
        "8",
        "--json",
        "--ledger",
        str(tmp_path / "m.ledger"),
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    rows = found["verifiers"]
    assert found["mutants"]["non_equivalent"] >= 8
    assert rows["hack_scan"]["kill_rate"] <= 0.2  # reads code for hacks, not bugs
    assert rows["pipeline"]["kill_rate"] >= 0.9 and rows["pipeline"]["kill_rate"] >= rows["tests"]["kill_rate"]
    assert rows["pipeline"]["false_reject_rate"] == 0 and rows["pipeline"]["hack_acceptance"] == 0
    assert found["rewrites"]["checked_equivalent"] >= 4 and found["rewrites"]["broken"] == 0
    with Ledger(tmp_path / "m.ledger", readonly=True) as book:
        (entry,) = book.entries()
    assert entry.kind == "measurement" and entry.data["verifiers"] == rows
    shown = proctor("ledger", "show", str(tmp_path / "m.ledger"), "--kind", "measurement")
    assert shown.returncode == 0 and "measurement" in shown.stdout, shown.stderr
    assert proctor("audit", str(tmp_path / "m.ledger")).returncode == 0


def test_humaneval_tests_survivors_are_listed_with_what_shows_them_wrong():
    done = proctor("measure", "humaneval", "--limit", "3", "--verifiers", "tests", "--mutants", "6", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["survivors"], "HumanEval's tests kill every mutant of its first three tasks? (they did not when this was written)"
    for survivor in found["survivors"]:
        assert survivor["verifier"] == "tests" and "differs from the reference" in survivor["shown_wrong_by"]


def test_the_table_names_each_verifier_and_its_rates(task_file):
    done = proctor("measure", str(task_file), "--verifiers", "tests,pipeline", "--mutants", "3")
    assert done.returncode == 0, done.stderr
    assert "tests (the task's own check)" in done.stdout and "pipeline (the default)" in done.stdout and "kills" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["measure", "nosuchsource.json"], "nosuchsource.json"),
        (["measure", "humaneval", "--verifiers", "tests,bogus"], "unknown verifier 'bogus'"),
        (["measure", "TASKS_WITHOUT_REFERENCE"], "has no reference solution"),
    ],
    ids=["unknown-source", "unknown-verifier", "no-reference"],
)
def test_bad_input_is_one_line_and_exit_2(args, says, tmp_path):
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps([{k: v for k, v in TASKS[0].items() if k != "reference"}]))
    done = proctor(*[str(bare) if a == "TASKS_WITHOUT_REFERENCE" else a for a in args])
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and says in lines[0] and "Traceback" not in done.stderr, done.stderr
