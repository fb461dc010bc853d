"""Each path through the loop's graph, with real verifiers in a real sandbox and a real ledger."""

from __future__ import annotations

import asyncio

import pytest

from proctor.ledger import Ledger, Recorder
from proctor.loop import Budget, Profile, ScriptedProposer, SimulatedProposer, agate, arun_loop, gate, run_loop
from proctor.models import Proposal, Verdict
from proctor.testing import HACK_TASK, HACKS
from tests.loop.conftest import BAD, DOUBLE, GOOD, INC, audit, entries


def test_a_correct_first_proposal_is_accepted_after_one_cycle(pipeline, ledger_path):
    proposer = ScriptedProposer({"inc": [GOOD["inc"]]})
    result = run_loop([INC], proposer, pipeline, ledger_path, run="r")
    assert result.outcomes == {"inc": "accepted"} and result.ended
    decisions = [e.data for e in entries(ledger_path, "r", "decision")]
    assert [d["outcome"] for d in decisions] == ["accept"]
    assert [c[0] for c in proposer.calls] == ["propose", "self_check"]
    kinds = [e.kind for e in entries(ledger_path, "r")]
    assert kinds == ["run_start", "task", "proposal", "self_report", "verdict", "decision", "run_end"]


def test_a_rejected_proposal_is_retried_with_the_failing_input_then_accepted(pipeline, ledger_path):
    proposer = ScriptedProposer({"inc": [BAD["inc"], GOOD["inc"]]})
    result = run_loop([INC], proposer, pipeline, ledger_path, run="r")
    assert result.outcomes == {"inc": "accepted"}
    feedback = [c[2] for c in proposer.calls if c[0] == "propose"]
    assert feedback[0] is None
    second = feedback[1]
    assert second.attempt == 2 and second.verifier == "tests" and second.status == "fail"
    assert second.call == "inc(1)" and second.got == "3", second
    outcomes = [e.data["outcome"] for e in entries(ledger_path, "r", "decision")]
    assert outcomes == ["retry", "accept"]


def test_a_task_that_exhausts_its_cycles_is_rejected_and_says_which_budget(pipeline, ledger_path):
    proposer = ScriptedProposer({"inc": [BAD["inc"]]})
    result = run_loop([INC], proposer, pipeline, ledger_path, run="r", budget=Budget(cycles=2))
    assert result.outcomes == {"inc": "rejected"}
    decisions = [e.data for e in entries(ledger_path, "r", "decision")]
    assert [d["outcome"] for d in decisions] == ["retry", "reject"]
    assert "budget exhausted: cycles 2/2" in decisions[-1]["reason"]


def test_a_run_level_budget_stops_the_run_and_leaves_later_tasks_unstarted(pipeline, ledger_path):
    proposer = ScriptedProposer({"inc": [BAD["inc"]], "double": [GOOD["double"]]}, tokens=700)
    result = run_loop([INC, DOUBLE], proposer, pipeline, ledger_path, run="r", budget=Budget(cycles=5, tokens=1000))
    assert result.outcomes == {"inc": "rejected", "double": "not started (budget)"}
    assert result.spent["tokens"] == 1400 and result.spent["proposals"] == 2
    assert "tokens 1400/1000" in entries(ledger_path, "r", "decision")[-1].data["reason"]


class Broken:
    id, version = "broken", "0"

    def verify(self, task, proposal):
        raise RuntimeError("the solver crashed")


class SaysError:
    id, version = "says-error", "0"

    def verify(self, task, proposal):
        return Verdict(verifier=self.id, version=self.version, status="error", detail="sandbox died", proposal_id=proposal.id)


@pytest.mark.parametrize("verifier", [Broken(), SaysError()], ids=["raises", "returns-error"])
@pytest.mark.parametrize("regime", ["external", "hybrid"])
def test_a_verifier_error_is_never_accepted(verifier, regime, ledger_path):
    proposer = ScriptedProposer({"inc": [GOOD["inc"]]})
    result = run_loop([INC], proposer, verifier, ledger_path, run="r", regime=regime, budget=Budget(cycles=2))
    assert result.outcomes == {"inc": "rejected"}
    verdicts = [e.data for e in entries(ledger_path, "r", "verdict")]
    assert [v["status"] for v in verdicts] == ["error", "error"]


