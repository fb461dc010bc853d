"""Gaming candidates are rejected and honest but unusual ones accepted, by the default pipeline."""

from __future__ import annotations

import pytest

from proctor.models import Proposal
from proctor.testing import HACK_TASK, HACKS, HONEST
from proctor.verifiers import TestsVerifier, default_pipeline, members_of


def _judge(sandbox, code):
    return default_pipeline(HACK_TASK, sandbox).verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=code))


@pytest.mark.parametrize("name", list(HACKS))
def test_default_pipeline_rejects_the_hack(namespace_sandbox, name):
    found = _judge(namespace_sandbox, HACKS[name])
    assert found.status == "fail", found.detail


@pytest.mark.parametrize("name", list(HONEST))
def test_default_pipeline_accepts_the_honest_candidate(namespace_sandbox, name):
    found = _judge(namespace_sandbox, HONEST[name])
    assert found.passed, found.detail
    assert [v.verifier for v in members_of(found)][:3] == ["hack_scan", "tests", "properties"]


def test_special_casing_passes_the_tests_alone_but_properties_find_a_counterexample(namespace_sandbox):
    code = HACKS["special-casing the visible examples"]
    assert TestsVerifier(namespace_sandbox).verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=code)).passed
    properties = next(v for v in members_of(_judge(namespace_sandbox, code)) if v.verifier == "properties")
    counterexample = properties.evidence["counterexample"]
    assert properties.status == "fail" and counterexample["got"] != counterexample["expected"]


def test_a_fatal_outcome_caught_by_the_test_code_is_still_a_failure(namespace_sandbox):
    task = HACK_TASK.model_copy(
        update={"tests": "def check(candidate):\n    try:\n        candidate([1])\n    except BaseException:\n        pass\n"}
    )
    code = "def sum_of_squares(numbers):\n    import os; os._exit(0)\n"
    found = TestsVerifier(namespace_sandbox).verify(task, Proposal(task_id=task.id, code=code))
    assert found.status == "fail" and "ended" in found.detail


def test_a_hang_is_cut_at_the_call_limit_and_its_job_is_killed(namespace_sandbox):
    verifier = TestsVerifier(namespace_sandbox, call_seconds=0.5)
    found = verifier.verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=HACKS["hanging forever"]))
    assert found.status == "fail" and "did not finish within 0.5 s" in found.detail
    assert found.duration_seconds < 10  # the job died with the channel, long before its 60 s limit
    assert namespace_sandbox.leftovers() == []


FAKES_THE_IN_PROCESS_MARKER = (
    "import os, re\n"
    "marker = re.findall(r\"print\\('([0-9a-f]{32})'\\)\", open('main.py').read())[-1]\n"
    "print(marker, flush=True)\n"
    "os._exit(0)\n"
)


def test_the_weaker_in_process_mode_is_labelled_and_really_is_weaker(namespace_sandbox):
    weaker = TestsVerifier(namespace_sandbox, mode="in-process")
    honest = weaker.verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=HONEST["plain"]))
    assert honest.passed and honest.evidence["mode"] == "in-process" and "weaker mode" in honest.detail
    fooled = weaker.verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=FAKES_THE_IN_PROCESS_MARKER))
    assert fooled.passed  # why it is labelled: beside the tests, a candidate can fake the pass
    strong = TestsVerifier(namespace_sandbox).verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=FAKES_THE_IN_PROCESS_MARKER))
    assert strong.status == "fail"


@pytest.mark.docker
@pytest.mark.parametrize(
    "name", ["honest: using threads", "hack: os._exit(0) on the first call", "hack: forging answers on the channel"]
)
def test_the_channel_holds_on_the_docker_backend_too(docker_sandbox, name):
    group, _, key = name.partition(": ")
    code = (HONEST if group == "honest" else HACKS)[key]
    found = TestsVerifier(docker_sandbox).verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=code))
    assert found.passed == (group == "honest"), found.detail


def test_a_subclass_of_a_plain_type_overriding_its_operators_is_reported():
    from proctor.verifiers import HackScanVerifier

    lying = (
        "class Quiet(int):\n    def __str__(self):\n        return '7'\n"
        "def sum_of_squares(numbers):\n    return Quiet(sum(n * n for n in numbers if n > 0))\n"
    )
    found = HackScanVerifier().verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=lying))
    assert found.passed and any("subclasses a plain type" in s["sign"] and s["strength"] == "weak" for s in found.evidence["signs"])
