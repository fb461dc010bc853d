"""The ``docker`` backend: one fresh container per job, through the docker SDK and a real engine.

Each container: no network, a read-only root, size-capped tmpfs on /work and /tmp, memory,
pids and CPU limits, every capability dropped, no-new-privileges, the unprivileged ``sandbox``
user, proctor's bootstrap as PID 1 (no docker-init), no logs kept. Images are never pulled: ``proctor sandbox build``
makes one locally. With ``pool=N``, up to N containers are created and started ahead of time,
each waiting for its one job; a container never runs a second job.

A small trusted bootstrap inside the container reads the job from stdin, forks the candidate,
and after it exits kills what is left, collects requested files and reports the exact wait
status after a per-job random delimiter that only the (non-dumpable) bootstrap knows.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

from proctor.errors import SandboxUnavailable
from proctor.models import Limits
from proctor.sandboxes import _netns, _seccomp
from proctor.sandboxes._base import OPEN_FILES, PYTHON, Availability, ExecResult, Job, LimitName, Sandbox, probe, register_sandbox
from proctor.sandboxes._cgroups import CPU_CORES
from proctor.sandboxes._image import IMAGE_PYTHON, default_tag
from proctor.sandboxes._namespace import BASE_ENV
from proctor.sandboxes._supervise import Stream, Watch, supervise

ENFORCEMENT = "docker: no network, read-only root, cap-drop ALL, cgroup limits, proctor's seccomp profile"

LABEL = "proctor.sandbox"
BOOTSTRAP = r"""
import base64, ctypes, json, os, signal, sys
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: the candidate cannot read our memory
def read(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            os._exit(125)
        data += chunk
    return data
spec = json.loads(read(int.from_bytes(read(8), "big")))
for path, blob in spec["files"].items():
    full = os.path.join("/work", path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as handle:
        handle.write(base64.b64decode(blob))
channel = None
if spec["channel"]:  # the launcher hands us the caller's channel socket over a bind-mounted one
    import socket
    with socket.socket(socket.AF_UNIX) as door:
        door.connect("/run/proctor/door.sock")
        _, ancillary, _, _ = door.recvmsg(1, socket.CMSG_SPACE(4))
    channel = next(int.from_bytes(data[:4], sys.byteorder) for _, _, data in ancillary)
fd = os.open("/tmp", os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, base64.b64decode(spec["stdin"]))
os.lseek(fd, 0, 0)
pid = os.fork()
if pid == 0:
    os.setsid()
    os.dup2(fd, 0)
    if channel is not None:
        os.dup2(channel, 3)
    os.closerange(3 if channel is None else 4, 65536)
    try:
        os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
    except OSError as exc:
        os.write(2, f"cannot execute {spec['argv'][0]!r}: {exc.strerror}\n".encode())
    os._exit(127)
while True:  # PID 1: reap every orphan the job leaves until the job itself ends
    ended, status = os.wait()
    if ended == pid:
        break
signal.signal(signal.SIGTERM, signal.SIG_IGN)
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
found = {}
for path in spec["collect"]:
    try:
        handle = os.open(os.path.join("/work", path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        continue
    info = os.fstat(handle)
    if (info.st_mode & 0o170000) == 0o100000 and info.st_size <= spec["limit"]:
        found[path] = base64.b64encode(os.read(handle, spec["limit"])).decode()
    os.close(handle)
sys.stderr.flush()
os.write(2, (spec["delimiter"] + json.dumps({"status": status, "files": found})).encode())
"""


def engine() -> Any:
    """A docker client for the local engine, or SandboxUnavailable saying how to get one."""
    try:
        import docker
    except ImportError as exc:
        raise SandboxUnavailable("the docker SDK is not installed: pip install 'proctor[docker]'") from exc
    try:
        client = docker.from_env(version="auto", timeout=30)
        client.ping()
    except Exception as exc:
        raise SandboxUnavailable(
            f"no Docker engine answers ({type(exc).__name__}); start dockerd (Debian: apt-get install docker.io)"
        ) from exc
    return client


@register_sandbox("docker")
class DockerSandbox(Sandbox):
    """Runs each job in a fresh, locked-down container of a locally built image.

    Args:
        image: the image tag (default: what ``proctor sandbox build`` makes).
        pool: how many containers to keep created and started ahead of jobs (0: none).
        pool_limits: the limits pooled containers are made with; jobs with other limits get a
            container made for them.
    """

    def __init__(self, *, image: str | None = None, pool: int = 0, pool_limits: Limits | None = None) -> None:
        self._client = engine()
        self._instance = uuid.uuid4().hex
        self._image = image or default_tag()
        self._require_image()
        self._pool_limits = pool_limits or Limits()
        self._pool: queue.Queue[_Container] = queue.Queue()
        self._pool_lock = threading.Lock()  # a container being added to the pool is not a leftover
        self._closed = threading.Event()
        self._filler: threading.Thread | None = None
        self._channel_namespace = _channel_namespace()
        if pool > 0:
            self._filler = threading.Thread(target=self._fill, args=(pool,), daemon=True, name="proctor-docker-pool")
            self._filler.start()

    @classmethod
    def availability(cls) -> Availability:
        return probe(cls)

    def channel_pair(self) -> tuple[socket.socket, socket.socket]:
        """The pair made in this sandbox's own offline network namespace (see ``_netns``), where the process may
        make one (root); else in the caller's, as the base class does, and ``enforcement`` says so."""
        if self._channel_namespace is None:
            return super().channel_pair()
        return _netns.pair_in(f"/proc/self/fd/{self._channel_namespace}")

    @property
    def enforcement(self) -> list[str]:
        where = "a private network namespace" if self._channel_namespace is not None else "the caller's network namespace"
        return [f"{ENFORCEMENT}; channel made in {where}"]

    def _require_image(self) -> None:
        import docker

        try:
            self._client.images.get(self._image)
        except docker.errors.ImageNotFound:
            raise SandboxUnavailable(
                f"docker image {self._image!r} is missing; build it with: proctor sandbox build "
                "(a repository task's own image: docker build or docker import it)"
            ) from None

    def _fill(self, size: int) -> None:
        while not self._closed.is_set():
            if self._pool.qsize() >= size:
                time.sleep(0.01)
                continue
            try:
                with self._pool_lock:
                    self._pool.put(_Container.start(self._client, self._image, self._pool_limits, self._instance))
            except Exception:  # noqa: BLE001  (engine trouble: jobs will create their own and report it)
                time.sleep(0.5)

    def _container(self, limits: Limits) -> _Container:
        if self._filler is not None and limits == self._pool_limits:
            try:
                return self._pool.get(timeout=5)
            except queue.Empty:
                pass
        return _Container.start(self._client, self._image, limits, self._instance)

    def run(self, job: Job, limits: Limits | None = None, *, channel: socket.socket | None = None) -> ExecResult:
        limits = limits or Limits()
        try:
            container = self._container(limits)
        except SandboxUnavailable:
            raise
        except Exception as exc:
            raise SandboxUnavailable(f"docker could not start a container: {exc}") from exc
        try:
            return container.execute(job, limits, channel)
        finally:
            container.remove()

    def leftovers(self) -> list[str]:
        with self._pool_lock:
            pooled = {c.id for c in list(self._pool.queue)}
            running = self._client.containers.list(all=True, filters={"label": f"{LABEL}={self._instance}"})
        return [f"container {c.short_id}" for c in running if c.id not in pooled]

    def close(self) -> None:
        self._closed.set()
        if self._filler is not None:
            self._filler.join(timeout=10)
        while not self._pool.empty():
            self._pool.get().remove()
        if self._channel_namespace is not None:
            os.close(self._channel_namespace)
            self._channel_namespace = None


class _Container:
    """One started container waiting on stdin for its single job.

    Its door is a listening Unix socket in a host directory bind-mounted at /run/proctor:
    a job with a channel gets the caller's socket passed through it (SCM_RIGHTS).
    """

    def __init__(self, client: Any, container: Any, sock: socket.socket, door: _Door) -> None:
        self.client, self.container, self.sock, self.door = client, container, sock, door
        self.id = container.id

    @classmethod
    def start(cls, client: Any, image: str, limits: Limits, instance: str) -> _Container:
        from docker.types import Ulimit

        cpu = int(limits.cpu_seconds) + 1
        door = _Door()
        container = client.containers.create(
            image,
            command=[IMAGE_PYTHON, "-I", "-S", "-c", BOOTSTRAP],
            stdin_open=True,
            user="1000:1000",
            working_dir="/work",
            network_mode="none",
            read_only=True,
            init=False,  # the bootstrap is PID 1: docker-init would run dumpable as the job's uid, its memory in reach
            labels={LABEL: instance},  # its sandbox's own: another proctor's containers are never its leftovers
            tmpfs={"/work": f"size={limits.disk_bytes},uid=1000,gid=1000,mode=0755", "/tmp": f"size={limits.disk_bytes},mode=1777"},
            shm_size=limits.disk_bytes,
            mem_limit=limits.memory_bytes,
            memswap_limit=limits.memory_bytes,
            pids_limit=limits.processes,
            nano_cpus=CPU_CORES * 10**9,  # as the namespace backend: a job cannot starve the jobs beside it
            cap_drop=["ALL"],
            security_opt=["no-new-privileges", f"seccomp={_seccomp.docker_profile()}"],  # the namespace backend's filter
            log_config={"type": "none"},
            volumes={door.directory: {"bind": "/run/proctor", "mode": "ro"}},
            ulimits=[
                Ulimit(name="cpu", soft=cpu, hard=cpu + 1),
                Ulimit(name="fsize", soft=limits.file_size_bytes, hard=limits.file_size_bytes),
                Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="nofile", soft=OPEN_FILES, hard=OPEN_FILES),
            ],
        )
        raw = client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        sock = getattr(raw, "_sock", raw)
        container.start()
        return cls(client, container, sock, door)

    def execute(self, job: Job, limits: Limits, channel: socket.socket | None) -> ExecResult:
        delimiter = "\n" + secrets.token_hex(32) + "\n"
        spec = json.dumps(_spec(job, limits, delimiter, channel is not None)).encode()
        started = time.monotonic()
        self.sock.sendall(len(spec).to_bytes(8, "big") + spec)
        if channel is not None:
            self.door.hand_over(channel, timeout=min(limits.wall_seconds, 30.0))
        streams = {"stdout": Stream(limits.output_bytes), "stderr": Stream(limits.output_bytes + len(spec) + 4096)}
        reader = _Demux(self.sock, streams)

        def over() -> LimitName | None:
            return "output" if streams["stdout"].truncated else None

        watch = Watch(
            pipes={},
            deadline=started + limits.wall_seconds,
            output_bytes=limits.output_bytes,
            kill=self.kill,
            channel=channel,
            over_limit=over,
            extra=(self.sock.fileno(), reader.read),
        )
        _, hit = supervise(watch)
        state = self._final_state()
        return _result(streams, hit, delimiter, state, time.monotonic() - started, limits)

    def _final_state(self) -> dict[str, Any]:
        try:
            self.container.wait(timeout=10)
            self.container.reload()
            return dict(self.container.attrs.get("State", {}))
        except Exception:  # noqa: BLE001  (already gone)
            return {}

    def kill(self) -> None:
        """Stop listening (the engine may hold gigabytes of buffered output) and kill the container."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.container.kill()
        except Exception:  # noqa: BLE001  (already exited)
            pass

    def remove(self) -> None:
        try:
            self.sock.close()
            self.container.remove(force=True)
        except Exception:  # noqa: BLE001  (already removed)
            pass
        self.door.close()


class _Door:
    """A listening Unix socket in a fresh host directory, through which one channel is passed."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="proctor-door-")
        os.chmod(self.directory, 0o755)  # the container's user may connect, never create files
        path = os.path.join(self.directory, "door.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        os.chmod(path, 0o777)
        self.listener.listen(1)

    def hand_over(self, channel: socket.socket, timeout: float) -> None:
        """Pass ``channel`` to the container's bootstrap when it connects."""
        self.listener.settimeout(timeout)
        try:
            connection, _ = self.listener.accept()
        except TimeoutError:
            return  # the job never asked (it died first); the run reports how it ended
        with connection:
            connection.sendmsg([b"C"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, channel.fileno().to_bytes(4, sys.byteorder))])

    def close(self) -> None:
        self.listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class _Demux:
    """Splits docker's multiplexed attach stream (8-byte frame headers) into stdout and stderr."""

    def __init__(self, sock: socket.socket, streams: dict[str, Stream]) -> None:
        self.sock, self.streams, self.buffer = sock, streams, b""

    def read(self) -> bool:
        try:
            chunk = self.sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if not chunk:
            return False
        self.buffer += chunk
        while len(self.buffer) >= 8:
            kind, size = struct.unpack(">BxxxL", self.buffer[:8])
            if len(self.buffer) < 8 + size:
                break
            payload, self.buffer = self.buffer[8 : 8 + size], self.buffer[8 + size :]
            self.streams["stderr" if kind == 2 else "stdout"].take(payload)
        return True


def _spec(job: Job, limits: Limits, delimiter: str, channel: bool) -> dict[str, Any]:
    argv = [IMAGE_PYTHON, "-E", "-s", *job.command[1:]] if job.command[0] == PYTHON else list(job.command)
    return {
        "argv": argv,
        "env": {**BASE_ENV, **job.env},
        "collect": job.collect,
        "limit": limits.output_bytes,
        "files": {p: base64.b64encode(d).decode() for p, d in job.files.items()},
        "stdin": base64.b64encode(job.stdin).decode(),
        "delimiter": delimiter,
        "channel": channel,
    }


def _result(
    streams: dict[str, Stream], hit: LimitName | None, delimiter: str, state: dict[str, Any], wall: float, limits: Limits
) -> ExecResult:
    stderr, _, tail = bytes(streams["stderr"].data).partition(delimiter.encode())
    try:
        report = json.loads(tail) if tail else None
    except ValueError:
        report = None
    exit_code, signum = _status(report, state)
    if hit is None and state.get("OOMKilled"):
        hit = "memory"
    files = {k: base64.b64decode(v) for k, v in ((report or {}).get("files") or {}).items()}
    return ExecResult(
        backend="docker",
        exit_code=exit_code,
        signal=signum,
        stdout=bytes(streams["stdout"].data),
        stderr=stderr[: limits.output_bytes],
        stdout_truncated=streams["stdout"].truncated,
        stderr_truncated=len(stderr) > limits.output_bytes,
        wall_seconds=wall,
        limit_hit=hit,
        files=files,
        enforcement=[ENFORCEMENT],
    )


def _channel_namespace() -> int | None:
    """An offline network namespace for this sandbox's channels, or None where this process may not make one."""
    try:
        return _netns.private_namespace()
    except OSError:
        return None


def _status(report: dict[str, Any] | None, state: dict[str, Any]) -> tuple[int | None, int | None]:
    """The job's exit status from the bootstrap's own report, which the candidate cannot write.

    Without that report the container's exit code can only say the job failed: whatever ended the
    bootstrap before it reported, an exit code of 0 is not the job's. No report and no failing code
    reads as killed (SIGKILL), never as a success.
    """
    if report is not None and type(report.get("status")) is int:
        status = report["status"]
        if os.WIFSIGNALED(status):
            return None, os.WTERMSIG(status)
        return os.WEXITSTATUS(status), None
    code = state.get("ExitCode")
    if type(code) is int and code > 128:  # the engine reports PID 1's death by signal N as 128 + N
        return None, code - 128
    if type(code) is int and code != 0:
        return code, None
    return None, signal.SIGKILL
