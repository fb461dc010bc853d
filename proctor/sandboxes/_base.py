"""The Sandbox interface, its job and result types, and the backend registry."""

from __future__ import annotations

import abc
import posixpath
import socket
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from proctor.errors import InputError, SandboxUnavailable
from proctor.models import Limits

LimitName = Literal["wall", "cpu", "memory", "processes", "output", "file_size", "disk"]

PYTHON = "python"
"""``Job.command[0]`` naming the sandbox's own Python; a backend may run it warm."""


def _relative_path(path: str) -> str:
    normal = posixpath.normpath(path)
    if not path or normal.startswith(("/", "..")) or normal == ".":
        raise ValueError(f"{path!r} must be a relative path inside the work directory")
    return normal


class Job(BaseModel):
    """One program to run: files written into the work directory, a command, its input.

    ``command[0] == "python"`` means the sandbox's Python, run as ``python -E -s``: the
    environment's PYTHON* variables and user site are ignored and the script's directory is
    on ``sys.path``. Paths in ``files`` and ``collect`` are relative to the work directory;
    ``collect`` names files to bring back, read inside the sandbox without following links.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    command: list[str] = Field(min_length=1)
    files: dict[str, bytes] = Field(default_factory=dict)
    stdin: bytes = b""
    env: dict[str, str] = Field(default_factory=dict)
    collect: list[str] = Field(default_factory=list)

    @field_validator("files", mode="before")
    @classmethod
    def _encode_text_files(cls, files: Any, info: ValidationInfo) -> Any:
        if isinstance(files, dict) and info.mode == "python":  # JSON carries bytes as base64
            return {_relative_path(k): v.encode() if isinstance(v, str) else v for k, v in files.items()}
        if isinstance(files, dict):
            return {_relative_path(k): v for k, v in files.items()}
        return files

    @field_validator("collect")
    @classmethod
    def _relative_collect(cls, paths: list[str]) -> list[str]:
        return [_relative_path(p) for p in paths]

    @classmethod
    def python(cls, code: str, *args: str, **fields: Any) -> Job:
        """Build a job that runs ``code`` as ``main.py`` with the sandbox's Python."""
        files = {"main.py": code.encode(), **fields.pop("files", {})}
        return cls(command=[PYTHON, "main.py", *args], files=files, **fields)


class ExecResult(BaseModel):
    """What happened to one job. A program that failed is a result, not an exception.

    ``exit_code`` is set when the program exited, ``signal`` when a signal ended it.
    ``limit_hit`` names the limit that stopped it, if one did. ``isolated`` is False only for
    the opt-in ``local`` backend. ``enforcement`` says how limits were enforced here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    backend: str
    exit_code: int | None
    signal: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    wall_seconds: float
    cpu_seconds: float | None = None
    peak_memory_bytes: int | None = None
    limit_hit: LimitName | None = None
    files: dict[str, bytes] = Field(default_factory=dict)
    isolated: bool = True
    enforcement: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The program exited with status 0 and no limit stopped it."""
        return self.exit_code == 0 and self.limit_hit is None

    def describe(self) -> str:
        """One line: how the program ended."""
        if self.limit_hit:
            return f"stopped: {self.limit_hit} limit hit"
        if self.signal is not None:
            return f"killed by signal {self.signal}"
        return f"exited with status {self.exit_code}"


OPEN_FILES = 256
"""A job's open files, on every backend. Socket queues are charged to the job's memory cgroup (the
``socket-buffers-pinned`` attack checks it on each backend); this bounds what a kernel that did not
charge them would let a job pin, and the descriptors a job can send in flight."""


class Availability(NamedTuple):
    """Whether a backend can run isolated jobs here, and if not, why and what to do."""

    ok: bool
    reason: str


