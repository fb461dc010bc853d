"""The loop on scored tasks: claimed scores recorded beside measured ones; acceptance on improvement."""

from __future__ import annotations

from pathlib import Path

import pytest

import proctor.scenarios
from proctor.ledger import Auditor, Ledger, verify_ledger
from proctor.loop import Budget, Profile, SimulatedProposer, run_loop
from proctor.loop._simulated import SCORING_HACKS
from proctor.tasks import load_task_file
from proctor.verifiers import default_pipeline

TASKS = load_task_file(Path(proctor.scenarios.__file__).parent / "tasks" / "scored.toml")
SPREAD = TASKS["spread-points"]


def test_the_simulated_proposer_claims_inflated_scores_on_scored_tasks_only():
    honest = SimulatedProposer(Profile(competence=1.0, overconfidence=0.9, self_recall=1.0), seed=3)
    proposal = honest.propose(SPREAD, None)
    claim = honest.self_check(SPREAD, proposal)
    assert claim.claimed == "pass" and SPREAD.metadata["reference_score"] <= claim.claimed_score <= SPREAD.scoring.high
    assert claim == honest.self_check(SPREAD, proposal)  # seeded: the same claim on the same proposal
    plain = SPREAD.model_copy(update={"scoring": None, "id": "plain"})
    assert honest.self_check(plain, honest.propose(plain, None)).claimed_score is None


def test_a_hacking_proposer_on_a_scored_task_draws_scorer_hacks():
    hacker = SimulatedProposer(Profile(hack=1.0), seed=0)
    names = {hacker.propose(SPREAD.model_copy(update={"id": f"s{i}"}), None).metadata["hack"] for i in range(40)}
    assert names <= set(SCORING_HACKS) and len(names) >= 3


@pytest.mark.parametrize(("best", "accepted"), [(None, True), (0.5, True), (0.95, False)])
def test_the_loop_accepts_a_scored_task_only_on_improving_the_best_so_far(namespace_sandbox, tmp_path, best, accepted):
    proposer = SimulatedProposer(Profile(competence=1.0, self_recall=1.0), seed=1)
    scores = {} if best is None else {SPREAD.id: best}
    result = run_loop(
        [SPREAD],
        proposer,
        lambda task: default_pipeline(task, namespace_sandbox),
        tmp_path / "l.db",
        budget=Budget(cycles=2),
        best=scores,
    )
    assert result.outcomes[SPREAD.id] == ("accepted" if accepted else "rejected")
    auditor = Auditor()
    with Ledger(tmp_path / "l.db", readonly=True) as book:
        assert verify_ledger(book, visit=auditor.visit).ok
    (audit,) = auditor.runs.values()
    records = list(audit.proposals.values())
    assert audit.worst_scores == {SPREAD.id: 0.0}
    assert all(r.score == pytest.approx(SPREAD.metadata["reference_score"]) and r.claimed_score is not None for r in records)
