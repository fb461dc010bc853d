"""``proctor run`` as a user runs it: the embedded default, JSON, one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_sandbox_cli import proctor


def test_the_default_run_needs_no_key_and_summarises_from_the_ledger(tmp_path):
    ledger = tmp_path / "default.ledger"
    done = proctor("run", "--limit", "4", "--ledger", str(ledger), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ended"] and len(report["outcomes"]) == 4 and report["pending"] == []
    assert report["audit"]["tasks"] == 4 and report["audit"]["proposals"] >= 4
    assert set(report["outcomes"].values()) <= {"accepted", "rejected"}
    assert proctor("audit", str(ledger)).returncode == 0


def test_the_table_names_the_run_and_how_to_audit_it(tmp_path):
    done = proctor("run", "humaneval:HumanEval/0", "--ledger", str(tmp_path / "t.ledger"), "--run", "named", "-r", "self")
    assert done.returncode == 0, done.stderr
    assert "run named:" in done.stdout and "proctor audit" in done.stdout and "claims' false-accept rate" in done.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--regime", "trust-me"], "--regime must be one of external, self, hybrid, none"),
        (["--approval", "sometimes"], "--approval must be one of"),
        (["-p", "oracle"], "unknown proposer 'oracle'"),
        (["-p", "simulated:competence=1.5"], "competence"),
        (["nowhere.jsonl"], "nowhere.jsonl"),
        (["--verifiers", "vibes"], "unknown verifier 'vibes'"),
        (["--sandbox", "local"], "--unsafe-local"),
        (["--resume", "nope"], "no such ledger"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, words):
    done = proctor("run", *args, "--ledger", str(tmp_path / "bad.ledger"), "--limit", "1")
    assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_ledger_in_a_missing_directory_is_named_before_any_work(tmp_path):
    done = proctor("run", "--limit", "1", "--ledger", str(tmp_path / "nope" / "r.ledger"))
    assert done.returncode == 2 and "no such directory" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "nope").exists()


def test_resuming_a_run_that_does_not_exist_names_the_runs_there(tmp_path):
    ledger = tmp_path / "r.ledger"
    assert proctor("run", "humaneval:HumanEval/0", "--ledger", str(ledger), "--run", "first").returncode == 0
    done = proctor("run", "--resume", "second", "--ledger", str(ledger))
    assert done.returncode == 2 and "no run 'second'" in done.stderr and "first" in done.stderr
    again = proctor("run", "--resume", "first", "--ledger", str(ledger))
    assert again.returncode == 2 and "already ended" in again.stderr
