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


@pytest.mark.parametrize(
    ("report", "state", "status"),
    [
        ({"status": 0}, {"ExitCode": 0}, (0, None)),  # the bootstrap's own report decides
        ({"status": 3 << 8}, {"ExitCode": 0}, (3, None)),  # whatever the container's code says
        (None, {"ExitCode": 0}, (None, 9)),  # docker-init said 0, but the job never reported: not a success
        (None, {}, (None, 9)),
        (None, {"ExitCode": 137}, (None, 9)),
        (None, {"ExitCode": 3}, (3, None)),
        ({"status": True}, {"ExitCode": 0}, (None, 9)),  # a report of the wrong type is no report
    ],
)
def test_an_exit_status_without_the_bootstraps_report_is_never_a_success(report, state, status):
    from proctor.sandboxes._docker import _status

    assert _status(report, state) == status


def test_the_channel_is_made_in_a_private_network_namespace(docker_sandbox):
    assert docker_sandbox.enforcement[0].endswith("channel made in a private network namespace")


ORPHANS = """
import os, time
for n in range(200):  # each grandchild is orphaned to PID 1; unreaped, their zombies would fill pids.max
    child = os.fork()
    if child == 0:
        if os.fork() == 0:
            os._exit(0)
        os._exit(0)
    os.waitpid(child, 0)
    time.sleep(0.002)
print("forked", n + 1)
"""


def test_pid_one_is_the_bootstrap_and_reaps_the_orphans_a_job_leaves(docker_sandbox):
    from proctor.models import Limits

    result = docker_sandbox.run(Job.python(ORPHANS), Limits(wall_seconds=20, cpu_seconds=10, processes=32))
    assert result.exit_code == 0, (result.describe(), result.stderr[-300:])
    assert result.stdout.strip() == b"forked 200"
    comm = docker_sandbox.run(Job.python("print(open('/proc/1/cmdline', 'rb').read().split(b'\\0')[0].decode())"))
    assert b"python" in comm.stdout, comm.stdout  # not docker-init, which would run dumpable as the job's uid


HOLD_LOCK = """
import fcntl, os, time
handle = open(os.__file__, "rb")  # the standard library, which every job reads
fcntl.flock(handle, fcntl.LOCK_EX)
print("HOLDING", flush=True)
time.sleep(6)
"""
PROBE_LOCK = """
import fcntl, os, time
time.sleep(3)
try:
    fcntl.flock(open(os.__file__, "rb"), fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("FREE")
except OSError as exc:
    print("LOCKED", exc.errno)
"""


def test_a_lock_on_a_file_every_container_reads_is_not_seen_by_another(docker_sandbox):
    """Each container's root is its own overlay mount, so lock bits on the image's files cannot carry data between jobs."""
    import concurrent.futures

    from proctor.models import Limits

    limits = Limits(wall_seconds=10, cpu_seconds=5)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        holder = pool.submit(docker_sandbox.run, Job.python(HOLD_LOCK), limits)
        probe = pool.submit(docker_sandbox.run, Job.python(PROBE_LOCK), limits)
        held, seen = holder.result(), probe.result()
    assert held.stdout.strip() == b"HOLDING", held.stderr[-300:]
    assert seen.stdout.strip() == b"FREE", seen.stdout
