"""The docker backend against a real engine, attacked with the same corpus."""

from __future__ import annotations

import pytest

from proctor.errors import SandboxUnavailable
from proctor.sandboxes import Job

pytestmark = pytest.mark.docker


def test_container_runs_unprivileged_without_capabilities(docker_sandbox):
    code = "import os; print(os.getuid(), open('/proc/self/status').read().split('CapEff:')[1].split()[0])"
    assert docker_sandbox.run(Job.python(code)).stdout == b"1000 0000000000000000\n"


def test_missing_image_is_a_one_line_error_naming_the_build_command(docker_engine):
    from proctor.sandboxes._docker import DockerSandbox

    with pytest.raises(SandboxUnavailable, match="proctor sandbox build"):
        DockerSandbox(image="proctor-sandbox:does-not-exist")
