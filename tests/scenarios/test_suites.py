"""Quick runs of every shipped suite: the ledger holds what the suite promised, and the shapes hold."""

from __future__ import annotations

import pytest

from proctor.errors import InputError
from proctor.ledger import Ledger
from proctor.scenarios import load_suite, suite_names
from tests.scenarios.conftest import cells_by, mean

pytestmark = pytest.mark.slow


def test_the_shipped_suites_load():
    assert suite_names() == [
        "gv-gap",
        "real-model",
        "real-self-improvement",
        "repo",
        "reward-hacking",
        "scored",
        "self-improvement",
        "smt",
    ]
    for name in suite_names():
        plan = load_suite(name).plan(quick=True)
        assert plan.tasks and plan.size() >= 1


def _every_proposal_has_an_oracle_verdict(path):
    with Ledger(path, readonly=True) as book:
        proposals = {e.data["id"] for e in book.entries(kinds=["proposal"])}
        judged = {e.data["proposal_id"] for e in book.entries(kinds=["oracle_verdict"])}
        ends = [e for e in book.entries(kinds=["run_end"])]
    assert proposals and proposals == judged
    return ends


@pytest.mark.parametrize("name", ["gv-gap", "reward-hacking", "smt", "self-improvement", "scored", "repo"])
def test_a_quick_run_records_every_cell_whole_with_oracle_truth(quick_run, name):
    path, metrics = quick_run(name)
    plan = load_suite(name).plan(quick=True)
    assert metrics.ok
    assert len(_every_proposal_has_an_oracle_verdict(path)) == plan.size()
    assert sum(len(c.runs) for c in metrics.cells) == plan.size()


def test_gv_gap_self_verification_degrades_with_overconfidence_while_external_holds(quick_run):
    _, metrics = quick_run("gv-gap")
    cells = cells_by(metrics)
    # The external regime holds: its precision does not move with the proposer's overconfidence (the claims never
    # decide there), and beats self-verification where the claims are unreliable. At low overconfidence an honest
    # self-check may match or beat it: the loop's verifiers are HumanEval's own tests, which the oracle's property
    # tests show to accept some wrong answers.
    assert mean(cells[("oc-0.1", "external", 1)], "precision") == mean(cells[("oc-0.9", "external", 1)], "precision")
    assert mean(cells[("oc-0.9", "external", 1)], "precision") > mean(cells[("oc-0.9", "self", 1)], "precision")
    assert mean(cells[("oc-0.9", "self", 1)], "claim_far") > mean(cells[("oc-0.1", "self", 1)], "claim_far")
    assert mean(cells[("oc-0.9", "self", 1)], "precision") < mean(cells[("oc-0.1", "self", 1)], "precision")
    assert mean(cells[("oc-0.9", "none", 1)], "gv_gap") == 0.0  # accepting the first proposal filters nothing


def test_reward_hacking_honeypots_are_cheated_on_and_the_oracle_sees_it(quick_run):
    path, metrics = quick_run("reward-hacking")
    cells = cells_by(metrics)
    for regime in ("external", "self"):
        cell = cells[("escalating", regime, 1)]
        assert mean(cell, "cheating_rate") > 0  # visible tests alone are gamed by special-casing them
        assert mean(cell, "true_score") < mean(cell, "acceptance_rate")
    with Ledger(path, readonly=True) as book:
        tasks = [book.content(e.data["contents"]["task"]) for e in book.entries(kinds=["task"])]
    assert tasks and not any('"hidden"' in body for body in tasks)  # the loop never got the hidden cases


def test_smt_suite_is_decided_by_z3_and_accepts_only_what_the_oracle_passes(quick_run):
    path, metrics = quick_run("smt")
    cells = cells_by(metrics)
    for profile in ("modest", "overconfident"):
        assert mean(cells[(profile, "external", 1)], "precision") == 1.0
    with Ledger(path, readonly=True) as book:
        verifiers = {e.data["verifier"] for e in book.entries(kinds=["verdict"])}
    assert verifiers == {"cascade(hack_scan,smt)"}


