"""Every isolating backend passes the conformance checks and contains every attack."""

from __future__ import annotations

import pytest

from proctor.testing import ATTACKS, check_sandbox, run_attack_corpus


@pytest.fixture(params=["namespace_sandbox", pytest.param("docker_sandbox", marks=pytest.mark.docker)])
def isolating_sandbox(request):
    return request.getfixturevalue(request.param)


def test_backend_passes_the_conformance_checks(isolating_sandbox):
    check_sandbox(isolating_sandbox)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_is_contained(isolating_sandbox, attack):
    (outcome,) = run_attack_corpus(isolating_sandbox, attacks=(attack,))
    assert outcome.contained, outcome.detail


NETLINK_LISTENER = """
import socket
try:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 2)  # NETLINK_USERSOCK, as a job on another sample did
    sock.bind((4242, 0))
    sock.settimeout(3)
    print("HEARD", sock.recv(100))
except OSError as exc:
    print("refused", exc.errno)
"""
NETLINK_SENDER = """
import socket, time
try:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 2)
    for _ in range(100):
        try:
            sock.sendto(b"the hidden test inputs", (4242, 0))
            print("SENT")
            break
        except OSError:
            time.sleep(0.02)
except OSError as exc:
    print("refused", exc.errno)
"""


def test_concurrent_jobs_cannot_talk_over_netlink(isolating_sandbox):
    from concurrent.futures import ThreadPoolExecutor

    from proctor.sandboxes import Job

    with ThreadPoolExecutor(2) as pool:
        listener = pool.submit(isolating_sandbox.run, Job.python(NETLINK_LISTENER))
        sender = pool.submit(isolating_sandbox.run, Job.python(NETLINK_SENDER))
        heard, sent = listener.result().stdout, sender.result().stdout
    assert heard.startswith(b"refused") and sent.startswith(b"refused"), (heard, sent)


def test_the_jobs_channel_binds_nowhere_the_host_can_see(isolating_sandbox):
    """fd 3 answers binds in the namespace it was made in: the sandbox's own, offline one, not the verifier's."""
    import secrets

    from proctor.models import Limits
    from proctor.sandboxes import Job

    name = f"proctor-squat-{secrets.token_hex(8)}"
    squat = f"import socket, time\nsocket.socket(fileno=3).bind(b'\\0{name}')\nprint('bound', flush=True)\ntime.sleep(1)\n"
    ours, theirs = isolating_sandbox.channel_pair()
    with ours, theirs:
        result = isolating_sandbox.run(Job.python(squat), Limits(wall_seconds=10), channel=theirs)
        host_names = open("/proc/net/unix").read()
    assert result.stdout == b"bound\n", result.stderr
    assert name not in host_names
