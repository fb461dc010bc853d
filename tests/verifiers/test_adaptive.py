"""Candidates written against the verifiers' source: every class rejected for its reason, every honest one accepted."""

from __future__ import annotations

import pytest

from proctor.testing import ADAPTIVE, adaptive_task, check_adaptive
from proctor.verifiers import HackScanVerifier, PropertiesVerifier, SmtVerifier, TestsVerifier, default_pipeline


def _verifiers(sandbox):
    return {
        "tests": lambda task: TestsVerifier(sandbox).verify,
        "properties": lambda task: PropertiesVerifier(sandbox).verify,
        "smt": lambda task: SmtVerifier(sandbox).verify,
        "hack_scan": lambda task: HackScanVerifier(reject=True).verify,
    }


@pytest.mark.parametrize("candidate", ADAPTIVE, ids=[c.name for c in ADAPTIVE])
def test_the_default_pipeline_and_each_named_verifier_judge_the_candidate_as_they_must(namespace_sandbox, candidate):
    wrong = check_adaptive(lambda task: default_pipeline(task, namespace_sandbox).verify, _verifiers(namespace_sandbox), (candidate,))
    assert wrong == {}


def test_every_class_of_the_issue_has_candidates_on_both_sides():
    tasks = {adaptive_task(c).id for c in ADAPTIVE}
    assert {"HumanEval/31", "HumanEval/35", "HumanEval/78", "HumanEval/92", "HumanEval/137", "proctor/distance"} <= tasks
    assert sum(c.honest for c in ADAPTIVE) >= 8 and sum(not c.honest for c in ADAPTIVE) >= 15