class Sandbox(abc.ABC):
    """Runs untrusted jobs isolated, under hard limits, leaving nothing running afterwards.

    Implementations guarantee, for every job: a private writable work directory (the current
    directory) and /tmp, each size-capped; no network; no host environment variables; limits
    enforced from outside the job; the job's whole process tree killed when it ends. When
    isolation cannot be set up, ``run`` raises ``SandboxUnavailable``; it never falls back to
    weaker isolation. Sandboxes are context managers and safe to call from several threads.
    """

    name: ClassVar[str]

    @classmethod
    @abc.abstractmethod
    def availability(cls) -> Availability:
        """Say whether this backend can run isolated jobs on this machine, and why not."""

    @abc.abstractmethod
    def run(self, job: Job, limits: Limits | None = None, *, channel: socket.socket | None = None) -> ExecResult:
        """Run ``job`` under ``limits`` and return what happened.

        ``channel``, when given, is a connected AF_UNIX stream socket that the job gets as file
        descriptor 3, to talk with the caller while it runs (the caller keeps the peer). It is
        the only way in or out of the job besides its files, stdin and captured output.
        """

    def ready(self) -> Availability:
        """Whether this instance runs isolated jobs: one trivial job on it, which also warms it."""
        return try_job(self)

    def channel_pair(self) -> tuple[socket.socket, socket.socket]:
        """A connected stream pair for a job's channel: the caller keeps the first and passes the
        second to ``run``. A backend may make it where it tells the job nothing (a socket answers
        ioctls and binds in the network namespace it was made in, not the job's)."""
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def preload(self, modules: Mapping[str, str]) -> bool:
        """Offer pure-Python modules (name → source, standard library imports only) to later jobs.

        A backend that keeps a warm interpreter may load them there once, so that the jobs
        running that interpreter's Python import them without shipping them as files; it
        returns True only when every later such job will find them already imported. The
        default (and any backend that cannot) returns False: the caller ships them as files.
        """
        return False

    def leftovers(self) -> list[str]:
        """Describe anything of this sandbox's finished jobs still running on the host (should be [])."""
        return []

    def close(self) -> None:
        """Release what the backend holds (warm processes, containers). Idempotent."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def probe(make: Callable[[], Sandbox]) -> Availability:
    """Whether a sandbox from ``make`` runs a trivial job correctly; the reason names why not."""
    try:
        with make() as sandbox:
            return try_job(sandbox)
    except SandboxUnavailable as exc:
        return Availability(False, str(exc))


def try_job(sandbox: Sandbox) -> Availability:
    """Whether ``sandbox`` itself runs a trivial job correctly (warming it for the jobs after)."""
    try:
        result = sandbox.run(Job(command=[PYTHON, "-c", "print('ok')"]))
    except SandboxUnavailable as exc:
        return Availability(False, str(exc))
    if result.stdout.strip() != b"ok":
        return Availability(False, f"a trivial job failed: {result.describe()}: {result.stderr[-300:]!r}")
    return Availability(True, "isolated (" + "; ".join(result.enforcement) + ")")


_S = TypeVar("_S", bound=type[Sandbox])
_REGISTRY: dict[str, type[Sandbox]] = {}
_ENTRY_POINT_GROUP = "proctor.sandboxes"


def register_sandbox(name: str) -> Callable[[_S], _S]:
    """Register a Sandbox class under ``name`` (also loadable via the ``proctor.sandboxes`` group)."""

    def decorate(cls: _S) -> _S:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    from proctor.sandboxes import _docker, _local, _namespace  # noqa: F401  (registration)


def sandbox_class(name: str) -> type[Sandbox]:
    """Return the Sandbox class registered as ``name``, loading plugins lazily."""
    _load_builtins()
    if name not in _REGISTRY:
        for ep in entry_points(group=_ENTRY_POINT_GROUP, name=name):
            _REGISTRY[name] = ep.load()
    if name not in _REGISTRY:
        known = ", ".join(sorted(sandbox_names()))
        raise InputError(
            f"unknown sandbox backend {name!r} (known: {known}); a plugin registers more "
            f"under the {_ENTRY_POINT_GROUP!r} entry-point group"
        )
    return _REGISTRY[name]


def sandbox_names() -> list[str]:
    """Names of the built-in and installed sandbox backends."""
    _load_builtins()
    return sorted(set(_REGISTRY) | {ep.name for ep in entry_points(group=_ENTRY_POINT_GROUP)})


def default_sandbox_name() -> str:
    """The backend used when none is named: ``namespace`` on Linux, else ``docker``."""
    return "namespace" if sys.platform.startswith("linux") else "docker"


def get_sandbox(name: str | None = None, **options: Any) -> Sandbox:
    """Create the named backend (default: ``default_sandbox_name()``), failing closed.

    The instance returned has run one trivial job: the check that it isolates is also its warm-up
    (a namespace sandbox's fork server starts once, not once to probe and again to work).
    """
    cls = sandbox_class(name or default_sandbox_name())
    sandbox = cls(**options)
    available = sandbox.ready()
    if not available.ok:
        sandbox.close()
        raise SandboxUnavailable(f"sandbox {cls.name!r} cannot isolate here: {available.reason}")
    return sandbox
