"""All 164 canonical HumanEval solutions pass the default pipeline: no false rejects."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from proctor.models import Proposal
from proctor.tasks import humaneval_tasks
from proctor.verifiers import default_pipeline, members_of


@pytest.mark.slow
def test_every_canonical_solution_is_accepted_by_the_default_pipeline(namespace_sandbox):
    tasks = list(humaneval_tasks().values())
    assert len(tasks) == 164

    def judge(task):
        return task.id, default_pipeline(task, namespace_sandbox).verify(task, Proposal(task_id=task.id, code=task.reference))

    with ThreadPoolExecutor(4) as pool:
        verdicts = dict(pool.map(judge, tasks))
    rejected = {task_id: v.detail for task_id, v in verdicts.items() if not v.passed}
    assert rejected == {}
    ran_properties = sum(any(m.verifier == "properties" and m.passed for m in members_of(v)) for v in verdicts.values())
    assert ran_properties > 150  # the comparison with the reference really ran, not just the tests


def test_tests_that_call_the_function_by_name_reach_the_candidate(namespace_sandbox):
    from proctor.verifiers import TestsVerifier

    task = humaneval_tasks()["HumanEval/33"]  # its check compares candidate(...) with sort_third(...)
    wrong = task.prompt + "    return [0] * len(l)\n"
    found = TestsVerifier(namespace_sandbox).verify(task, Proposal(task_id=task.id, code=wrong))
    assert found.status == "fail"
