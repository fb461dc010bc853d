"""``proctor sandbox``: check, build, run and demo the sandbox backends."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from proctor._display import shown
from proctor.errors import InputError

if TYPE_CHECKING:
    from proctor.models import Limits
    from proctor.sandboxes import ExecResult, Sandbox

sandbox_app = typer.Typer(help="Check, build and use the sandboxes that run untrusted code.", no_args_is_help=True)

BACKEND_HELP = "Sandbox backend: namespace (default on Linux), docker, or local (NOT isolation)."
UNSAFE_HELP = "Allow the 'local' backend, which does not isolate the code at all."


def open_sandbox(backend: str | None, unsafe_local: bool) -> Sandbox:
    """Create the chosen backend, refusing ``local`` unless the user opted in."""
    from proctor.sandboxes import default_sandbox_name, get_sandbox

    name = backend or default_sandbox_name()
    if name == "local":
        if not unsafe_local:
            raise InputError("the 'local' backend does not isolate; pass --unsafe-local to use it anyway")
        typer.secho("proctor: warning: 'local' backend: the code runs UNISOLATED, as you", err=True, fg="yellow")
        return get_sandbox(name, unsafe=True)
    return get_sandbox(name)


@sandbox_app.command("check")
def check() -> None:
    """Say which backends can isolate code on this machine, and why the others cannot.

    Runs a trivial job on each backend. Exits 0 when the default backend works, 3 otherwise.
    """
    from proctor.sandboxes import default_sandbox_name, sandbox_class, sandbox_names

    default = default_sandbox_name()
    default_ok = False
    for name in sandbox_names():
        available = sandbox_class(name).availability()
        mark = typer.style("ok  ", fg="green") if available.ok else typer.style("no  ", fg="red")
        suffix = " (default)" if name == default else ""
        typer.echo(f"{mark}{name}{suffix}: {available.reason}")
        default_ok |= name == default and available.ok
    if not default_ok:
        raise typer.Exit(3)


@sandbox_app.command("build")
def build(
    tag: str = typer.Option(None, help="Image tag (default: proctor-sandbox:<python version>)."),
) -> None:
    """Build the docker backend's image locally from this machine's Python (no registry needed)."""
    from proctor.sandboxes._image import build_image

    image = build_image(tag, progress=lambda line: typer.echo(line, err=True))
    typer.echo(image)


def _limits(wall: float, memory_mb: int, output_kb: int) -> Limits:
    from proctor.models import Limits

    return Limits(wall_seconds=wall, cpu_seconds=wall, memory_bytes=memory_mb * 1024 * 1024, output_bytes=output_kb * 1024)


@sandbox_app.command("run")
def run(
    script: Path = typer.Argument(..., help="Python file to run in the sandbox."),
    args: list[str] = typer.Argument(None, help="Arguments passed to the script."),
    backend: str = typer.Option(None, "--backend", "-b", help=BACKEND_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object.", metavar=""),
    wall: float = typer.Option(10.0, help="Wall-clock limit in seconds (also the CPU limit)."),
    memory_mb: int = typer.Option(512, "--memory-mb", help="Memory limit in MiB."),
    output_kb: int = typer.Option(1024, "--output-kb", help="Cap on each captured stream, in KiB."),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
) -> None:
    """Run a Python file isolated and print how it ended, its output, time and memory.

    Exits 0 when the run took place, whatever the script did; 2 on bad input; 3 when isolation
    could not be set up.
    """
    from proctor.sandboxes import Job

    if not script.is_file():
        raise InputError(f"{script}: no such file; give the path of a Python file to run")
    code = script.read_bytes()
    limits = _limits(wall, memory_mb, output_kb)
    with open_sandbox(backend, unsafe_local) as sandbox:
        result = sandbox.run(Job(command=["python", script.name, *(args or [])], files={script.name: code}), limits)
    _print_result(result, as_json)


def _print_result(result: ExecResult, as_json: bool) -> None:
    if as_json:
        payload = result.model_dump(mode="json", exclude={"stdout", "stderr", "files"})
        payload.update(stdout=result.stdout.decode(errors="replace"), stderr=result.stderr.decode(errors="replace"))
        typer.echo(json.dumps(payload, indent=2))
        return
    _show_output(sys.stdout, result.stdout)
    _show_output(sys.stderr, result.stderr)
    memory = f"{result.peak_memory_bytes / 2**20:.1f} MiB" if result.peak_memory_bytes else "unknown"
    cpu = f"{result.cpu_seconds:.3f} s" if result.cpu_seconds is not None else "unknown"
    truncated = " (output truncated)" if result.stdout_truncated or result.stderr_truncated else ""
    typer.secho(
        f"[{result.backend}] {result.describe()}{truncated}; wall {result.wall_seconds:.3f} s, cpu {cpu}, peak memory {memory}",
        err=True,
        fg="cyan",
    )


def _show_output(stream: Any, output: bytes) -> None:
    """The job's own bytes, exactly, into a file or pipe; escaped where a person reads them (a terminal)."""
    if not output:
        return
    if stream.isatty():
        stream.write(shown(output.decode(errors="replace"), block=True))
    else:
        stream.flush()
        stream.buffer.write(output)
    stream.flush()


@sandbox_app.command("demo")
def demo(
    backend: str = typer.Option(None, "--backend", "-b", help=BACKEND_HELP),
    unsafe_local: bool = typer.Option(False, "--unsafe-local", help=UNSAFE_HELP, metavar=""),
) -> None:
    """Attack the sandbox with proctor's built-in corpus and show that each attack is contained.

    Exits 0 when every attack was contained, 1 when any escaped, 3 when the backend is unavailable.
    """
    from proctor.testing import run_attack_corpus

    escaped = 0
    with open_sandbox(backend, unsafe_local) as sandbox:
        for outcome in run_attack_corpus(sandbox, progress=True):
            mark = typer.style("contained", fg="green") if outcome.contained else typer.style("ESCAPED  ", fg="red")
            typer.echo(f"{mark}  {outcome.name:<22} {shown(outcome.detail)}")
            escaped += not outcome.contained
    if escaped:
        raise typer.Exit(1)


__all__ = ["sandbox_app"]