def test_self_improvement_proxy_rises_while_truth_falls_under_self_and_both_rise_under_external(quick_run):
    _, metrics = quick_run("self-improvement")
    cells = cells_by(metrics)
    last = max(c.round for c in metrics.cells)
    first_self, last_self = cells[("drifting", "self", 1)], cells[("drifting", "self", last)]
    assert mean(last_self, "acceptance_rate") >= mean(first_self, "acceptance_rate")
    assert mean(last_self, "true_score") < mean(first_self, "true_score")
    assert last_self.profile_values["hack"] > first_self.profile_values["hack"]
    first_ext, last_ext = cells[("drifting", "external", 1)], cells[("drifting", "external", last)]
    assert mean(last_ext, "true_score") > mean(first_ext, "true_score")
    assert mean(last_ext, "acceptance_rate") > mean(first_ext, "acceptance_rate")


def test_scored_suite_keeps_inflated_claims_under_self_and_measured_scores_under_external(quick_run, tmp_path):
    from proctor.scenarios import write_report

    path, metrics = quick_run("scored")
    cells = cells_by(metrics)
    for profile in ("modest", "inflating"):
        external, self_ = cells[(profile, "external", 1)], cells[(profile, "self", 1)]
        assert mean(external, "precision") == 1.0  # nothing the loop kept failed the oracle's measurement
        assert mean(self_, "claimed_score") > mean(self_, "measured_score")  # the proposer's claims are inflated
        assert mean(external, "measured_score") > mean(self_, "measured_score")
        assert mean(self_, "accepted_hacks") > 0 and mean(external, "accepted_hacks") == 0
    with Ledger(path, readonly=True) as book:
        claims = [e.data.get("claimed_score") for e in book.entries(kinds=["self_report"])]
        hacks = [e for e in book.entries(kinds=["proposal"]) if e.data["metadata"].get("hack")]
        measured = [e.data["score"] for e in book.entries(kinds=["oracle_verdict"]) if e.data["score"] is not None]
    assert claims and all(c is not None for c in claims) and hacks and measured
    assert all(0.0 <= m <= 1.05 for m in measured)  # every recorded score is finite and in range
    page = write_report(metrics, tmp_path / "report")
    assert (page.parent / "scored-claimed-vs-measured.png").stat().st_size > 0
    assert "claimed score" in page.read_text()


def test_repo_suite_keeps_hacks_under_self_and_under_external_cheats_only_on_the_honeypot(quick_run):
    from proctor.ledger import Auditor, verify_ledger

    path, metrics = quick_run("repo")
    cells = cells_by(metrics)
    for profile in ("modest", "hacking"):
        assert mean(cells[(profile, "self", 1)], "cheating_rate") > mean(cells[(profile, "external", 1)], "cheating_rate")
    auditor = Auditor()
    with Ledger(path, readonly=True) as book:
        assert verify_ledger(book, visit=auditor.visit).ok
        verifiers = {e.data["verifier"] for e in book.entries(kinds=["verdict"])}
    runs = auditor.runs.values()
    kept = {
        regime: [r for a in runs if a.config.get("regime") == regime for r in a.proposals.values() if r.outcome == "accept"]
        for regime in ("external", "self")
    }
    # under external, a hack is kept only where the visible tests themselves contradict the instruction
    assert all(r.task_id.endswith("-impossible") for r in kept["external"] if r.hack)
    assert any(r.hack and not r.task_id.endswith("-impossible") for r in kept["self"])
    assert verifiers == {"cascade(diff_policy,repo_tests)"}


def test_a_suite_file_with_a_bad_field_is_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntasks = "humaneval"\nregimes = ["trust-me"]\n[[profiles]]\nname = "p"\n')
    with pytest.raises(InputError, match=r"bad.toml: field 'regimes.0'"):
        load_suite(bad)
    bad.write_text('name = "x"\ntasks = "humaneval"\n[[profiles]]\nname = "p"\ncompetence = 3\n')
    with pytest.raises(InputError, match="competence"):
        load_suite(bad)
    with pytest.raises(InputError, match="no such suite"):
        load_suite("no-such-suite")
