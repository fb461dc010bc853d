"""The ``namespace`` backend: Linux namespaces, cgroups and seccomp, with a warm fork server.

The launcher (this module, in the caller's process) starts one fork server per sandbox (see
``_zygote``), places each job's processes in cgroups of their own, feeds the job to the forked
child, watches its output and limits, and kills its PID namespace's init when anything runs
over, which takes the job's whole process tree with it.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from proctor.errors import SandboxUnavailable
from proctor.models import Limits
from proctor.sandboxes import _cgroups, _netns, _seccomp, _zygote
from proctor.sandboxes._base import OPEN_FILES, PYTHON, Availability, ExecResult, Job, LimitName, Sandbox, probe, register_sandbox
from proctor.sandboxes._supervise import Watch, supervise

DEFAULT_UID = 1_460_000
"""The first host uid sandboxes take: each instance claims a pair of its own (its fork server's, then its
candidates'), so any number of proctor processes share a host without running, or seeing, each other's
jobs as their own. Neither uid should own any file."""
UID_SLOTS = 4096
UID_CLAIMS = Path("/run/proctor/uids")  # root's: a claim is an flock on a file here, held while the instance lives

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf", "/etc/alternatives")
PASSWD = "root:x:0:0:root:/work:/bin/sh\nsandbox:x:1000:1000:sandbox:/work:/bin/sh\n"
GROUP = "root:x:0:\nsandbox:x:1000:\n"
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/work", "LANG": "C.UTF-8", "TMPDIR": "/tmp"}
STARTUP_SECONDS = 10.0


def python_executable() -> str:
    """The real interpreter binary (not a venv's symlink), which the sandbox binds read-only."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _python_prefix() -> str:
    return os.path.realpath(sys.base_prefix)


def _site_dirs() -> list[str]:
    """Directories of installed packages this interpreter knows about, hidden in the sandbox."""
    paths = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    paths |= {sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})[k] for k in ("purelib", "platlib")}
    return sorted(os.path.realpath(p) for p in paths)


def root_layout(expose: tuple[str, ...] = ()) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """What the sandbox's root holds: read-only binds, symlinks and masked directories."""
    binds: list[list[str]] = []
    symlinks: list[list[str]] = []
    for path in (*SYSTEM_PATHS, *ETC_FILES, _python_prefix(), *expose):
        if os.path.islink(path) and os.path.dirname(path) == "/":
            symlinks.append([os.readlink(path), path])
        elif os.path.exists(path):
            real = os.path.realpath(path)
            binds.append([real, path if path in SYSTEM_PATHS or path.startswith("/etc/") else real])
    return binds, symlinks, _site_dirs()


def _machine_problem() -> str | None:
    if not sys.platform.startswith("linux"):
        return "Linux namespaces are only available on Linux"
    if os.geteuid() != 0:
        return (
            "the launcher must run as root to set up cgroups and drop to a dedicated uid "
            "(rootless mode is not supported yet); use --backend docker"
        )
    try:
        max_ns = int(Path("/proc/sys/user/max_user_namespaces").read_text())
    except OSError:
        max_ns = 0
    if max_ns == 0:
        return "user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)"
    return None


