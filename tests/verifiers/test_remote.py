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
