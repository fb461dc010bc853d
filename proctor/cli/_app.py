"""The typer application: subcommands, exit statuses and one-line errors.

Exit statuses: 0 accepted / ok, 1 rejected / integrity failure, 2 bad input or usage,
3 infrastructure unavailable. A ``ProctorError`` is printed as one line, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from proctor._display import shown
from proctor.cli._ledger import audit, ledger_app
from proctor.cli._measure import measure
from proctor.cli._run import approve, run
from proctor.cli._sandbox import sandbox_app
from proctor.cli._scenarios import report, scenarios_app
from proctor.cli._tasks import tasks_app
from proctor.cli._verify import verify
from proctor.errors import ProctorError

app = typer.Typer(
    name="proctor",
    help="Independent, external verification for self-improving AI systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",  # reflows docstring paragraphs to the terminal's width
)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(ledger_app, name="ledger")
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(tasks_app, name="tasks")
app.command("run")(run)
app.command("approve")(approve)
app.command("verify")(verify)
app.command("audit")(audit)
app.command("report")(report)
app.command("measure")(measure)


def _print_version(asked: bool) -> None:
    if asked:
        from proctor import __version__

        typer.echo(f"proctor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True, metavar=""
    ),
) -> None:
    """Independent, external verification for self-improving AI systems."""


def main() -> None:
    """Run the CLI, mapping proctor's errors to one line and an exit status."""
    _keep_hypothesis_out_of_the_working_directory()
    try:
        code = app(standalone_mode=False)  # without standalone mode, click returns typer.Exit's code
        sys.exit(code if isinstance(code, int) else 0)
    except ProctorError as exc:
        typer.secho(f"proctor: error: {shown(str(exc))}", err=True, fg="red")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # usage errors: typer's own bundled click raises them, and plain click's
        code = _usage_error(exc)
        if code is None:
            raise
        sys.exit(code)


def _keep_hypothesis_out_of_the_working_directory() -> None:
    """Hypothesis caches (its Unicode tables) in ``./.hypothesis`` unless told otherwise; a command should not
    leave files where it is run. Library users keep Hypothesis's own setting."""
    import os
    from pathlib import Path

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "proctor" / "hypothesis"
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache))


def _usage_error(exc: Exception) -> int | None:
    """Print a usage error in one line (bare ``proctor``: its help) and return its exit status; None if it is not one."""
    import click

    if not isinstance(exc, click.ClickException | typer.TyperException) or not hasattr(exc, "format_message"):
        return None
    if type(exc).__name__ == "NoArgsIsHelpError":  # bare `proctor` or a group without a command: the help is the answer
        typer.echo(exc.format_message())
        return 2
    context = getattr(exc, "ctx", None)
    where = f"; see {context.command_path} --help" if context is not None else ""
    typer.secho(f"proctor: error: {shown(exc.format_message().rstrip('.'))}{where}", err=True, fg="red")
    return int(getattr(exc, "exit_code", 2) or 2)
