"""A run that dies midway resumes where it stopped and records nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from proctor.errors import InputError
from proctor.loop import ScriptedProposer, run_loop
from tests.loop.conftest import BAD, DOUBLE, GOOD, INC, entries


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing on the way catches it."""


class CrashingOnce(ScriptedProposer):
    def __init__(self, *args, crash_at, **kwargs):
        super().__init__(*args, **kwargs)
        self.crash_at = crash_at

    def self_check(self, task, proposal):
        if (task.id, proposal.attempt) == self.crash_at:
            self.crash_at = None
            raise Crash
        return super().self_check(task, proposal)


def _cycle_facts(path, run):
    return [(e.kind, e.data.get("task_id"), e.data.get("attempt"), e.data.get("outcome")) for e in entries(path, run)]


def test_a_crash_mid_cycle_resumes_with_the_same_proposal(pipeline, tmp_path):
    ledger, state = tmp_path / "l.ledger", tmp_path / "l.state"
    script = {"inc": [BAD["inc"], GOOD["inc"]], "double": [GOOD["double"]]}
    crashing = CrashingOnce(script, crash_at=("inc", 2))
    with pytest.raises(Crash):
        run_loop([INC, DOUBLE], crashing, pipeline, ledger, run="r", state=state)
    proposed_before = [c for c in crashing.calls if c[0] == "propose"]
    assert len(proposed_before) == 2 and entries(ledger, "r", "run_end") == []

    fresh = ScriptedProposer(script)
    result = run_loop([INC, DOUBLE], fresh, pipeline, ledger, run="r", state=state)
    assert result.outcomes == {"inc": "accepted", "double": "accepted"} and result.ended
    assert [c[:2] for c in fresh.calls] == [("self_check", "inc"), ("propose", "double"), ("self_check", "double")]
    ids = [e.id for e in entries(ledger, "r")]
    assert len(ids) == len(set(ids))
    per_proposal = Counter(e.data["proposal_id"] for e in entries(ledger, "r", "decision"))
    assert sorted(per_proposal.values()) == [1, 1, 1]

    clean = tmp_path / "clean.ledger"
    run_loop([INC, DOUBLE], ScriptedProposer(script), pipeline, clean, run="r")
    assert _cycle_facts(ledger, "r") == _cycle_facts(clean, "r")


def test_an_ended_run_cannot_be_resumed_into_the_ledger_again(pipeline, tmp_path):
    ledger = tmp_path / "l.ledger"
    run_loop([INC], ScriptedProposer({"inc": [GOOD["inc"]]}), pipeline, ledger, run="r")
    with pytest.raises(InputError, match="already ended"):
        run_loop([INC], ScriptedProposer({"inc": [GOOD["inc"]]}), pipeline, ledger, run="r")


def _decisions(path, run):
    return [(e.data["proposal_id"], e.data["outcome"]) for e in entries(path, run, "decision")]


def _by_attempt(path, run):
    proposals = {
        e.data["id"]: (e.data["task_id"], e.data["attempt"], e.data["metadata"]["simulated"]) for e in entries(path, run, "proposal")
    }
    return sorted((proposals[pid], outcome) for pid, outcome in _decisions(path, run))


def _decided(path):
    try:
        return len(_decisions(path, "k"))
    except InputError:  # not created yet, or created but its schema not yet written
        return 0