def _claim_uid() -> tuple[int, int]:
    """A free pair of host uids for one instance, and the descriptor whose lock holds it (released on close
    or when the process ends, however it ends)."""
    problem = _machine_problem()
    if problem:
        raise SandboxUnavailable(f"namespace sandbox: {problem}")
    try:
        UID_CLAIMS.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise SandboxUnavailable(f"cannot create {UID_CLAIMS} to claim a sandbox uid: {exc.strerror}") from exc
    for slot in range(UID_SLOTS):
        claim = os.open(UID_CLAIMS / str(slot), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(claim)
            continue
        return DEFAULT_UID + 2 * slot, claim
    raise SandboxUnavailable(f"all {UID_SLOTS} sandbox uid pairs are in use on this host; close some sandboxes")


@register_sandbox("namespace")
class NamespaceSandbox(Sandbox):
    """Isolates each job in fresh Linux namespaces under a warm, data-free fork server.

    Args:
        uid: host uid for the fork server; the candidate runs as ``uid + 1``. By default the instance
            claims a free pair above ``DEFAULT_UID`` (a lock held while it lives); a uid given here is
            the caller's to keep unique.
        expose: extra host paths to bind read-only (for example a data directory).
        netns_per_job: give each job its own network namespace (the default; all are always
            offline). False shares the fork server's among jobs: Landlock scopes (ABI 6, Linux
            6.12) still keep each job off the others' abstract Unix sockets, and seccomp allows no
            other family, but every job then sees the others' socket names in /proc/net/unix,
            which a pair of jobs can use to pass data; it saves ~1.4 ms a job.
        seccomp: install the seccomp filter (see ``_seccomp``).
    """

    def __init__(
        self,
        *,
        uid: int | None = None,
        expose: tuple[str, ...] = (),
        netns_per_job: bool | None = True,
        seccomp: bool = True,
    ) -> None:
        self._claim: int | None = None
        if uid is None:
            uid, self._claim = _claim_uid()
        if uid <= 0:
            raise ValueError(
                f"uid must be a dedicated unprivileged host uid (got {uid}): a root-owned user "
                "namespace keeps root's access to host files"
            )
        self._uid = uid
        self._expose = tuple(expose)
        self._scope_sockets = sys.platform.startswith("linux") and _zygote.landlock_abi() >= _zygote.LANDLOCK_SCOPES_SOCKETS
        self._netns_per_job = netns_per_job is not False  # None (what "choose for me" meant before): one per job
        self._seccomp = seccomp
        self._lock = threading.Lock()
        self._server: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._modules: dict[str, str] = {}  # what the fork server preloads (Sandbox.preload), in order
        self._cgroups = _cgroups.unavailable_reason() is None
        self.enforcement = self._enforcement()

    @property
    def uid(self) -> int:
        """The host uid of this instance's fork server; its candidates run as ``uid + 1``."""
        return self._uid

    @classmethod
    def availability(cls) -> Availability:
        problem = _machine_problem()
        if problem:
            return Availability(False, problem)
        return probe(cls)

    def _enforcement(self) -> list[str]:
        quota = f", cpu quota {_cgroups.CPU_CORES} core" if self._cgroups and _cgroups.cpu_quota() else ""
        limits = f"cgroup v1 (memory, pids, cpuacct{quota})" if self._cgroups else "rlimits only (no usable cgroups)"
        filtered = "seccomp" if self._seccomp and _seccomp.unavailable_reason() is None else "no seccomp"
        net = "net per job" if self._netns_per_job else "net shared by jobs, offline"
        between_jobs = ["landlock: abstract Unix sockets scoped to the job"] if self._scope_sockets else []
        return [f"namespaces: user, pid, mount, ipc, uts per job; {net}", limits, filtered, *between_jobs]

    # ------------------------------------------------------------ the fork server

    def _ensure_server(self) -> socket.socket:
        with self._lock:
            if self._control is None or (self._server and self._server.poll() is not None):
                self._start_server()
            assert self._control is not None
            return self._control

    def channel_pair(self) -> tuple[socket.socket, socket.socket]:
        """The pair made in the fork server's network namespace (offline, empty, no other job's; see ``_netns``)."""
        self._ensure_server()
        assert self._server is not None
        try:
            return _netns.pair_in(f"/proc/{self._server.pid}/ns/net")
        except OSError as exc:
            raise SandboxUnavailable(f"namespace sandbox cannot make a channel in its network namespace: {exc}") from None

    def preload(self, modules: Mapping[str, str]) -> bool:
        """Load ``modules`` in the fork server before any later job is forked (see ``Sandbox.preload``).

        A running server gets them in one message on its control socket, which it reads in order,
        so every job requested after this returns finds them; a server started later gets them
        in its configuration. A module that fails to load stops the server with its name.
        """
        with self._lock:
            new = {name: source for name, source in modules.items() if self._modules.get(name) != source}
            if new:
                self._modules.update(new)
                if self._control is not None and self._server is not None and self._server.poll() is None:
                    _send_modules(self._control, new)
        return True

    def _server_config(self) -> _zygote.ServerConfig:
        seccomp = _seccomp.program() if self._seccomp and _seccomp.unavailable_reason() is None else b""
        binds, symlinks, masks = root_layout(self._expose)
        return {
            "uid": self._uid,
            "binds": binds,
            "symlinks": symlinks,
            "masks": masks,
            "files": {"/etc/passwd": PASSWD, "/etc/group": GROUP},
            "netns_per_job": self._netns_per_job,
            "scope_sockets": self._scope_sockets,
            "seccomp": base64.b64encode(seccomp).decode(),
            "modules": dict(self._modules),
        }

    def _start_server(self) -> None:
        problem = _machine_problem()
        if problem:
            raise SandboxUnavailable(f"namespace sandbox: {problem}")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        errors = tempfile.TemporaryFile()
        argv = [python_executable(), "-I", "-S", _zygote.__file__, str(theirs.fileno())]
        self._server = subprocess.Popen(
            argv,
            pass_fds=[theirs.fileno()],
            env={},
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
        theirs.close()
        ours.settimeout(STARTUP_SECONDS)
        try:
            _zygote.send_message(ours, self._server_config())
            self._expect(ours, b"MAP", errors)
            try:
                self._write_id_maps(self._server.pid)
            except OSError as exc:
                raise SandboxUnavailable(f"namespace sandbox could not map uid {self._uid}: {exc.strerror}") from exc
            ours.send(b"MAPPED")
            self._expect(ours, b"READY", errors)
        except BaseException:
            self._stop_server()
            raise
        ours.settimeout(None)
        self._control = ours

    def _expect(self, sock: socket.socket, wanted: bytes, errors: Any) -> None:
        try:
            got = sock.recv(4096)
        except TimeoutError:
            got = b"ERROR no answer within the startup time"
        if got != wanted:
            errors.seek(0)
            detail = got.decode(errors="replace").removeprefix("ERROR ") or errors.read()[-500:].decode(errors="replace")
            raise SandboxUnavailable(f"namespace sandbox could not start: {detail.strip() or 'the fork server exited'}")

    def _write_id_maps(self, pid: int) -> None:
        mapping = f"0 {self._uid} 1\n{_zygote.CANDIDATE_UID} {self._uid + 1} 1\n"
        Path(f"/proc/{pid}/uid_map").write_text(mapping)
        Path(f"/proc/{pid}/gid_map").write_text(mapping)

    def _stop_server(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None:
            if self._server.poll() is None:
                self._server.kill()
            self._server.wait()
            self._server = None

    def close(self) -> None:
        with self._lock:
            self._stop_server()
        _cgroups.drain()
        if self._claim is not None:  # the uid pair is free for another instance once nothing of ours runs as it
            claim, self._claim = self._claim, None
            os.close(claim)

    def leftovers(self) -> list[str]:
        """Processes running as this instance's candidate uid, once discarded cgroups are gone (another
        instance's jobs run as other uids, so they are never counted here)."""
        _cgroups.drain()
        found = []
        for entry in Path("/proc").iterdir():
            try:
                status = (entry / "status").read_text() if entry.name.isdigit() else ""
            except OSError:
                continue
            uid_line = next((line for line in status.splitlines() if line.startswith("Uid:")), "")
            if uid_line and int(uid_line.split()[1]) == self._uid + 1:
                found.append(f"pid {entry.name}")
        return found

    # ------------------------------------------------------------ one job

    def run(self, job: Job, limits: Limits | None = None, *, channel: socket.socket | None = None) -> ExecResult:
        limits = limits or Limits()
        control = self._ensure_server()
        cgroup = _cgroups.JobCgroup(limits.memory_bytes, limits.processes) if self._cgroups else None
        try:
            return _JobRun(self, job, limits, cgroup, channel).execute(control)
        finally:
            if cgroup is not None:
                _cgroups.discard(cgroup)

    def _spec(self, job: Job, limits: Limits) -> _zygote.JobSpec:
        return {
            "command": job.command,
            "warm": _runs_warm(job.command),
            "files": {path: base64.b64encode(data).decode() for path, data in job.files.items()},
            "stdin": base64.b64encode(job.stdin).decode(),
            "env": {**BASE_ENV, **job.env},
            "collect": job.collect,
            "disk_bytes": limits.disk_bytes,
            "output_bytes": limits.output_bytes,
            "rlimits": self._rlimits(limits),
        }

    def _rlimits(self, limits: Limits) -> list[tuple[int, int, int]]:
        cpu = math.ceil(limits.cpu_seconds)
        rlimits = [
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_FSIZE, limits.file_size_bytes, limits.file_size_bytes),
            (resource.RLIMIT_CORE, 0, 0),
            (resource.RLIMIT_NOFILE, OPEN_FILES, OPEN_FILES),
        ]
        if not self._cgroups:  # weaker stand-ins: per process, and NPROC is per host uid
            rlimits += [
                (resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes),
                (resource.RLIMIT_NPROC, limits.processes, limits.processes),
            ]
        return rlimits


def _send_modules(control: socket.socket, modules: dict[str, str]) -> None:
    """Hand a running fork server modules to preload: one "M" message carrying a memfd of JSON."""
    fd = os.memfd_create("proctor-modules")
    try:
        os.write(fd, json.dumps(modules).encode())
        os.lseek(fd, 0, os.SEEK_SET)
        control.sendmsg([b"M"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))])
    finally:
        os.close(fd)


