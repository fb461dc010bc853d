"""Every isolating backend passes the conformance checks and contains every attack."""

from __future__ import annotations

import pytest

from proctor.testing import ATTACKS, check_sandbox, run_attack_corpus


@pytest.fixture(params=["namespace_sandbox", pytest.param("docker_sandbox", marks=pytest.mark.docker)])
def isolating_sandbox(request):
    return request.getfixturevalue(request.param)


def test_backend_passes_the_conformance_checks(isolating_sandbox):
    check_sandbox(isolating_sandbox)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_is_contained(isolating_sandbox, attack):
    (outcome,) = run_attack_corpus(isolating_sandbox, attacks=(attack,))
    assert outcome.contained, outcome.detail
