"""The trusted driver against candidates that attack it through the channel: each is a prompt ``fail``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from proctor.models import Proposal
from proctor.testing import CHANNEL_ATTACKS, DISTANCE_TASK, check_channel
from proctor.verifiers import default_pipeline
from proctor.verifiers._properties import PropertiesVerifier
from proctor.verifiers._tests import TestsVerifier


def _escaped(outcomes):
    return [f"{o.name}: {o.detail}" for o in outcomes if not o.contained]


def test_the_tests_verifier_fails_every_channel_attack_within_its_call_limit(namespace_sandbox):
    assert _escaped(check_channel(TestsVerifier(namespace_sandbox).verify)) == []


def test_the_properties_verifier_fails_every_channel_attack_within_its_limits(namespace_sandbox):
    assert _escaped(check_channel(PropertiesVerifier(namespace_sandbox).verify)) == []


@pytest.mark.docker
def test_the_channel_attacks_are_failed_on_docker_too(docker_sandbox):
    assert _escaped(check_channel(TestsVerifier(docker_sandbox).verify)) == []


def test_channel_attacks_verified_beside_honest_candidates_leave_the_honest_ones_accepted(namespace_sandbox):
    """A batch: every attack runs concurrently with an honest sample, which must still pass."""
    pipeline = default_pipeline(DISTANCE_TASK, namespace_sandbox)
    honest = Proposal(task_id=DISTANCE_TASK.id, code=DISTANCE_TASK.reference or "", proposer="corpus:honest")
    batch = [Proposal(task_id=DISTANCE_TASK.id, code=a.code, proposer="corpus:channel") for a in CHANNEL_ATTACKS]
    batch = [p for attack in batch for p in (attack, honest)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(lambda p: pipeline.verify(DISTANCE_TASK, p), batch))
    assert [v.status for v in verdicts[1::2]] == ["pass"] * len(CHANNEL_ATTACKS)
    assert [v.status for v in verdicts[0::2]] == ["fail"] * len(CHANNEL_ATTACKS)
