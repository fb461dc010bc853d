"""Per-job cgroups (v1 ``memory``, ``pids``, ``cpuacct``; ``cpu`` and ``freezer`` where mounted), created and read by the launcher.

Limits enforced here hold for the job's whole process tree, whatever uid its processes run as,
which rlimits cannot do (``RLIMIT_NPROC`` is per host uid and ignored for root; ``RLIMIT_AS``
is per process and does not see tmpfs pages). Where the ``cpu`` controller is mounted, a job runs
on at most ``CPU_CORES`` cores' worth of time (CFS quota), so a job that forks busy processes
cannot starve the jobs beside it (a reference being timed, another sample) or the host.
"""

from __future__ import annotations

import functools
import os
import queue
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import NamedTuple

CONTROLLERS = ("memory", "pids", "cpuacct")
# Used where mounted, never a reason to refuse a job: ``cpu`` for the CPU quota, ``freezer`` so that
# kill_all signals only processes that cannot exit meanwhile (a pid freed between reading and
# signalling could be reused by someone else's process).
OPTIONAL = ("cpu", "freezer")
PARENT = "proctor"
CPU_CORES = 1
FREEZE_SECONDS = 1.0  # how long kill_all waits for the freezer before signalling anyway
_PERIOD_US = 100_000


class Usage(NamedTuple):
    """What a job used, read from its cgroups after it ended."""

    cpu_seconds: float
    peak_memory_bytes: int
    hit_memory: bool
    hit_processes: bool


@functools.cache
def _mount_points() -> dict[str, Path]:
    """Where each v1 controller is mounted; read once per process (every job needs it)."""
    found: dict[str, Path] = {}
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            _, point, fstype, options, *_ = line.split()
            if fstype == "cgroup":
                for option in options.split(","):
                    found.setdefault(option, Path(point))
    return found


def cpu_quota() -> bool:
    """Whether jobs get a CPU quota here (the ``cpu`` controller is mounted and usable)."""
    points = _mount_points()
    return "cpu" in points and _parent_ready(points["cpu"])


@functools.cache
def _parent_ready(point: Path) -> bool:
    try:
        (point / PARENT).mkdir(exist_ok=True)
    except OSError:
        return False
    return True


def unavailable_reason() -> str | None:
    """Why per-job v1 cgroups cannot be used here, or None when they can."""
    _mount_points.cache_clear()  # a fresh look: controllers may have been mounted since
    points = _mount_points()
    missing = [c for c in CONTROLLERS if c not in points]
    if missing:
        return f"cgroup v1 controllers not mounted: {', '.join(missing)}"
    for controller in CONTROLLERS:
        parent = points[controller] / PARENT
        try:
            parent.mkdir(exist_ok=True)
        except OSError as exc:
            return f"cannot create {parent}: {exc.strerror}"
    return None


class JobCgroup:
    """One job's cgroups in each controller; remove() after the job's processes are gone."""

    def __init__(self, memory_bytes: int, processes: int) -> None:
        points = _mount_points()
        name = uuid.uuid4().hex[:16]
        present = CONTROLLERS + tuple(c for c in OPTIONAL if c in points and _parent_ready(points[c]))
        self.paths = {c: f"{points[c]}/{PARENT}/{name}" for c in present}  # str: read often, per job
        for path in self.paths.values():
            os.mkdir(path)
        self._write("memory", "memory.limit_in_bytes", memory_bytes)
        self._write("pids", "pids.max", processes)
        if "cpu" in self.paths:
            self._write("cpu", "cpu.cfs_period_us", _PERIOD_US)
            self._write("cpu", "cpu.cfs_quota_us", CPU_CORES * _PERIOD_US)

    def _write(self, controller: str, name: str, value: object) -> None:
        fd = os.open(f"{self.paths[controller]}/{name}", os.O_WRONLY)
        try:
            os.write(fd, f"{value}\n".encode())
        finally:
            os.close(fd)

    def _read(self, controller: str, name: str) -> str:
        fd = os.open(f"{self.paths[controller]}/{name}", os.O_RDONLY)
        try:
            chunks = [os.read(fd, 1 << 16)]
            while chunks[-1]:  # cgroup.procs can outgrow one read
                chunks.append(os.read(fd, 1 << 16))
            return b"".join(chunks).decode()
        finally:
            os.close(fd)

    def add(self, pid: int) -> None:
        """Move ``pid`` into every controller's cgroup; its future children follow."""
        for controller in self.paths:
            self._write(controller, "cgroup.procs", pid)

    def cpu_seconds(self) -> float:
        return int(self._read("cpuacct", "cpuacct.usage")) / 1e9

    def usage(self) -> Usage:
        events = dict(line.split() for line in self._read("pids", "pids.events").splitlines())
        oom = dict(line.split() for line in self._read("memory", "memory.oom_control").splitlines())
        return Usage(
            cpu_seconds=self.cpu_seconds(),
            peak_memory_bytes=int(self._read("memory", "memory.max_usage_in_bytes")),
            hit_memory=int(oom.get("oom_kill", "0")) > 0,
            hit_processes=int(events.get("max", "0")) > 0,
        )

    def pids(self) -> list[int]:
        return [int(p) for p in self._read("pids", "cgroup.procs").split()]

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process left in the cgroup until it is empty; False if it never empties.

        With the freezer, the processes are frozen first: a frozen process cannot exit, so every
        pid read is still theirs when it is signalled; they die when thawed. Without it, a pid
        could be freed and reused between the read and the signal (cgroup v1 has no ``cgroup.kill``).
        """
        stop = time.monotonic() + timeout
        while self.pids():
            if time.monotonic() > stop:
                return False
            self._freeze(min(stop, time.monotonic() + FREEZE_SECONDS))
            for pid in self.pids():  # read after freezing: none of these can exit before its signal
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if "freezer" in self.paths:
                self._write("freezer", "freezer.state", "THAWED")
            time.sleep(0.001)
        return True

    def _freeze(self, stop: float) -> None:
        """Freeze the job's processes, waiting until every one is frozen or ``stop`` passes.

        A process the freezer cannot stop in time (stuck in the kernel) is signalled unfrozen.
        """
        if "freezer" not in self.paths:
            return
        self._write("freezer", "freezer.state", "FROZEN")
        while self._read("freezer", "freezer.state").strip() != "FROZEN" and time.monotonic() < stop:
            time.sleep(0.001)

    def remove(self) -> None:
        for path in self.paths.values():
            for _ in range(100):
                try:
                    os.rmdir(path)
                    break
                except OSError:  # processes still exiting; they leave within milliseconds
                    time.sleep(0.001)


_discarded: queue.Queue[JobCgroup] = queue.Queue()
_reaper_lock = threading.Lock()
_reaper: threading.Thread | None = None


def discard(cgroup: JobCgroup) -> None:
    """Kill what is left in ``cgroup`` and remove it, off the caller's path.

    Called once a job has reported: by then its init has killed and reaped every other
    process of the job and is itself exiting, which takes a few milliseconds of namespace
    teardown that the caller need not wait for.
    """
    global _reaper
    _discarded.put(cgroup)
    with _reaper_lock:
        if _reaper is None or not _reaper.is_alive():
            _reaper = threading.Thread(target=_reap_forever, name="proctor-cgroup-reaper", daemon=True)
            _reaper.start()


def drain() -> None:
    """Wait until every discarded cgroup is empty and removed."""
    _discarded.join()


def _reap_forever() -> None:
    while True:
        cgroup = _discarded.get()
        try:
            cgroup.kill_all()
            cgroup.remove()
        finally:
            _discarded.task_done()