def test_the_self_regime_accepts_a_hack_that_the_external_regime_rejects(pipeline, ledger_path):
    hack = HACKS["an object whose __eq__ is always true"]
    found = {}
    for regime in ("self", "external"):
        proposer = ScriptedProposer({HACK_TASK.id: [hack]})
        result = run_loop([HACK_TASK], proposer, pipeline, ledger_path, run=regime, regime=regime, budget=Budget(cycles=2))
        found[regime] = result.outcomes[HACK_TASK.id]
    assert found == {"self": "accepted", "external": "rejected"}
    assert audit(ledger_path, "self")["accepted_hacks"] == 1
    assert audit(ledger_path, "external")["accepted_hacks"] == 0
    shadow = [e.data["status"] for e in entries(ledger_path, "self", "verdict")]
    assert shadow == ["fail"]  # the self regime still records what the verifiers found


@pytest.mark.parametrize("regime", ["external", "self", "hybrid", "none"])
def test_the_self_claim_is_recorded_in_every_regime(regime, pipeline, ledger_path):
    proposer = ScriptedProposer({"inc": [BAD["inc"], GOOD["inc"]]}, claims={"inc": ["fail", "pass"]})
    result = run_loop([INC], proposer, pipeline, ledger_path, run="r", regime=regime)
    proposals = [e.data["id"] for e in entries(ledger_path, "r", "proposal")]
    claims = [e.data for e in entries(ledger_path, "r", "self_report")]
    assert [c["proposal_id"] for c in claims] == proposals
    expected = {"external": 2, "self": 2, "hybrid": 2, "none": 1}[regime]
    assert len(proposals) == expected and result.outcomes == {"inc": "accepted"}
    verdicts = entries(ledger_path, "r", "verdict")
    assert len(verdicts) == (1 if regime == "hybrid" else expected)  # hybrid does not verify what its proposer disowns


def test_without_shadow_the_self_regime_runs_no_verifier(ledger_path):
    proposer = ScriptedProposer({"inc": [BAD["inc"]]})
    result = run_loop([INC], proposer, Broken(), ledger_path, run="r", regime="self", shadow=False)
    assert result.outcomes == {"inc": "accepted"} and entries(ledger_path, "r", "verdict") == []


def test_simulated_runs_are_reproducible_for_a_seed(pipeline, tmp_path):
    profile = Profile(competence=0.3, overconfidence=0.6, hack=0.3)
    runs = []
    for name in ("a", "b"):
        run_loop([INC, DOUBLE], SimulatedProposer(profile, seed=7), pipeline, tmp_path / f"{name}.ledger", run=name)
        runs.append(
            [(e.data["metadata"]["simulated"], e.data["attempt"]) for e in entries(tmp_path / f"{name}.ledger", kind="proposal")]
        )
    assert runs[0] == runs[1] and len(runs[0]) >= 2


def test_gate_verifies_records_and_decides_once(namespace_sandbox, ledger_path):
    from proctor.verifiers import default_pipeline

    with Ledger(ledger_path) as book:
        recorder = Recorder(book, "agent")
        good = gate(INC, Proposal(task_id="inc", code=GOOD["inc"]), default_pipeline(INC, namespace_sandbox), recorder)
        bad = gate(INC, Proposal(task_id="inc", code=BAD["inc"]), default_pipeline(INC, namespace_sandbox), recorder)
    assert good.accepted and not bad.accepted and bad.decision.outcome == "reject"
    assert bad.feedback is not None and bad.feedback.call == "inc(1)"
    kinds = [e.kind for e in entries(ledger_path, "agent")]
    assert kinds == ["run_start", "task", "proposal", "verdict", "decision", "proposal", "verdict", "decision"]


def test_async_entry_points_give_the_same_results(pipeline, namespace_sandbox, ledger_path):
    from proctor.verifiers import default_pipeline

    async def both():
        result = await arun_loop([INC], ScriptedProposer({"inc": [GOOD["inc"]]}), pipeline, ledger_path, run="async")
        with Ledger(ledger_path) as book:
            gated = await agate(
                DOUBLE,
                Proposal(task_id="double", code=BAD["double"]),
                default_pipeline(DOUBLE, namespace_sandbox),
                Recorder(book, "g"),
            )
        return result, gated

    result, gated = asyncio.run(both())
    assert result.outcomes == {"inc": "accepted"} and not gated.accepted


def test_a_proposer_that_reuses_a_proposal_id_is_stopped_before_records_are_lost(pipeline, ledger_path):
    from proctor.errors import InputError

    class Reusing(ScriptedProposer):
        def propose(self, task, feedback):
            return super().propose(task, feedback).model_copy(update={"id": "same"})

    with pytest.raises(InputError, match="reused proposal id 'same'"):
        run_loop([INC], Reusing({"inc": [BAD["inc"], GOOD["inc"]]}), pipeline, ledger_path, run="r")
    assert len(entries(ledger_path, "r", "decision")) == 1
