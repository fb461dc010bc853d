"""Conformance checks any Sandbox backend must pass; proctor runs them on its own backends."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from proctor.models import Limits
from proctor.sandboxes import Job, Sandbox

QUICK = Limits(wall_seconds=5, cpu_seconds=5, output_bytes=4096)


def _expect(condition: bool, what: str, result: object) -> None:
    if not condition:
        raise AssertionError(f"sandbox conformance: {what}; got {result!r}")


def check_sandbox(sandbox: Sandbox) -> None:
    """Raise AssertionError naming the first contract ``sandbox`` breaks.

    Covers: exit status and signals, captured and capped output, stdin, files in and out,
    a private work directory and environment, the wall limit, preloaded modules (when the
    backend says it preloads them), and nothing left running.
    """
    for check in (
        _exit_status,
        _signal,
        _output,
        _stdin_and_files,
        _environment,
        _wall_limit,
        _output_cap,
        _private_between_jobs,
        _non_python_command,
        _channel,
        _preload,
    ):
        check(sandbox)
    _expect(sandbox.leftovers() == [], "nothing of a finished job may keep running", sandbox.leftovers())


def _preload(sandbox: Sandbox) -> None:
    if not sandbox.preload({"proctor_conformance_probe": "ANSWER = 42\n"}):
        return  # not preloading is allowed: callers then ship their modules as files
    result = sandbox.run(Job.python("import proctor_conformance_probe as probe; print(probe.ANSWER)"), QUICK)
    _expect(result.ok and result.stdout == b"42\n", "a job imports what preload() said it loaded", result)


def _exit_status(sandbox: Sandbox) -> None:
    result = sandbox.run(Job.python("import sys; sys.exit(7)"), QUICK)
    _expect(result.exit_code == 7 and result.signal is None and result.limit_hit is None, "exit status 7", result)
    result = sandbox.run(Job.python("raise ValueError('boom')"), QUICK)
    _expect(result.exit_code == 1 and b"ValueError: boom" in result.stderr, "traceback and status 1", result)


def _signal(sandbox: Sandbox) -> None:
    result = sandbox.run(Job.python("import os, signal; os.kill(os.getpid(), signal.SIGTERM)"), QUICK)
    _expect(result.signal == 15 and result.exit_code is None, "death by SIGTERM reported as signal 15", result)


def _output(sandbox: Sandbox) -> None:
    result = sandbox.run(Job.python("import sys; print('out'); print('err', file=sys.stderr)"), QUICK)
    _expect(result.stdout == b"out\n" and result.stderr == b"err\n", "separate stdout and stderr", result)


def _stdin_and_files(sandbox: Sandbox) -> None:
    code = "import sys; data = sys.stdin.read(); open('out.txt', 'w').write(data + open('in/x.txt').read())"
    job = Job.python(code, stdin=b"hello ", files={"in/x.txt": b"world"}, collect=["out.txt", "missing.txt"])
    result = sandbox.run(job, QUICK)
    _expect(result.ok and result.files == {"out.txt": b"hello world"}, "stdin, input files and collected files", result)


def _environment(sandbox: Sandbox) -> None:
    code = "import os; print(os.environ.get('GIVEN'), os.getcwd() == os.path.realpath('.'), os.listdir('.'))"
    result = sandbox.run(Job.python(code, env={"GIVEN": "yes"}), QUICK)
    _expect(result.stdout.startswith(b"yes True ['main.py']"), "given environment and a clean work directory", result)


def _wall_limit(sandbox: Sandbox) -> None:
    started = time.monotonic()
    result = sandbox.run(Job.python("import time; time.sleep(60)"), Limits(wall_seconds=1))
    elapsed = time.monotonic() - started
    _expect(result.limit_hit == "wall" and not result.ok and elapsed < 6, "a sleeper stopped at the wall limit", result)


def _output_cap(sandbox: Sandbox) -> None:
    result = sandbox.run(Job.python("print('x' * 100000)"), QUICK)
    _expect(
        len(result.stdout) <= QUICK.output_bytes and result.stdout_truncated and result.limit_hit == "output",
        "output capped and the job stopped",
        result,
    )


def _private_between_jobs(sandbox: Sandbox) -> None:
    """The work directory is always fresh; /tmp only where the backend isolates."""
    name = f"/tmp/proctor-conformance-{uuid.uuid4().hex}"
    first = sandbox.run(Job.python(f"open({name!r}, 'w').write('x'); open('left', 'w').write('x')"), QUICK)
    result = sandbox.run(Job.python(f"import os; print(os.path.exists({name!r}), os.path.exists('left'))"), QUICK)
    expected = b"False False\n" if first.isolated else b"True False\n"
    if not first.isolated:
        os.unlink(name)
    _expect(result.stdout == expected, "no file of one job visible to the next", result)


def _non_python_command(sandbox: Sandbox) -> None:
    result = sandbox.run(Job(command=["sh", "-c", "echo $((6 * 7))"]), QUICK)
    _expect(result.stdout == b"42\n" and result.exit_code == 0, "a non-Python command runs", result)


def _channel(sandbox: Sandbox) -> None:
    """A channel socket is the job's fd 3, live while it runs, and the job sees no other end."""
    code = (
        "import os, socket\n"
        "channel = socket.socket(fileno=3)\n"
        "channel.sendall(b'ready')\n"
        "channel.sendall(channel.recv(100).upper())\n"
        "print(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))\n"
    )
    ours, theirs = socket.socketpair()
    with ours, theirs:
        answer: list[bytes] = []

        def talk() -> None:
            ours.settimeout(QUICK.wall_seconds)
            answer.append(ours.recv(5))
            ours.sendall(b"ping")
            answer.append(ours.recv(4))

        talker = threading.Thread(target=talk)
        talker.start()
        result = sandbox.run(Job.python(code), QUICK, channel=theirs)
        talker.join(QUICK.wall_seconds)
    _expect(answer == [b"ready", b"PING"] and result.ok, "the channel carries bytes both ways during the run", (answer, result))
    # the only descriptors open: stdio, the channel, and the one listdir itself uses
    _expect(result.stdout == b"[0, 1, 2, 3, 4]\n", "no descriptor but stdio and the channel leaks into the job", result)
