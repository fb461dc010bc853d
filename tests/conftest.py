"""Shared fixtures: real sandboxes, started once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from proctor.sandboxes._namespace import NamespaceSandbox


@pytest.fixture(scope="session")
def namespace_sandbox() -> Iterator[NamespaceSandbox]:
    if os.geteuid() != 0:
        pytest.skip("the namespace backend needs a root launcher (CI runs as root)")
    with NamespaceSandbox() as sandbox:
        yield sandbox


def _engine_answers() -> bool:
    from proctor.errors import SandboxUnavailable
    from proctor.sandboxes._docker import engine

    try:
        engine()
    except SandboxUnavailable:
        return False
    return True


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    """A real Docker engine: the running one, or a dockerd this fixture starts (and stops)."""
    import shutil
    import subprocess
    import time

    started = None
    if not _engine_answers():
        if shutil.which("dockerd") is None:
            pytest.skip("dockerd is not installed (Debian's docker.io; .ci/run installs it)")
        log = open("/tmp/proctor-test-dockerd.log", "wb")
        started = subprocess.Popen(
            ["dockerd", "--bridge=none", "--iptables=false", "--ip6tables=false"], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while not _engine_answers():
            if time.monotonic() > deadline or started.poll() is not None:
                pytest.fail("dockerd did not come up; see /tmp/proctor-test-dockerd.log")
            time.sleep(0.5)
    from proctor.sandboxes._image import build_image

    build_image()
    yield
    if started is not None:
        started.terminate()
        started.wait(timeout=30)


@pytest.fixture(scope="session")
def docker_sandbox(docker_engine: None) -> Iterator[object]:
    from proctor.sandboxes._docker import DockerSandbox

    with DockerSandbox(pool=2) as sandbox:
        yield sandbox


@pytest.fixture
def pipeline(namespace_sandbox):
    """The default verifier pipeline for each task, on the session's namespace sandbox."""
    from proctor.verifiers import default_pipeline

    return lambda task: default_pipeline(task, namespace_sandbox)
