"""The namespace backend, attacked for real."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest

from proctor.errors import SandboxUnavailable
from proctor.models import Limits
from proctor.sandboxes import Job
from proctor.sandboxes._namespace import NamespaceSandbox


def test_candidate_runs_unprivileged_in_its_own_namespaces(namespace_sandbox):
    code = (
        "import os, socket; print(os.getuid(), os.getpid(), socket.gethostname(), "
        "open('/proc/self/status').read().split('CapEff:')[1].split()[0], sorted(os.listdir('/')))"
    )
    result = namespace_sandbox.run(Job.python(code))
    uid, pid, host, caps, root = result.stdout.decode().split(" ", 4)
    assert (uid, pid, host, caps) == ("1000", "2", "sandbox", "0000000000000000")
    assert "root" in root and "home" not in root and "var" not in root  # only what was bound


def test_site_packages_are_hidden_so_test_data_cannot_be_read(namespace_sandbox):
    import pydantic

    site = str(Path(pydantic.__file__).parent.parent)
    result = namespace_sandbox.run(Job.python(f"import os; print(os.listdir({site!r}))"))
    assert result.stdout.strip() in (b"[]", b"") or b"FileNotFoundError" in result.stderr


def test_input_files_and_their_directories_belong_to_the_candidate(namespace_sandbox):
    code = (
        "import os; open('a/b/c.txt', 'a').write('!'); os.mkdir('a/b/new')\n"
        "print([os.stat(p).st_uid for p in ('a', 'a/b', 'a/b/c.txt', 'top.txt')], open('a/b/c.txt').read())"
    )
    result = namespace_sandbox.run(Job.python(code, files={"a/b/c.txt": b"x", "top.txt": b"y"}))
    assert result.stdout.decode().split() == ["[1000,", "1000,", "1000,", "1000]", "x!"], result.stderr


def test_each_writable_mount_is_size_capped(namespace_sandbox):
    code = """
import os
for where in ('.', '/tmp', '/dev/shm'):
    try:
        with open(os.path.join(where, 'fill'), 'wb') as f:
            while True: f.write(b'x' * 65536)
    except OSError as e:
        print(where, e.errno)
"""
    limits = Limits(disk_bytes=4 * 2**20, file_size_bytes=64 * 2**20)
    result = namespace_sandbox.run(Job.python(code), limits)
    assert result.stdout.split(b"\n")[:3] == [b". 28", b"/tmp 28", b"/dev/shm 28"]  # ENOSPC each


def test_seccomp_denies_namespace_creation_to_the_candidate(namespace_sandbox):
    code = "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); print(libc.unshare(0x10000000), ctypes.get_errno())"
    result = namespace_sandbox.run(Job.python(code))
    assert result.stdout == b"-1 1\n"  # EPERM


def test_concurrent_jobs_each_get_their_own_results(namespace_sandbox):
    def one(n: int) -> bytes:
        return namespace_sandbox.run(Job.python(f"import time; time.sleep(0.05); print({n} * {n})")).stdout

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(24))) == [f"{n * n}\n".encode() for n in range(24)]
    assert namespace_sandbox.leftovers() == []


LISTENER = """
import socket, sys, time
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(b"\\0proctor-between-jobs")
server.listen()
print("listening", flush=True)
server.settimeout(3)
try:
    server.accept()
    print("reached")
except OSError:
    print("alone")
"""
CONNECTOR = """
import socket, time
for _ in range(100):
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(b"\\0proctor-between-jobs")
        print("connected")
        break
    except OSError as exc:
        error = exc.errno
        time.sleep(0.02)
else:
    print("refused", error)
"""


@pytest.mark.parametrize("netns_per_job", [True, False], ids=["default", "shared-netns"])
def test_concurrent_jobs_cannot_reach_each_other_through_abstract_sockets(netns_per_job):
    with NamespaceSandbox(netns_per_job=netns_per_job) as sandbox:
        # A bare connector on the host would reach such a listener; in the sandbox, no other job can.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            listener = pool.submit(sandbox.run, Job.python(LISTENER))
            connector = pool.submit(sandbox.run, Job.python(CONNECTOR))
            assert connector.result().stdout.startswith(b"refused")
            assert listener.result().stdout == b"listening\nalone\n"
        assert any("landlock" in e or "net per job" in e for e in sandbox.enforcement)


NAMER = """
import socket, time
name = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
name.bind(b"\\0proctor-hidden-message")  # a name is data: another job that can read it got a message
print("named", flush=True)
time.sleep(2)
"""
READER = """
import time
for _ in range(100):
    if "proctor-hidden-message" in open("/proc/net/unix").read():
        print("READ IT")
        break
    time.sleep(0.02)
else:
    print("nothing")
