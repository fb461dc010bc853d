"""The held-out oracle: recorded beside every cycle, never seen by the loop."""

from __future__ import annotations

from proctor.ledger import Ledger
from proctor.loop import ScriptedProposer, run_loop
from proctor.models import Proposal, Task, Verdict
from proctor.scenarios import HeldOut, loop_view, oracle_view
from tests.loop.conftest import BAD, GOOD, INC

HIDDEN = INC.model_copy(update={"metadata": {"hidden": {"cases": [{"args": [9], "expected": 10}]}}})


class _Refuses:
    """An oracle that fails everything and remembers what it was shown."""

    id, version = "refuses", "1"

    def __init__(self):
        self.seen = []

    def verify(self, task, proposal):
        self.seen.append(task)
        return Verdict(verifier=self.id, version=self.version, status="fail", proposal_id=proposal.id)


def test_the_oracle_is_recorded_but_never_decides_or_feeds_back(tmp_path, pipeline):
    oracle = _Refuses()
    proposer = ScriptedProposer({"inc": [BAD["inc"], GOOD["inc"]]})
    result = run_loop([INC], proposer, pipeline, tmp_path / "l.ledger", run="r", oracle=lambda task: oracle)
    assert result.outcomes == {"inc": "accepted"}  # the oracle failed both; the verifiers decided
    feedback = [call for call in proposer.calls if call[0] == "propose"][1][2]
    assert "refuses" not in feedback.text()
    with Ledger(tmp_path / "l.ledger", readonly=True) as book:
        recorded = [e.data["status"] for e in book.entries(kinds=["oracle_verdict"])]
    assert recorded == ["fail", "fail"]


def test_hidden_checks_go_to_the_oracle_view_only():
    seen = loop_view(HIDDEN)
    assert "hidden" not in seen.metadata and seen.cases == INC.cases
    judged = oracle_view(HIDDEN)
    assert [c.args for c in judged.cases] == [[9]] and judged.tests is None
    assert oracle_view(INC) is INC


def test_held_out_judges_on_the_oracle_view_whatever_view_it_is_handed():
    refuses = _Refuses()
    held = HeldOut([HIDDEN], lambda view: refuses)
    verdict = held(loop_view(HIDDEN)).verify(loop_view(HIDDEN), Proposal(task_id="inc", code=GOOD["inc"]))
    assert verdict.status == "fail" and verdict.verifier == "refuses"
    assert refuses.seen == [oracle_view(HIDDEN)]
    other = Task(id="other", entry_point="f")
    assert held(other).view is other


def test_every_shipped_task_reference_passes_its_visible_and_hidden_checks(pipeline):
    from proctor.scenarios import load_suite

    for name in ("real-model", "smt"):
        for task in load_suite(name).plan().tasks:
            if not task.reference or task.id.startswith("HumanEval"):
                continue
            proposal = Proposal(task_id=task.id, code=task.reference)
            for view in (loop_view(task), oracle_view(task)):
                verdict = pipeline(view).verify(view, proposal)
                assert verdict.status == "pass", (name, task.id, verdict.detail)
