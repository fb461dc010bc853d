"""Many proctors on one host: each namespace sandbox runs its candidates as a uid of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proctor.sandboxes._namespace import NamespaceSandbox
from proctor.testing import run_attack_corpus

ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="the namespace backend needs a root launcher (CI runs as root)")

# Another proctor process: its sandbox prints its uid, then keeps two candidates busy until killed.
BUSY_NEIGHBOUR = """
import threading
from proctor.models import Limits
from proctor.sandboxes import Job
from proctor.sandboxes._namespace import NamespaceSandbox

with NamespaceSandbox() as sandbox:
    print(sandbox.uid, flush=True)
    job = Job.python("import time; time.sleep(600)")
    jobs = [threading.Thread(target=sandbox.run, args=(job, Limits(wall_seconds=600, cpu_seconds=600))) for _ in range(2)]
    for thread in jobs:
        thread.start()
    for thread in jobs:
        thread.join()
"""


def _running_as(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if any(line.startswith("Uid:") and int(line.split()[1]) == uid for line in status.splitlines()):
            pids.append(int(entry.name))
    return pids


@ROOT
def test_instances_claim_distinct_uids_and_free_them_on_close():
    with NamespaceSandbox() as first, NamespaceSandbox() as second:
        taken = {first.uid, second.uid}
        assert len(taken) == 2 and abs(first.uid - second.uid) >= 2  # pairs: the server's uid and its candidates'
    with NamespaceSandbox() as again:
        assert again.uid in taken  # a closed instance's pair is claimed again, so uids do not run out


@ROOT
def test_the_attack_corpus_is_contained_while_another_proctor_keeps_its_jobs_running(namespace_sandbox):
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY_NEIGHBOUR], stdout=subprocess.PIPE, text=True)
    try:
        assert neighbour.stdout is not None
        neighbour_uid = int(neighbour.stdout.readline())
        assert neighbour_uid != namespace_sandbox.uid
        deadline = time.monotonic() + 60
        while len(_running_as(neighbour_uid + 1)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        busy = _running_as(neighbour_uid + 1)
        assert len(busy) >= 2, "the neighbour's candidates never started"
        outcomes = list(run_attack_corpus(namespace_sandbox))
        escaped = [f"{o.name}: {o.detail}" for o in outcomes if not o.contained]
        assert escaped == []  # the neighbour's running jobs are not taken for this sandbox's leftovers
        assert set(busy) <= set(_running_as(neighbour_uid + 1))  # and no attack here touched them
    finally:
        neighbour.kill()
        neighbour.wait()


@pytest.mark.docker
def test_another_docker_sandboxs_containers_are_not_this_ones_leftovers(docker_engine):
    from proctor.sandboxes._docker import DockerSandbox

    with DockerSandbox(pool=1) as busy, DockerSandbox() as other:
        deadline = time.monotonic() + 60
        while busy._pool.empty() and time.monotonic() < deadline:  # its pooled container is up
            time.sleep(0.1)
        assert not busy._pool.empty(), "the pooled container never started"
        assert other.leftovers() == [] and busy.leftovers() == []


@pytest.mark.docker
@ROOT
def test_the_attack_corpus_is_contained_on_both_backends_running_at_once(namespace_sandbox, docker_sandbox):
    """Every attack meets another backend's attacks running beside it: each sandbox's leftovers are its own."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(lambda box: list(run_attack_corpus(box)), box) for box in (namespace_sandbox, docker_sandbox)]
        outcomes = [outcome for run in runs for outcome in run.result()]
    assert [f"{o.name}: {o.detail}" for o in outcomes if not o.contained] == []