@pytest.mark.slow
def test_proctor_run_killed_with_sigkill_resumes_without_duplicates(tmp_path):
    args = ["--limit", "10", "--verifiers", "hack_scan,tests", "-p", "simulated:competence=0.3,hack=0.2,seed=5", "--cycles", "3"]
    ledger = tmp_path / "killed.ledger"
    command = [sys.executable, "-m", "proctor", "run", *args, "--ledger", str(ledger), "--run", "k"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        if _decided(ledger) >= 4:
            break
        time.sleep(0.05)
    assert child.poll() is None, f"the run ended before it could be killed: {child.stderr.read().decode()}"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert entries(ledger, "k", "run_end") == []

    resumed = subprocess.run(
        [sys.executable, "-m", "proctor", "run", "--resume", "k", "--ledger", str(ledger)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr
    clean = tmp_path / "clean.ledger"
    done = subprocess.run(
        [sys.executable, "-m", "proctor", "run", *args, "--ledger", str(clean), "--run", "k"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr

    assert _by_attempt(ledger, "k") == _by_attempt(clean, "k")
    per_proposal = Counter(pid for pid, _ in _decisions(ledger, "k"))
    assert set(per_proposal.values()) == {1}
    assert len(entries(ledger, "k", "run_end")) == 1
    audit = subprocess.run([sys.executable, "-m", "proctor", "audit", str(ledger)], capture_output=True, text=True)
    assert audit.returncode == 0 and "integrity OK" in audit.stdout, audit.stdout


@pytest.mark.slow
def test_ctrl_c_stops_proctor_run_with_a_resume_hint_and_no_traceback(tmp_path):
    ledger = tmp_path / "k.ledger"
    command = [sys.executable, "-m", "proctor", "run", "--limit", "40", "--verifiers", "tests", "--ledger", str(ledger), "--run", "k"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None and _decided(ledger) < 2:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "continue with: proctor run --resume k" in stderr and "Traceback" not in stderr
    resume = [sys.executable, "-m", "proctor", "run", "--resume", "k", "--ledger", str(ledger), "--json"]
    resumed = subprocess.run(resume, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["ended"] and len(report["outcomes"]) == 40 and report["audit"]["proposals"] == len(entries(ledger, "k", "decision"))


def test_a_kill_between_a_steps_writes_and_its_checkpoint_still_resumes(pipeline, tmp_path, monkeypatch):
    """The window SIGKILL found: a node's writes are saved, the checkpoint after its step is not."""
    from contextlib import nullcontext

    from langgraph.checkpoint.memory import InMemorySaver

    import proctor.loop._run as loop_run

    class DiesAfterSelfCheck(InMemorySaver):
        armed = True

        def put(self, config, checkpoint, metadata, new_versions):
            if self.armed and metadata.get("step") == 2 and "claim" in checkpoint["channel_values"]:
                type(self).armed = False
                raise Crash
            return super().put(config, checkpoint, metadata, new_versions)

    saver = DiesAfterSelfCheck()
    monkeypatch.setattr(loop_run, "_checkpointer", lambda state: nullcontext(saver))
    ledger = tmp_path / "l.ledger"
    script = {"inc": [GOOD["inc"]], "double": [GOOD["double"]]}
    with pytest.raises(Crash):
        run_loop([INC, DOUBLE], ScriptedProposer(script), pipeline, ledger, run="r")
    result = run_loop([INC, DOUBLE], ScriptedProposer(script), pipeline, ledger, run="r")
    assert result.outcomes == {"inc": "accepted", "double": "accepted"}
    assert [e.data["outcome"] for e in entries(ledger, "r", "decision")] == ["accept", "accept"]


def test_a_sandbox_outage_stops_the_run_without_blaming_the_candidate_and_it_resumes(pipeline, tmp_path):
    from proctor.errors import SandboxUnavailable

    ledger, state = tmp_path / "l.ledger", tmp_path / "l.state"
    outage = {"on": True}

    def flaky(task):
        verifier = pipeline(task)

        class Down:
            id, version = verifier.id, verifier.version

            def verify(self, task, proposal):
                if outage["on"]:
                    raise SandboxUnavailable("the sandbox went away")
                return verifier.verify(task, proposal)

        return Down()

    script = {"inc": [GOOD["inc"]], "double": [GOOD["double"]]}
    with pytest.raises(SandboxUnavailable):
        run_loop([INC, DOUBLE], ScriptedProposer(script), flaky, ledger, run="r", state=state)
    assert entries(ledger, "r", "verdict") == [] and entries(ledger, "r", "decision") == []  # nothing held against the candidate
    outage["on"] = False
    result = run_loop([INC, DOUBLE], ScriptedProposer(script), flaky, ledger, run="r", state=state)
    assert result.outcomes == {"inc": "accepted", "double": "accepted"} and result.ended


def test_run_start_names_every_verifier_that_will_judge_and_the_proposers_seed(pipeline, tmp_path):
    from proctor.loop import SimulatedProposer

    run_loop([INC, DOUBLE], SimulatedProposer(seed=7), pipeline, tmp_path / "l.ledger", run="r")
    (start,) = [e.data for e in entries(tmp_path / "l.ledger", "r", "run_start")]
    judges = {v["id"] for v in start["verifiers"]}
    assert {"hack_scan", "tests", "properties"} <= judges and any(j.startswith("cascade(") for j in judges)
    assert all(len(v["version"]) == 16 for v in start["verifiers"]) and start["seeds"] == {"proposer": 7}


def test_a_proposer_that_cannot_be_reached_leaves_no_open_run_behind(pipeline, tmp_path):
    from proctor.errors import UnavailableError

    class Unreachable(ScriptedProposer):
        def propose(self, task, feedback=None):
            raise UnavailableError("cannot use the model at http://127.0.0.1:9/v1: Connection error.")

    with pytest.raises(UnavailableError):
        run_loop([INC], Unreachable({}), pipeline, tmp_path / "l.ledger", run="r", state=tmp_path / "l.state")
    assert entries(tmp_path / "l.ledger", "r") == []  # nothing happened, so no run_start waits for an end forever
