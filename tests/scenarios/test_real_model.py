"""The real-model suite's quick run: a real model, the real server, every regime, and its report.

Needs the local-llm extra (``.ci/run`` installs it); skipped, naming it, where it is missing.
"""

from __future__ import annotations

import pytest

from proctor.ledger import Ledger
from proctor.scenarios import ledger_metrics, load_suite, run_suite, write_report
from tests.loop.test_llama import needs_extra

pytestmark = [pytest.mark.slow, needs_extra]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("real") / "real-model.ledger"
    run_suite(load_suite("real-model"), path, quick=True, workers=1)
    return path, ledger_metrics(path)


def test_every_regime_and_both_self_checks_are_recorded_for_the_real_model(real_run):
    path, metrics = real_run
    plan = load_suite("real-model").plan(quick=True)
    assert metrics.ok and sum(len(c.runs) for c in metrics.cells) == plan.size() == 8
    assert {(c.profile, c.regime) for c in metrics.cells} == {
        (p, r) for p in ("gemma-asked", "gemma-own-tests") for r in ("external", "hybrid", "self", "none")
    }
    methods = {c.profile: c.methods() for c in metrics.cells if c.methods()}
    assert methods.get("gemma-asked") == ["asked"] and methods.get("gemma-own-tests") == ["own_tests"]
    with Ledger(path, readonly=True) as book:
        starts = [e.data for e in book.entries(kinds=["run_start"])]
        judged = {e.data["proposal_id"] for e in book.entries(kinds=["oracle_verdict"])}
        proposed = {e.data["id"] for e in book.entries(kinds=["proposal"])}
    # the spec's {seed} became the run's seed, and the oracle judged every real proposal
    assert {s["config"]["scenario"]["proposer_spec"].split("seed=")[1].split(",")[0] for s in starts} == {"0"}
    assert proposed and proposed == judged


def test_the_regimes_of_one_seed_judge_the_same_first_proposals(real_run):
    path, _ = real_run
    with Ledger(path, readonly=True) as book:
        first = [e for e in book.entries(kinds=["proposal"]) if e.data["attempt"] == 1]
        codes = {}
        for entry in first:
            codes.setdefault(entry.data["task_id"], set()).add(entry.data["contents"]["code"])
    assert codes and all(len(digests) == 1 for digests in codes.values())


def test_the_report_shows_the_self_check_table_and_the_confusion_matrices(real_run, tmp_path):
    _, metrics = real_run
    page = write_report(metrics, tmp_path / "report")
    text = page.read_text()
    assert "real-model-confusion.png" in text and "<h3>Self-check</h3>" in text
    table = text.split("class='self-check'>")[1].split("</table>")[0]
    assert "gemma-asked</td><td>asked" in table and "gemma-own-tests</td><td>own_tests" in table
