"""The properties verifier: seeded, derived strategies, the reference's domain, and its budget."""

from __future__ import annotations

from proctor.models import Proposal, Task
from proctor.verifiers import PropertiesVerifier

CLAMP = Task(
    id="clamp",
    entry_point="clamp",
    reference="def clamp(x: int, lo: int, hi: int) -> int:\n    return max(lo, min(x, hi))\n",
    properties={"strategies": {"x": "st.integers(-50, 50)", "lo": "st.integers(-10, 0)", "hi": "st.integers(0, 10)"}},
)
OFF_BY_ONE = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi - 1)) if x > 3 else max(lo, min(x, hi))\n"


def _judge(sandbox, task, code, **options):
    return PropertiesVerifier(sandbox, **options).verify(task, Proposal(task_id=task.id, code=code))


def test_the_same_seed_finds_the_same_shrunk_counterexample(namespace_sandbox):
    first = _judge(namespace_sandbox, CLAMP, OFF_BY_ONE, seed=7)
    second = _judge(namespace_sandbox, CLAMP, OFF_BY_ONE, seed=7)
    assert first.status == "fail" and first.evidence["counterexample"] == second.evidence["counterexample"]
    assert first.evidence["counterexample"]["call"] == "clamp(4, 0, 1)"  # shrunk to the smallest failing input


def test_inputs_on_which_the_reference_raises_are_outside_the_domain(namespace_sandbox):
    task = Task(
        id="inverse",
        entry_point="inverse",
        reference="def inverse(n: int) -> int:\n    if n <= 0:\n        raise ValueError(n)\n    return 1000 // n\n",
        properties={"strategies": ["st.integers(-5, 20)"]},
    )
    found = _judge(namespace_sandbox, task, "def inverse(n):\n    return 1000 // n if n > 0 else None\n")
    assert found.passed, found.detail


def test_strategies_are_derived_from_the_inputs_of_the_tasks_tests(namespace_sandbox):
    task = Task(
        id="words",
        entry_point="shout",
        tests="def check(candidate):\n    assert candidate('ab') == 'AB'\n    assert candidate('xyz') == 'XYZ'\n",
        reference="def shout(s):\n    return s.upper()\n",
    )
    found = _judge(namespace_sandbox, task, "def shout(s):\n    return {'ab': 'AB', 'xyz': 'XYZ'}.get(s, s)\n")
    assert found.status == "fail" and "grown from 2 inputs" in found.evidence["origin"]


def test_a_search_out_of_its_own_time_with_too_few_inputs_is_unknown(namespace_sandbox):
    slow_reference = "import time\ndef clamp(x, lo, hi):\n    time.sleep(0.3)\n    return max(lo, min(x, hi))\n"
    task = CLAMP.model_copy(update={"reference": slow_reference})
    found = _judge(namespace_sandbox, task, CLAMP.reference, budget_seconds=0.5, min_examples=10)
    assert found.status == "unknown" and "own time ran out" in found.detail


def test_the_candidates_own_time_never_runs_the_budget_out(namespace_sandbox):
    slow_candidate = "import time\ndef clamp(x, lo, hi):\n    time.sleep(0.05)\n    return max(lo, min(x, hi))\n"
    found = _judge(namespace_sandbox, CLAMP, slow_candidate, budget_seconds=0.5, examples=20)
    assert found.passed and found.evidence["new_inputs"] >= 10, found.detail


def test_no_reference_is_unknown(namespace_sandbox):
    task = CLAMP.model_copy(update={"reference": None})
    assert _judge(namespace_sandbox, task, OFF_BY_ONE).status == "unknown"


class _Recording:
    """A real sandbox that remembers the job and limits of every run (a candidate sees only these)."""

    def __init__(self, sandbox):
        self.sandbox, self.runs = sandbox, []

    def run(self, job, limits=None, *, channel=None):
        self.runs.append((job, limits))
        return self.sandbox.run(job, limits, channel=channel)

    def preload(self, modules):
        return self.sandbox.preload(modules)

    def channel_pair(self):
        return self.sandbox.channel_pair()


def test_every_verifier_gives_a_candidate_the_same_job_and_limits(namespace_sandbox):
    from proctor.verifiers import SmtVerifier, TestsVerifier

    code = CLAMP.reference.replace("max(lo", "max(lo ")  # not the reference's own text, so its jobs can be told apart
    task = CLAMP.model_copy(update={"tests": "def check(candidate):\n    assert candidate(5, 0, 3) == 3\n"})
    seen = {}
    for verifier in (TestsVerifier, PropertiesVerifier, SmtVerifier):
        recording = _Recording(namespace_sandbox)
        verifier(recording).verify(task, Proposal(task_id=task.id, code=code))
        jobs = [(job.model_dump(), limits) for job, limits in recording.runs if job.files.get("candidate.py") == code.encode()]
        assert jobs, f"{verifier.id} never ran the candidate"
        seen[verifier.id] = jobs[0]
    assert seen["tests"] == seen["properties"] == seen["smt"]


def test_candidates_stalling_per_call_or_at_import_fail_in_batch_beside_other_samples(namespace_sandbox):
    from proctor.verifiers import default_pipeline, members_of
    from proctor.verifiers._batch import Sample, verify_samples

    stalls = (
        "import time\ndef clamp(x, lo, hi):\n    if (x, lo, hi) != (5, 0, 3):\n        time.sleep(1.5 + {n} / 100)\n"
        "    return max(lo, min(x, hi))\n"
    )
    task = CLAMP.model_copy(update={"tests": "def check(candidate):\n    assert candidate(5, 0, 3) == 3\n"})
    sleeps = "import time\ntime.sleep(4 + {n} / 100)\n" + CLAMP.reference
    samples = [Sample(task_id=task.id, solution=stalls.format(n=n)) for n in range(5)]
    samples += [Sample(task_id=task.id, solution=sleeps.format(n=n)) for n in range(2)]
    samples += [Sample(task_id=task.id, solution=CLAMP.reference + f"# honest {n}\n") for n in range(5)]
    results = list(verify_samples(samples, {task.id: task}, lambda t: default_pipeline(t, namespace_sandbox), workers=4))
    for sample, _, verdict in results:
        properties = next(v for v in members_of(verdict) if v.verifier == "properties")
        if "honest" in sample.solution:
            assert verdict.passed, verdict.detail
        elif "time.sleep(4" in sample.solution:
            assert properties.status == "fail" and "did not load within" in properties.detail, properties.detail
        else:
            assert properties.status == "fail" and "too slow on clamp(" in properties.detail, properties.detail
            assert properties.evidence["counterexample"]["kind"] == "slow" and properties.evidence["input"].startswith("clamp(")


def test_an_input_that_caught_one_candidate_is_asked_first_of_every_later_one(namespace_sandbox):
    from proctor.verifiers._properties import REMEMBERED

    task = CLAMP.model_copy(update={"id": "clamp-remembered"})
    rare = "def clamp(x, lo, hi):\n    return 0 if (x, lo, hi) == (37, -3, 7) else max(lo, min(x, hi))\n  # variant {n}\n"
    REMEMBERED.add(task, (37, -3, 7))  # as if an earlier verification had drawn it
    for n in range(3):  # a proposer resubmitting the same bug under new comments meets the input that caught it
        found = _judge(namespace_sandbox, task, rare.format(n=n))
        assert found.status == "fail" and found.evidence["input"] == "clamp(37, -3, 7)", found.detail
    fixed = _judge(namespace_sandbox, task, rare.format(n=9), seed=1)  # fixed-seed runs (scenarios) never use the memory
    assert fixed.passed, fixed.detail
