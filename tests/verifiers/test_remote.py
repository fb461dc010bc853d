"""The channel's stub reaches the candidate's job preloaded where the sandbox can, as files elsewhere."""

from __future__ import annotations

import pytest

from proctor.models import Proposal
from proctor.sandboxes._namespace import NamespaceSandbox
from proctor.testing import HACK_TASK, HONEST
from proctor.verifiers import TestsVerifier


class _Recording(NamespaceSandbox):
    """A namespace sandbox that remembers each job's files, and may refuse to preload."""

    def __init__(self, preloads: bool) -> None:
        super().__init__()
        self.preloads, self.files = preloads, []

    def preload(self, modules):
        return super().preload(modules) if self.preloads else False

    def run(self, job, limits=None, *, channel=None):
        self.files.append(sorted(job.files))
        return super().run(job, limits, channel=channel)


@pytest.mark.parametrize("preloads", [True, False], ids=["preloaded", "shipped as files"])
def test_an_honest_candidate_passes_whether_the_stub_is_preloaded_or_shipped(preloads):
    with _Recording(preloads) as sandbox:
        verdict = TestsVerifier(sandbox).verify(HACK_TASK, Proposal(task_id=HACK_TASK.id, code=HONEST["plain"]))
    assert verdict.passed, verdict.detail
    shipped = sandbox.files[-1]
    if preloads:
        assert shipped == ["candidate.py"]
    else:
        assert "proctor_stub.py" in shipped and "proctor_wire.py" in shipped


def test_the_candidate_is_compiled_as_plain_python_not_with_the_sandboxes_own_future_flags(namespace_sandbox):
    from proctor.models import Limits
    from proctor.verifiers._remote import Fatal, Remote

    annotated = "def f(x: NoSuchName) -> int:\n    return x\n"  # a NameError when the def runs, in plain Python
    remote = Remote(namespace_sandbox, annotated, Limits(wall_seconds=10, cpu_seconds=10), 5.0)
    try:
        with pytest.raises(Fatal, match="does not load: NameError"):
            remote.start()
    finally:
        remote.close()


def test_a_request_gets_its_own_time_to_be_taken_not_what_the_last_reply_left(namespace_sandbox):
    from proctor.verifiers._remote import CANDIDATE_LIMITS, Remote

    big = list(range(400_000))  # several MiB: more than the socket buffers hold, so sending waits on the reader
    with Remote(namespace_sandbox, "def f(xs):\n    return len(xs)\n", CANDIDATE_LIMITS, call_seconds=5.0) as remote:
        assert remote.call("f", ([1],), {}) == 1
        remote._ours.settimeout(1e-6)  # as a reply read just inside its deadline leaves the socket
        assert remote.call("f", (big,), {}) == len(big)


def test_a_candidates_answers_are_bounded_in_all_not_only_each_one(namespace_sandbox):
    from proctor.verifiers._remote import CANDIDATE_LIMITS, MAX_RECEIVED, Fatal, Remote

    code = "def f():\n    return 'x' * (6 << 20)\n"  # each answer within a frame's limit; together, over the budget
    kept = []
    with Remote(namespace_sandbox, code, CANDIDATE_LIMITS, call_seconds=10.0) as remote, pytest.raises(Fatal, match="MiB in all"):
        for _ in range(MAX_RECEIVED // (6 << 20) + 2):
            kept.append(remote.call("f", (), {}))
    assert len(kept) <= MAX_RECEIVED // (6 << 20)


STOPS_ITERATION = "def double(x):\n    raise StopIteration\n"
MAP_TESTS = "def check(candidate):\n    assert all(map(lambda x: candidate(x) == 2 * x, range(20)))\n"


def test_a_candidate_raising_stop_iteration_cannot_end_the_tests_loop_early(namespace_sandbox):
    from proctor.models import Task

    task = Task(id="double", entry_point="double", tests=MAP_TESTS)
    found = TestsVerifier(namespace_sandbox).verify(task, Proposal(task_id="double", code=STOPS_ITERATION))
    assert found.status == "fail" and "StopIteration" in found.detail, found.detail
    honest = TestsVerifier(namespace_sandbox).verify(task, Proposal(task_id="double", code="def double(x):\n    return 2 * x\n"))
    assert honest.passed, honest.detail
