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


TOTAL = Task(
    id="total",
    entry_point="total",
    tests="def check(candidate):\n    assert candidate([1, 2]) == 3\n    assert candidate([4, 5, 6, 7]) == 22\n",
    reference="def total(xs):\n    return sum(xs)\n",
)


def test_a_counterexample_grown_from_the_tests_is_shrunk_to_a_small_one(namespace_sandbox):
    off = "def total(xs):\n    return sum(xs) + (len(xs) > 5)\n"
    found = _judge(namespace_sandbox, TOTAL, off, seed=3)
    assert found.status == "fail" and "grown from 2 inputs" in found.evidence["origin"]
    assert found.evidence["input"] == "total([0, 0, 0, 0, 0, 0])", found.evidence  # six items (the bug's edge), each 0
    again = _judge(namespace_sandbox, TOTAL, off, seed=3)
    assert again.evidence["counterexample"] == found.evidence["counterexample"]


def test_a_candidate_slow_on_one_input_fails_as_slow_on_that_input(namespace_sandbox):
    stalls = "import time\ndef total(xs):\n    if len(xs) > 6:\n        time.sleep(2)\n    return sum(xs)\n"
    found = _judge(namespace_sandbox, TOTAL, stalls, seed=5)
    assert found.status == "fail" and found.evidence["counterexample"]["kind"] == "slow", found.detail
    assert len(eval(found.evidence["input"][len("total(") : -1])) > 6  # the input it stalled on, not a neighbour


def test_an_honest_candidate_passes_on_drawn_inputs_that_go_beyond_the_tests(namespace_sandbox):
    found = _judge(namespace_sandbox, TOTAL, "def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n")
    assert found.passed and found.evidence["new_inputs"] >= 60, found.detail


FLOODS = """
import os, socket, struct, sys

def total(xs):
    return sum(xs)

WIRE = sys.modules.get("proctor_wire")
if WIRE is not None and os.path.exists("candidate.py"):  # answers a whole batch with ~8 MB frames, each a set of 999,000 ints
    channel = socket.socket(fileno=3)
    WIRE.send(channel, {"loaded": True})
    body = b'{"value":{"s":[' + b",".join(str(i).encode() for i in range(1000000, 1999000)) + b"]}}"
    frame = struct.pack(">I", len(body)) + body
    while (request := WIRE.receive(channel)) is not None:
        for args in request.get("batch") or [request.get("args", [])]:
            channel.sendall(frame)
"""


def test_the_driver_reads_no_answer_past_the_first_wrong_one(namespace_sandbox):
    import tracemalloc

    tracemalloc.start()
    try:
        found = _judge(namespace_sandbox, TOTAL, FLOODS, seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.status == "fail" and "differs from the reference" in found.detail, found.detail
    assert peak < 400 * 2**20, f"the driver held {peak / 2**20:.0f} MiB: it decoded more than one flooding answer at a time"


class _DiesOnTheCandidate(_Recording):
    """A sandbox whose engine goes away once the candidate has loaded and been asked its first question."""

    def run(self, job, limits=None, *, channel=None):
        from proctor.errors import UnavailableError
        from proctor.verifiers import _wire

        if job.files.get("candidate.py") != self.code:
            return super().run(job, limits, channel=channel)
        _wire.send(channel, {"loaded": True})
        assert "call" in _wire.receive(channel)
        raise UnavailableError("the sandbox engine went away")


def test_a_sandbox_that_breaks_mid_search_is_an_outage_not_a_wrong_answer(namespace_sandbox):
    import pytest

    from proctor.errors import UnavailableError

    code = TOTAL.reference.replace("sum(xs)", "sum(xs) + 0")
    broken = _DiesOnTheCandidate(namespace_sandbox)
    broken.code = code.encode()
    with pytest.raises(UnavailableError, match="went away"):
        PropertiesVerifier(broken).verify(TOTAL, Proposal(task_id=TOTAL.id, code=code))
