"""The verdict memo: a verdict found once serves every repeat, in one worker or across workers."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from proctor.models import Proposal, Verdict
from proctor.scenarios import VerdictMemo
from tests.loop.conftest import GOOD, INC


class _Counting:
    """A verifier that passes everything and counts how often it really ran."""

    id, version = "counting", "1"

    def __init__(self, seconds: float = 0.0):
        self.calls, self.seconds = 0, seconds

    def verify(self, task, proposal):
        self.calls += 1
        time.sleep(self.seconds)
        return Verdict(verifier=self.id, version=self.version, status="pass", evidence={"pair": (1, 2)}, proposal_id=proposal.id)


def _proposal(number: int) -> Proposal:
    return Proposal(id=f"p{number}", task_id=INC.id, code=GOOD["inc"])


def test_a_repeated_proposal_is_verified_once_and_restamped_with_its_own_id():
    inner, memo = _Counting(), VerdictMemo()
    verifier = memo.wrap(inner)
    first, again = verifier.verify(INC, _proposal(1)), verifier.verify(INC, _proposal(2))
    assert inner.calls == 1 and memo.hits == 1
    assert (first.proposal_id, again.proposal_id) == ("p1", "p2")
    assert first.evidence == again.evidence == {"pair": [1, 2]}  # remembered as JSON reads it back


def test_workers_sharing_a_directory_verify_each_code_once(tmp_path):
    inner_a, inner_b = _Counting(), _Counting()
    a = VerdictMemo(shared=tmp_path).wrap(inner_a)
    b = VerdictMemo(shared=tmp_path).wrap(inner_b)
    found = a.verify(INC, _proposal(1))
    read = b.verify(INC, _proposal(2))
    assert (inner_a.calls, inner_b.calls) == (1, 0)
    assert read.model_dump(exclude={"proposal_id"}) == found.model_dump(exclude={"proposal_id"})


def test_a_worker_waits_for_a_live_claim_instead_of_verifying_again(tmp_path):
    first, second = _Counting(seconds=0.3), _Counting()
    a, b = VerdictMemo(shared=tmp_path).wrap(first), VerdictMemo(shared=tmp_path).wrap(second)
    claimed = threading.Thread(target=a.verify, args=(INC, _proposal(1)))
    claimed.start()
    while not list(tmp_path.glob("*.claim")):
        time.sleep(0.001)
    assert b.verify(INC, _proposal(2)).passed
    claimed.join()
    assert (first.calls, second.calls) == (1, 0)


def test_a_claim_left_by_a_dead_worker_is_taken_over(tmp_path):
    dead = multiprocessing.get_context("spawn").Process(target=os.getpid)
    dead.start()
    dead.join()
    memo, inner = VerdictMemo(shared=tmp_path), _Counting()
    memo.wrap(inner).verify(INC, _proposal(1))
    (claim,) = [path.with_suffix(".claim") for path in tmp_path.glob("*.json")]
    for path in tmp_path.glob("*.json"):
        path.unlink()
    claim.write_text(str(dead.pid))
    again = VerdictMemo(shared=tmp_path).wrap(inner).verify(INC, _proposal(2))
    assert again.passed and inner.calls == 2 and not claim.exists()


def test_a_failing_verifier_releases_its_claim(tmp_path):
    class _Broken:
        id, version = "broken", "1"

        def verify(self, task, proposal):
            raise RuntimeError("verifier broke")

    with pytest.raises(RuntimeError, match="verifier broke"):
        VerdictMemo(shared=tmp_path).wrap(_Broken()).verify(INC, _proposal(1))
    assert list(tmp_path.iterdir()) == []  # no claim left for the other workers to wait on