def _runs_warm(command: list[str]) -> bool:
    """``python FILE|-c|-m`` runs in the forked interpreter; other flags need a fresh one."""
    if command[0] != PYTHON:
        return False
    return len(command) > 1 and (command[1] in ("-c", "-m") or not command[1].startswith("-"))


class _JobRun:
    """One job's run, from the fork request to the result."""

    def __init__(
        self, sandbox: NamespaceSandbox, job: Job, limits: Limits, cgroup: _cgroups.JobCgroup | None, channel: socket.socket | None
    ) -> None:
        self.sandbox, self.job, self.limits, self.cgroup = sandbox, job, limits, cgroup
        self.channel = channel
        self.init_pid: int | None = None
        self.init: int | None = None  # a pidfd of the job's init: signals reach it, or no one, never a pid reused since
        self.report: _zygote.JobReport | None = None

    def execute(self, control: socket.socket) -> ExecResult:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        ours.settimeout(STARTUP_SECONDS)
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        started = time.monotonic()
        try:
            control.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, theirs.fileno().to_bytes(4, sys.byteorder))])
            theirs.close()
            self._start(ours, stdout_w, stderr_w)
            os.close(stdout_w)
            os.close(stderr_w)
            stdout_w = stderr_w = -1
            ours.settimeout(None)
            watch = Watch(
                pipes={"stdout": stdout_r, "stderr": stderr_r},
                deadline=started + self.limits.wall_seconds,
                output_bytes=self.limits.output_bytes,
                kill=self._kill,
                channel=self.channel,
                over_limit=self._over_limit,
                extra=(ours.fileno(), lambda: self._on_message(ours)),
            )
            streams, hit = supervise(watch)
        except (OSError, EOFError) as exc:
            self._kill()
            raise SandboxUnavailable(f"namespace sandbox failed to run the job: {exc}") from exc
        finally:
            for fd in (stdout_r, stderr_r, stdout_w, stderr_w):
                if fd >= 0:
                    os.close(fd)
            ours.close()
            if self.init is not None:
                os.close(self.init)
                self.init = None
        return self._result(streams, hit, time.monotonic() - started)

    def _start(self, sock: socket.socket, stdout_w: int, stderr_w: int) -> None:
        self.init_pid = _received_pid(sock, b"P")
        self.init = os.pidfd_open(self.init_pid)  # init waits for its job now, so the pid is still its own
        if self.cgroup is not None:
            self.cgroup.add(self.init_pid)
        fds = (stdout_w, stderr_w) if self.channel is None else (stdout_w, stderr_w, self.channel.fileno())
        _zygote.send_message(sock, self.sandbox._spec(self.job, self.limits), fds=fds)

    def _on_message(self, sock: socket.socket) -> bool:
        try:
            message, _ = _zygote.receive_message(sock, limit=4 * self.limits.output_bytes * (1 + len(self.job.collect)))
        except (EOFError, OSError, ValueError):
            return False
        self.report = _checked_report(message)
        return False

    def _kill(self) -> None:
        if self.init is not None:
            try:
                signal.pidfd_send_signal(self.init, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def _over_limit(self) -> LimitName | None:
        if self.cgroup is not None and self.cgroup.cpu_seconds() > self.limits.cpu_seconds:
            return "cpu"
        return None

    def _result(self, streams: dict[str, Any], hit: LimitName | None, wall: float) -> ExecResult:
        exit_code, signum = _decode_status(self.report)
        cpu = peak = None
        if self.cgroup is not None:
            if self.report is None:  # init did not finish: make sure nothing of the job survives
                self.cgroup.kill_all()
            usage = self.cgroup.usage()
            cpu, peak = usage.cpu_seconds, usage.peak_memory_bytes
            hit = hit or ("memory" if usage.hit_memory else "processes" if usage.hit_processes and exit_code != 0 else None)
        hit = hit or _signal_limit(signum, cpu, self.limits)
        files = _decode_files(self.report)
        return ExecResult(
            backend="namespace",
            exit_code=exit_code,
            signal=signum,
            stdout=bytes(streams["stdout"].data),
            stderr=bytes(streams["stderr"].data),
            stdout_truncated=streams["stdout"].truncated,
            stderr_truncated=streams["stderr"].truncated,
            wall_seconds=wall,
            cpu_seconds=cpu,
            peak_memory_bytes=peak,
            limit_hit=hit,
            files=files,
            enforcement=self.sandbox.enforcement,
        )


def _received_pid(sock: socket.socket, tag: bytes) -> int:
    """Receive ``tag`` with the sender's credentials; return its pid as the host sees it."""
    message, ancillary, _, _ = sock.recvmsg(16, socket.CMSG_SPACE(12))
    if message != tag:
        raise EOFError(f"the sandbox did not send {tag!r} (got {message!r})")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            return int.from_bytes(data[:4], sys.byteorder, signed=True)
    raise EOFError("the sandbox's message carried no credentials")


def _checked_report(message: object) -> _zygote.JobReport | None:
    """``message`` as a JobReport when every field has its type; None (as if init had been killed) when not."""
    if not isinstance(message, dict) or set(message) != {"status", "files"}:
        return None
    status, files = message["status"], message["files"]
    if type(status) is not int or not isinstance(files, dict):
        return None
    if not all(isinstance(path, str) and isinstance(data, str) and _is_base64(data) for path, data in files.items()):
        return None
    return {"status": status, "files": files}


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except binascii.Error:
        return False
    return True


def _decode_status(report: _zygote.JobReport | None) -> tuple[int | None, int | None]:
    """Exit code or signal from init's wait status; (None, SIGKILL) when init was killed."""
    if report is None:
        return None, signal.SIGKILL
    status = report["status"]
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    return os.WEXITSTATUS(status), None


def _signal_limit(signum: int | None, cpu: float | None, limits: Limits) -> LimitName | None:
    if signum == signal.SIGXFSZ:
        return "file_size"
    if signum in (signal.SIGXCPU, signal.SIGKILL) and cpu is not None and cpu >= limits.cpu_seconds * 0.9:
        return "cpu"
    return None


def _decode_files(report: _zygote.JobReport | None) -> dict[str, bytes]:
    if report is None:
        return {}
    return {path: base64.b64decode(data) for path, data in report["files"].items()}
