"""Shared fixtures: real sandboxes, started once per session."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest

from proctor.sandboxes._namespace import NamespaceSandbox

collect_ignore_glob = ["verifiers/data/*", "measure/data/*"]  # repositories' own tests are data here, run only inside a sandbox


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


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A real local Ray cluster (head node, 2 CPUs), started for these tests and stopped after."""
    ray = shutil.which("ray")
    if ray is None:
        pytest.skip("Ray is in the dev extra; install proctor[dev] (.ci/run does)")
    port = _free_port()
    temp = tmp_path_factory.mktemp("ray")
    # Token authentication with this cluster's own token: a token left in ~/.ray by another
    # cluster must not be the one the cluster or this client picks.
    token = temp / "auth_token"
    token.write_text(secrets.token_hex(32))
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    start = [
        ray,
        "start",
        "--head",
        "--num-cpus",
        "2",
        "--port",
        str(port),
        "--include-dashboard=false",
        "--disable-usage-stats",
    ]
    subprocess.run(start, check=True, capture_output=True, timeout=120)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120)
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
