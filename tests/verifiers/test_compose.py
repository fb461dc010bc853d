"""Composition: unknown and error never count as pass; a cascade stops at the first fail."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from proctor.errors import SandboxUnavailable
from proctor.models import Proposal, Task, Verdict
from proctor.verifiers import all_of, any_of, cascade, members_of, optional, quorum

TASK = Task(id="t", entry_point="f")
PROPOSAL = Proposal(task_id="t", code="def f(): pass")


@dataclass
class Fixed:
    """A verifier that always says the same thing, and counts its calls."""

    status: str
    id: str = "fixed"
    version: str = "0"
    calls: list[int] = field(default_factory=list)

    def verify(self, task, proposal):
        self.calls.append(1)
        return Verdict(verifier=self.id, version=self.version, status=self.status, proposal_id=proposal.id)


class Broken:
    id, version = "broken", "0"

    def verify(self, task, proposal):
        raise KeyError("oops")


def _status(composite):
    return composite.verify(TASK, PROPOSAL).status


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["pass", "pass"], "pass"),
        (["pass", "fail"], "fail"),
        (["pass", "unknown"], "unknown"),
        (["pass", "error"], "error"),
        (["unknown"], "unknown"),
    ],
)
def test_all_of_passes_only_when_every_member_passes(statuses, expected):
    assert _status(all_of(*(Fixed(s) for s in statuses))) == expected


def test_an_optional_members_unknown_does_not_block_but_its_fail_does():
    assert _status(all_of(Fixed("pass"), optional(Fixed("unknown")))) == "pass"
    assert _status(all_of(Fixed("pass"), optional(Fixed("fail")))) == "fail"
    assert _status(all_of(optional(Fixed("unknown")))) == "unknown"  # nothing passed at all


def test_a_cascade_stops_at_the_first_fail():
    last = Fixed("pass")
    verdict = cascade(Fixed("pass"), Fixed("fail"), last).verify(TASK, PROPOSAL)
    assert verdict.status == "fail" and last.calls == [] and len(members_of(verdict)) == 2


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [(["fail", "pass"], "pass"), (["fail", "unknown"], "fail"), (["unknown", "error"], "error"), (["unknown", "unknown"], "unknown")],
)
def test_any_of(statuses, expected):
    assert _status(any_of(*(Fixed(s) for s in statuses))) == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [(["pass", "pass", "fail"], "pass"), (["pass", "fail", "fail"], "fail"), (["pass", "unknown", "error"], "unknown")],
)
def test_quorum_of_two(statuses, expected):
    assert _status(quorum(2, *(Fixed(s) for s in statuses))) == expected


def test_a_verifier_that_breaks_is_an_error_never_a_pass():
    verdict = any_of(Broken(), Fixed("unknown")).verify(TASK, PROPOSAL)
    assert verdict.status == "error"
    assert members_of(verdict)[0].detail.startswith("the verifier broke: KeyError")


def test_an_unavailable_sandbox_is_raised_not_recorded():
    class NoSandbox(Fixed):
        def verify(self, task, proposal):
            raise SandboxUnavailable("no sandbox here")

    with pytest.raises(SandboxUnavailable):
        all_of(NoSandbox("pass")).verify(TASK, PROPOSAL)


def test_quorum_rejects_an_impossible_k():
    with pytest.raises(ValueError, match="quorum"):
        quorum(3, Fixed("pass"))