"""


@pytest.mark.parametrize(("netns_per_job", "seen"), [(True, False), (False, True)], ids=["default", "shared-netns"])
def test_a_job_cannot_read_another_jobs_socket_names_unless_they_share_a_namespace(netns_per_job, seen):
    with NamespaceSandbox(netns_per_job=netns_per_job) as sandbox, concurrent.futures.ThreadPoolExecutor(2) as pool:
        namer = pool.submit(sandbox.run, Job.python(NAMER))
        reader = pool.submit(sandbox.run, Job.python(READER))
        assert namer.result().stdout == b"named\n"
        assert (reader.result().stdout == b"READ IT\n") is seen  # shared: the trade-off netns_per_job=False makes


def test_peak_memory_and_cpu_time_are_measured(namespace_sandbox):
    result = namespace_sandbox.run(Job.python("x = bytearray(100 * 2**20); sum(range(10**6))"))
    assert result.ok and result.peak_memory_bytes >= 100 * 2**20 and result.cpu_seconds > 0


def test_a_job_forking_busy_processes_gets_one_core_and_cannot_starve_the_jobs_beside_it(namespace_sandbox):
    from proctor.sandboxes import _cgroups

    if not _cgroups.cpu_quota():
        pytest.skip("the cgroup v1 cpu controller is not mounted here, so jobs get no CPU quota")
    spin = (
        "import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        end = time.monotonic() + 1.5\n"
        "        while time.monotonic() < end:\n            pass\n        os._exit(0)\nfor _ in range(4):\n    os.wait()\n"
    )
    result = namespace_sandbox.run(Job.python(spin), Limits(wall_seconds=20, cpu_seconds=20))
    assert result.ok and result.cpu_seconds is not None
    assert result.cpu_seconds <= 1.3 * result.wall_seconds  # four busy processes, one core's worth of time
    assert "cpu quota 1 core" in " ".join(result.enforcement)


def test_root_uid_is_refused_because_it_would_defeat_the_sandbox():
    with pytest.raises(ValueError, match="uid"):
        NamespaceSandbox(uid=0)


def test_fails_closed_when_isolation_cannot_be_set_up():
    # uid + 1 == 2**32 - 1 is the invalid uid, so the kernel refuses the candidate's uid mapping
    with NamespaceSandbox(uid=2**32 - 2) as sandbox, pytest.raises(SandboxUnavailable, match="could not"):
        sandbox.run(Job.python("print('must not run')"))


def test_preloaded_modules_are_imported_by_jobs_without_files_before_and_after_the_server_starts():
    with NamespaceSandbox() as sandbox:
        assert sandbox.preload({"early": "VALUE = 'early'\n"})  # no server yet: it starts with them
        first = sandbox.run(Job.python("import early; print(early.VALUE)"))
        assert sandbox.preload({"late": "import early\nVALUE = early.VALUE + ' and late'\n"})  # a running server
        second = sandbox.run(Job.python("import late, sys; print(late.VALUE, 'late' in sys.modules)"))
        assert sandbox.preload({"early": "VALUE = 'early'\n"})  # already there: nothing sent again
    assert (first.stdout, second.stdout) == (b"early\n", b"early and late True\n"), (first.stderr, second.stderr)


def test_a_preloaded_module_that_fails_stops_the_server_with_its_name():
    with NamespaceSandbox() as sandbox:
        sandbox.preload({"broken": "raise RuntimeError('no')\n"})
        with pytest.raises(SandboxUnavailable, match="cannot preload module broken: RuntimeError: no"):
            sandbox.run(Job.python("print('must not run')"))


def test_get_sandbox_checks_the_instance_it_returns_so_one_fork_server_starts(monkeypatch):
    from proctor.sandboxes import get_sandbox

    started = []
    start = NamespaceSandbox._start_server
    monkeypatch.setattr(NamespaceSandbox, "_start_server", lambda self: (started.append(self), start(self))[1])
    with get_sandbox("namespace") as sandbox:
        assert len(started) == 1  # the availability check ran on this instance
        result = sandbox.run(Job.python("print('work')"))
    assert result.stdout == b"work\n" and started == [sandbox]


@pytest.mark.parametrize(
    "message",
    [
        None,
        [0, {}],
        {"status": True, "files": {}},  # a bool is not a wait status
        {"status": "0", "files": {}},
        {"status": 0},
        {"status": 0, "files": {}, "extra": 1},
        {"status": 0, "files": []},
        {"status": 0, "files": {"out.txt": 5}},
        {"status": 0, "files": {"out.txt": "not base64!"}},
    ],
)
def test_a_job_report_of_the_wrong_shape_counts_as_no_report(message):
    from proctor.sandboxes._namespace import _checked_report

    assert _checked_report(message) is None


def test_a_well_formed_job_report_is_taken_as_it_is():
    from proctor.sandboxes._namespace import _checked_report

    assert _checked_report({"status": 256, "files": {"out.txt": "aGk="}}) == {"status": 256, "files": {"out.txt": "aGk="}}


PARK_PIPES = """
import os, socket, struct
channel = socket.socket(fileno=3)
print("parking", flush=True)
channel.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("2i", 1, 2))])  # its own stdout and stderr
"""


def test_a_job_that_parks_its_pipes_in_the_channel_ends_when_its_init_does(namespace_sandbox):
    """The write ends sit unread in the caller's socket, so the pipes never close; the job is still over."""
    import socket
    import time

    ours, theirs = socket.socketpair()
    with ours, theirs:
        started = time.monotonic()
        result = namespace_sandbox.run(Job.python(PARK_PIPES), Limits(wall_seconds=30), channel=theirs)
        took = time.monotonic() - started
    assert result.ok and result.stdout == b"parking\n" and result.limit_hit is None
    assert took < 5, f"supervision waited {took:.1f} s for pipes held only by the channel"


