"""Acceptances a policy sends to a human pause the graph (LangGraph interrupt) and resume on the answer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proctor.errors import InputError
from proctor.loop import ScriptedProposer, build_graph, run_loop
from tests.loop.conftest import DOUBLE, GOOD, INC, entries


def test_every_acceptance_waits_for_a_human_and_the_run_does_not_end(pipeline, tmp_path):
    script = ScriptedProposer({"inc": [GOOD["inc"]], "double": [GOOD["double"]]})
    result = run_loop([INC, DOUBLE], script, pipeline, tmp_path / "a.ledger", run="r", state=tmp_path / "a.state", approval="accept")
    assert result.outcomes == {"inc": "awaiting approval", "double": "awaiting approval"} and not result.ended
    assert {p.task_id for p in result.pending} == {"inc", "double"}
    assert entries(tmp_path / "a.ledger", "r", "decision") == [] and entries(tmp_path / "a.ledger", "r", "run_end") == []
    request = result.pending[0].request
    assert request["claim"].startswith("pass") and request["verdict"].startswith("pass") and "def inc" in request["code"]


def test_an_approval_is_recorded_and_a_refusal_sends_the_proposer_back(pipeline, tmp_path):
    script = {"inc": [GOOD["inc"], GOOD["inc"]], "double": [GOOD["double"]]}
    ledger, state = tmp_path / "a.ledger", tmp_path / "a.state"
    first = run_loop([INC, DOUBLE], ScriptedProposer(script), pipeline, ledger, run="r", state=state, approval="accept")
    ids = {p.task_id: p.proposal_id for p in first.pending}
    answers = {ids["inc"]: {"approved": False, "by": "ada", "note": "prove it"}, ids["double"]: {"approved": True, "by": "ada"}}
    second = run_loop(
        [INC, DOUBLE], ScriptedProposer(script), pipeline, ledger, run="r", state=state, approval="accept", answers=answers
    )
    assert second.outcomes == {"inc": "awaiting approval", "double": "accepted"}
    retried = second.pending[0]
    assert retried.task_id == "inc" and retried.request["attempt"] == 2
    third = run_loop(
        [INC, DOUBLE],
        ScriptedProposer(script),
        pipeline,
        ledger,
        run="r",
        state=state,
        approval="accept",
        answers={retried.proposal_id: True},
    )
    assert third.outcomes == {"inc": "accepted", "double": "accepted"} and third.ended
    approvals = [(e.data["proposal_id"], e.data["approved"], e.data["by"]) for e in entries(ledger, "r", "approval")]
    assert approvals == [(ids["inc"], False, "ada"), (ids["double"], True, "ada"), (retried.proposal_id, True, "unknown")]
    decisions = [(e.data["proposal_id"], e.data["outcome"]) for e in entries(ledger, "r", "decision")]
    assert decisions == [(ids["inc"], "retry"), (ids["double"], "accept"), (retried.proposal_id, "accept")]
    refused = entries(ledger, "r", "decision")[0].data["reason"]
    assert refused == "refused by ada: prove it"


def test_the_disagree_policy_asks_only_when_claim_and_verdicts_differ(pipeline, tmp_path):
    script = ScriptedProposer({"inc": [GOOD["inc"]], "double": [GOOD["double"]]}, claims={"inc": ["fail"], "double": ["pass"]})
    result = run_loop([INC, DOUBLE], script, pipeline, tmp_path / "a.ledger", run="r", state=tmp_path / "a.state", approval="disagree")
    assert result.outcomes == {"inc": "awaiting approval", "double": "accepted"}


def test_a_malformed_answer_is_refused_by_name(pipeline, tmp_path):
    script = ScriptedProposer({"inc": [GOOD["inc"]]})
    first = run_loop([INC], script, pipeline, tmp_path / "a.ledger", run="r", state=tmp_path / "a.state", approval="accept")
    with pytest.raises(InputError, match="approval answer"):
        run_loop(
            [INC],
            script,
            pipeline,
            tmp_path / "a.ledger",
            run="r",
            state=tmp_path / "a.state",
            approval="accept",
            answers={first.pending[0].proposal_id: "yes"},
        )


def test_an_approval_policy_without_a_checkpointer_is_refused(pipeline, tmp_path):
    from proctor.ledger import Ledger, Recorder

    with Ledger(tmp_path / "a.ledger") as book, pytest.raises(InputError, match="checkpointer"):
        build_graph(ScriptedProposer({}), pipeline, Recorder(book), approval="accept")


def _proctor(*args, cwd):
    return subprocess.run([sys.executable, "-m", "proctor", *args], capture_output=True, text=True, cwd=cwd)


def test_proctor_approve_lists_and_answers_what_waits(tmp_path):
    ledger = str(tmp_path / "cli.ledger")
    done = _proctor(
        "run",
        "humaneval:HumanEval/0",
        "-p",
        "simulated:competence=1,seed=1",
        "--approval",
        "accept",
        "--ledger",
        ledger,
        "--run",
        "h",
        cwd=tmp_path,
    )
    assert done.returncode == 0 and "await approval" in done.stdout, done.stdout + done.stderr
    listed = _proctor("approve", ledger, cwd=tmp_path)
    assert listed.returncode == 0 and "HumanEval/0" in listed.stdout, listed.stdout + listed.stderr
    proposal = listed.stdout.split()[0]
    answered = _proctor("approve", ledger, proposal, "--yes", "--by", "grace", "--note", "checked", cwd=tmp_path)
    assert answered.returncode == 0, answered.stderr
    assert "nothing waits" in _proctor("approve", ledger, cwd=tmp_path).stdout
    shown = _proctor("ledger", "show", ledger, "--kind", "approval", "--json", cwd=tmp_path)
    approval = json.loads(shown.stdout.splitlines()[0])["data"]
    assert approval["approved"] is True and approval["by"] == "grace" and approval["note"] == "checked"
    ended = _proctor("ledger", "show", ledger, "--kind", "run_end", cwd=tmp_path)
    assert "run_end" in ended.stdout
    wrong = _proctor("approve", ledger, "ffff", "--yes", cwd=tmp_path)
    assert wrong.returncode == 2 and "no pending approval matches" in wrong.stderr
