"""Batch verification on a real local Ray cluster gives the verdicts threads give."""

from __future__ import annotations

import importlib.util

import pytest

# Not imported here: Ray reads its authentication settings when imported, and another test sets them for its cluster.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'proctor[ray]')")


def test_the_same_samples_on_a_ray_cluster_and_on_threads_give_the_same_verdicts(namespace_sandbox, ray_cluster):
    from proctor.tasks import humaneval_tasks
    from proctor.verifiers import default_pipeline, members_of
    from proctor.verifiers._batch import Sample, verify_samples, verify_samples_on_ray

    tasks = {t.id: t for t in list(humaneval_tasks().values())[:3]}
    samples = []
    for task in tasks.values():
        samples.append(Sample(task_id=task.id, solution=task.reference))  # right
        samples.append(Sample(task_id=task.id, completion="    return None\n"))  # wrong
        samples.append(Sample(task_id=task.id, solution=f"import sys\nsys.exit(0)\n{task.reference}"))  # a hack
    threads = list(verify_samples(samples, tasks, lambda task: default_pipeline(task, namespace_sandbox), workers=2))
    cluster = list(verify_samples_on_ray(samples, tasks, None, ray_cluster))
    seen = [(v.status, v.evidence.get("decided_by")) for _, _, v in threads]
    assert seen == [(v.status, v.evidence.get("decided_by")) for _, _, v in cluster]
    assert [status for status, _ in seen] == ["pass", "fail", "fail"] * 3
    ran = [m.sandbox for _, _, v in cluster for m in members_of(v) if m.sandbox]
    assert ran and all(r.get("isolated") for r in ran)  # the workers ran each candidate in a sandbox of their own


def test_ray_is_for_batch_mode_and_isolated_sandboxes_only(tmp_path):
    from tests.cli.test_sandbox_cli import proctor

    (tmp_path / "c.py").write_text("def f(): pass\n")
    done = proctor("verify", "humaneval:HumanEval/2", str(tmp_path / "c.py"), "--ray", "local")
    assert done.returncode == 2 and "--ray is for batch mode" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "s.jsonl").write_text('{"task_id": "HumanEval/2", "completion": "    return 0.0\\n"}\n')
    done = proctor("verify", "--samples", str(tmp_path / "s.jsonl"), "--ray", "local", "--unsafe-local")
    assert done.returncode == 2 and "--unsafe-local cannot go with it" in done.stderr


def test_the_trl_reward_on_a_ray_cluster_gives_the_rewards_threads_give(namespace_sandbox, ray_cluster):
    from proctor.integrations.trl import reward_function
    from tests.integrations.test_rewards import HACK, RIGHT, WRONG

    columns = {"prompts": ["p"] * 3, "completions": [RIGHT, WRONG, HACK], "task_id": ["HumanEval/2"] * 3}
    on_threads = reward_function(sandbox=namespace_sandbox)(**columns)
    remote = reward_function(ray=ray_cluster)
    try:
        assert remote(**columns) == on_threads == [1.0, 0.0, 0.0]
        assert remote(**columns) == on_threads  # a second batch on the same connection
    finally:
        remote.judge.close()
