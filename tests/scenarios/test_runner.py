"""The runner: the same results in this process, in a process pool and on a Ray cluster; resumable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from proctor.errors import InputError
from proctor.scenarios import ledger_metrics, load_suite, run_suite

DATA = Path(__file__).with_name("data")
SUITE = load_suite(DATA / "rounds.toml")
pytestmark = pytest.mark.slow


def _results(path):
    return [cell.as_dict() for cell in ledger_metrics(path).cells]


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "rounds.ledger"
    run_suite(SUITE, path, workers=2)
    return path


def test_a_suite_gives_the_same_results_in_process_and_in_a_process_pool(tmp_path, pooled):
    alone = tmp_path / "alone.ledger"
    run_suite(SUITE, alone, workers=1)
    assert _results(alone) == _results(pooled)
    assert len(_results(pooled)) == 4  # 2 regimes × 2 rounds, each over 2 seeds


def test_round_two_starts_from_what_round_one_accepted(pooled):
    cells = {(c["regime"], c["round"]): c for c in _results(pooled)}
    assert cells[("self", 2)]["profile_values"] != cells[("self", 1)]["profile_values"]
    assert cells[("self", 2)]["profile_values"]["hack"] > cells[("external", 2)]["profile_values"]["hack"]


def test_an_interrupted_suite_continues_from_its_ledger_and_ends_the_same(tmp_path, pooled):
    path = tmp_path / "resumed.ledger"
    seen = []

    def stop_after_three(cell, events):
        seen.append(cell.run)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_suite(SUITE, path, workers=2, on_run=stop_after_three)
    again = run_suite(SUITE, path, workers=2)
    assert sorted(again.skipped) == sorted(seen)
    assert len(again.executed) == SUITE.plan().size() - 3
    assert _results(path) == _results(pooled)
    assert run_suite(SUITE, path, workers=1).executed == []  # done: nothing runs twice


def test_a_ledger_holding_another_version_of_the_suite_is_refused(tmp_path, pooled):
    copy = tmp_path / "copy.ledger"
    shutil.copy(pooled, copy)
    changed = SUITE.model_copy(update={"cycles": 3})
    with pytest.raises(InputError, match="another version of suite 'rounds'"):
        run_suite(changed, copy, workers=1)


def test_a_suite_gives_the_same_results_on_a_ray_cluster(tmp_path, pooled, ray_cluster):
    path = tmp_path / "ray.ledger"
    run_suite(SUITE, path, ray=ray_cluster)
    assert _results(path) == _results(pooled)


def test_a_suite_that_asks_for_one_worker_runs_in_this_process_unless_told_otherwise(tmp_path, pooled, monkeypatch):
    from proctor.scenarios import _runner

    monkeypatch.setattr(_runner, "_WORKER", None)  # set only by runs executed in this process
    single = SUITE.model_copy(update={"workers": 1})
    assert single.plan().digest == SUITE.plan().digest  # a scheduling hint, not part of what the results depend on
    run_suite(single, tmp_path / "single.ledger")
    assert _runner._WORKER is not None
    assert _results(tmp_path / "single.ledger") == _results(pooled)
