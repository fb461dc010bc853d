from __future__ import annotations

import pytest

from proctor.errors import InputError, SandboxUnavailable
from proctor.sandboxes import get_sandbox
from proctor.sandboxes._local import LocalSandbox, UnsafeSandboxWarning
from proctor.testing import check_sandbox


def test_local_backend_refuses_without_explicit_opt_in():
    with pytest.raises(SandboxUnavailable, match="opt in"):
        LocalSandbox()


def test_local_backend_passes_conformance_and_warns_on_every_run():
    with pytest.warns(UnsafeSandboxWarning), LocalSandbox(unsafe=True) as sandbox:
        check_sandbox(sandbox)
        result = sandbox.run(__import__("proctor.sandboxes", fromlist=["Job"]).Job.python("print(1)"))
    assert result.isolated is False


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(InputError, match="known: docker, local, namespace"):
        get_sandbox("chroot")
