"""``proctor scenarios`` and ``proctor report`` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from proctor.ledger import Ledger
from tests.cli.test_sandbox_cli import proctor

DATA = Path(__file__).parents[1] / "scenarios" / "data"


def test_list_names_every_shipped_suite_with_its_size():
    done = proctor("scenarios", "list")
    assert done.returncode == 0, done.stderr
    for name in ("gv-gap", "real-model", "reward-hacking", "smt", "self-improvement"):
        assert name in done.stdout
    assert "quick" in done.stdout


def test_show_explains_a_suite():
    done = proctor("scenarios", "show", "reward-hacking")
    assert done.returncode == 0, done.stderr
    assert "held-out oracle: hack_scan, tests, properties" in done.stdout and "profile escalating" in done.stdout


@pytest.mark.slow
def test_run_writes_the_ledger_named_after_the_suite_then_reports(tmp_path):
    suite = tmp_path / "rounds.toml"
    shutil.copy(DATA / "rounds.toml", suite)
    shutil.copy(DATA / "linear.toml", tmp_path / "linear.toml")
    done = proctor("scenarios", "run", str(suite), "--workers", "2", "--json", "--report", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "rounds.ledger").exists() and (tmp_path / "out" / "index.html").exists()
    cells = json.loads(done.stdout)["cells"]
    assert {(c["regime"], c["round"]) for c in cells} == {("self", 1), ("self", 2), ("external", 1), ("external", 2)}
    again = proctor("scenarios", "run", str(suite), "--workers", "1", "--measure-verifiers", cwd=tmp_path)
    assert again.returncode == 0 and "0 run(s) done now, 8 already in the ledger" in again.stderr
    assert "drifting" in again.stdout and "GV-gap" in again.stdout
    assert "verifiers' measured kill rates on mutants of these tasks:" in again.stdout and "pipeline 100%" in again.stdout
    report = proctor("report", "rounds.ledger", "-o", "again", cwd=tmp_path)
    assert report.returncode == 0 and (tmp_path / "again" / "rounds-degradation.png").exists()
    page = (tmp_path / "again" / "index.html").read_text()
    assert "How far the verifiers can be trusted" in page and "mutants killed" in page
    rates = json.loads((tmp_path / "again" / "metrics.json").read_text())["verifier_rates"]["verifiers"]
    assert rates["pipeline"]["kill_rate"] >= 0.9 and rates["pipeline"]["false_reject_rate"] == 0
    third = proctor("scenarios", "run", str(suite), "--workers", "1", "--measure-verifiers", cwd=tmp_path)
    assert third.returncode == 0 and "measuring the verifiers" not in third.stderr  # measured once, kept in the ledger
    with Ledger(tmp_path / "rounds.ledger", readonly=True) as book:
        assert len(list(book.entries(kinds=["measurement"]))) == 1


@pytest.mark.parametrize(
    ("args", "words", "code"),
    [
        (["scenarios", "run", "no-such-suite"], "no such suite", 2),
        (["scenarios", "run", "smt", "--sandbox", "local"], "--unsafe-local", 2),
        (["scenarios", "show", "nowhere.toml"], "nowhere.toml", 2),
        (["report", "missing.ledger", "-o", "out"], "no such ledger", 2),
        (["report", "missing.ledger"], "-o DIR", 2),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, words, code):
    done = proctor(*args, cwd=tmp_path)
    assert done.returncode == code and words in done.stderr and "Traceback" not in done.stderr


def test_a_suite_whose_model_file_is_missing_fails_in_one_line_and_records_nothing(tmp_path):
    suite = tmp_path / "local.toml"
    suite.write_text(
        'name = "local"\ntasks = "humaneval:HumanEval/53"\nregimes = ["external"]\nseeds = [0]\n'
        '[[profiles]]\nname = "mine"\nproposer = "llama:model=missing.gguf,seed={seed}"\n'
    )
    done = proctor("scenarios", "run", str(suite), "--workers", "1", cwd=tmp_path)
    assert done.returncode == 2 and "no such model file" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2  # the suite's header line, then the error
    with Ledger(tmp_path / "local.ledger", readonly=True) as book:
        assert list(book.entries()) == []
