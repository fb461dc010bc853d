"""The ``local`` backend: a plain subprocess with rlimits. It is NOT isolation.

For machines without namespaces or Docker. It runs only when the caller opts in with
``unsafe=True`` and warns on every run: the job can read and write whatever the calling user
can, reach the network, and a daemon it starts in a new session outlives the run.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from proctor.errors import SandboxUnavailable
from proctor.models import Limits
from proctor.sandboxes._base import PYTHON, Availability, ExecResult, Job, Sandbox, register_sandbox
from proctor.sandboxes._namespace import python_executable
from proctor.sandboxes._supervise import Watch, supervise

WARNING = "the 'local' sandbox backend is not isolation: the job runs as you, with your files and network"

CHANNEL_SHIM = "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); fd != 3 and os.close(fd); os.execvp(sys.argv[2], sys.argv[2:])"


class UnsafeSandboxWarning(UserWarning):
    """Emitted on every run of a backend that does not isolate."""


@register_sandbox("local")
class LocalSandbox(Sandbox):
    """Runs jobs as plain subprocesses under rlimits, in a new session and a temporary directory."""

    def __init__(self, *, unsafe: bool = False) -> None:
        if not unsafe:
            raise SandboxUnavailable(
                "the 'local' backend does not isolate; opt in explicitly "
                "(LocalSandbox(unsafe=True), or --unsafe-local on the command line)"
            )

    @classmethod
    def availability(cls) -> Availability:
        return Availability(True, "runs, but is NOT isolation: opt-in only (--unsafe-local)")

    def ready(self) -> Availability:
        return self.availability()  # no trial job: every job here warns that it is not isolated

    def run(self, job: Job, limits: Limits | None = None, *, channel: socket.socket | None = None) -> ExecResult:
        limits = limits or Limits()
        warnings.warn(WARNING, UnsafeSandboxWarning, stacklevel=2)
        with tempfile.TemporaryDirectory(prefix="proctor-local-") as workdir:
            for path, data in job.files.items():
                target = Path(workdir, path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            return self._run_in(workdir, job, limits, channel)

    def _run_in(self, workdir: str, job: Job, limits: Limits, channel: socket.socket | None) -> ExecResult:
        command = [python_executable(), "-E", "-s", *job.command[1:]] if job.command[0] == PYTHON else job.command
        if channel is not None:  # subprocess cannot place an fd at a chosen number; a shim can
            command = [python_executable(), "-I", "-S", "-c", CHANNEL_SHIM, str(channel.fileno()), *command]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "TMPDIR": workdir, **job.env}
        started = time.monotonic()
        with tempfile.TemporaryFile() as stdin:
            stdin.write(job.stdin)
            stdin.seek(0)
            process = subprocess.Popen(
                command,
                cwd=workdir,
                env=env,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=lambda: _apply_rlimits(limits),
                pass_fds=() if channel is None else (channel.fileno(),),
            )
        assert process.stdout is not None and process.stderr is not None

        def kill() -> None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        watch = Watch(
            pipes={"stdout": process.stdout.fileno(), "stderr": process.stderr.fileno()},
            deadline=started + limits.wall_seconds,
            output_bytes=limits.output_bytes,
            kill=kill,
            channel=channel,
        )
        streams, hit = supervise(watch)
        kill()  # whatever is left of the group; daemons in other sessions escape (not isolation)
        status = process.wait()
        process.stdout.close()
        process.stderr.close()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        files = {
            p: Path(workdir, p).read_bytes() for p in job.collect if Path(workdir, p).is_file() and not Path(workdir, p).is_symlink()
        }
        return ExecResult(
            backend="local",
            exit_code=status if status >= 0 else None,
            signal=-status if status < 0 else None,
            stdout=bytes(streams["stdout"].data),
            stderr=bytes(streams["stderr"].data),
            stdout_truncated=streams["stdout"].truncated,
            stderr_truncated=streams["stderr"].truncated,
            wall_seconds=time.monotonic() - started,
            peak_memory_bytes=usage.ru_maxrss * 1024,
            limit_hit=hit,
            files=files,
            isolated=False,
            enforcement=["rlimits only", "no isolation"],
        )


def _apply_rlimits(limits: Limits) -> None:
    cpu = int(limits.cpu_seconds) + 1
    for kind, value in (
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(kind, (value, value))