def test_the_launcher_signals_its_jobs_init_never_a_process_that_took_its_pid_since(namespace_sandbox, monkeypatch):
    """The job parks its pipes (so supervision outlives its init), its init's pid goes to a new
    process, then the caller hangs up, which makes the launcher kill the job: the new process lives."""
    import os
    import select
    import signal
    import socket
    import subprocess
    import threading
    import time

    from proctor.sandboxes import _namespace

    pids = []
    received = _namespace._received_pid
    monkeypatch.setattr(_namespace, "_received_pid", lambda sock, tag: (pids.append(received(sock, tag)), pids[-1])[1])
    ours, theirs = socket.socketpair()
    runner = threading.Thread(
        target=namespace_sandbox.run, args=(Job.python(PARK_PIPES), Limits(wall_seconds=30)), kwargs={"channel": theirs}
    )
    runner.start()
    victim = None
    try:
        select.select([ours], [], [], 10)  # the job parked its pipes (left unread, so they stay open); its init ends now
        deadline = time.monotonic() + 0.5
        while os.path.exists(f"/proc/{pids[0]}") and time.monotonic() < deadline:
            time.sleep(0.001)
        with open("/proc/sys/kernel/ns_last_pid", "w") as counter:  # the kernel's next pid: the finished init's
            counter.write(str(pids[0] - 1))
        victim = subprocess.Popen(["sleep", "30"])
        if victim.pid != pids[0]:
            pytest.skip(f"another process took pid {pids[0]} first")
        ours.shutdown(socket.SHUT_RDWR)  # the hang-up: the launcher kills what it supervises
        runner.join(timeout=10)
        time.sleep(0.1)
        assert victim.poll() is None, "the launcher killed a process that merely reused its job's pid"
    finally:
        if victim is not None:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
        ours.close()
        theirs.close()
        runner.join()


def test_netns_per_job_none_still_means_one_per_job():
    """None used to mean "choose for me"; it must never silently mean the weaker shared namespace."""
    with NamespaceSandbox(netns_per_job=None) as sandbox:
        assert any("net per job" in e for e in sandbox.enforcement)


CHURN = """
import os, time
while True:  # children exit at once, so pids are freed (and could be reused) while the launcher kills
    if os.fork() == 0:
        os._exit(0)
    try:
        os.wait()
    except ChildProcessError:
        pass
"""


@pytest.mark.skipif(not Path("/sys/fs/cgroup/freezer").is_dir(), reason="the cgroup v1 freezer is not mounted here")
def test_kill_all_signals_only_frozen_processes_of_its_cgroup(monkeypatch):
    """A pid freed between reading cgroup.procs and the signal could be someone else's by then."""
    import os
    import signal
    import subprocess
    import sys

    from proctor.sandboxes import _cgroups

    cgroup = _cgroups.JobCgroup(256 * 2**20, 64)
    churn = subprocess.Popen([sys.executable, "-c", CHURN], preexec_fn=lambda: cgroup.add(os.getpid()))
    signalled: list[tuple[int, str, bool]] = []
    real_kill = os.kill

    def watched_kill(pid: int, sig: int) -> None:
        if sig == signal.SIGKILL:
            state = cgroup._read("freezer", "freezer.state").strip()
            signalled.append((pid, state, pid in cgroup.pids()))
        real_kill(pid, sig)

    try:
        monkeypatch.setattr(_cgroups.os, "kill", watched_kill)
        assert cgroup.kill_all()
    finally:
        monkeypatch.undo()
        churn.kill()
        churn.wait()
        cgroup.remove()
    assert signalled, "nothing was signalled"
    assert all(state == "FROZEN" and member for _, state, member in signalled), signalled
