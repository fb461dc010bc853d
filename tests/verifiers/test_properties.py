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
