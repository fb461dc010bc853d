"""Every usage error is one line and exit status 2; --version prints the version."""

from __future__ import annotations

import subprocess
import sys

import pytest

from proctor import __version__


def proctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proctor", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["verify", "--bogus"], "No such option: --bogus"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        (["run", "--limit", "0"], "Invalid value for '--limit'"),
        (["ledger", "show"], "Missing argument"),
        (["verify", "--workers", "many"], "Invalid value for '--workers'"),
    ],
    ids=["unknown-option", "unknown-command", "out-of-range", "missing-argument", "not-a-number"],
)
def test_a_usage_error_is_one_line_and_exit_2(args, says):
    done = proctor(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "--help" in lines[0], done.stderr


def test_bare_proctor_prints_its_help_and_exits_2():
    done = proctor()
    assert done.returncode == 2 and "Usage:" in done.stdout and "COMMAND" in done.stdout and "Traceback" not in done.stderr


def test_version_prints_the_version():
    done = proctor("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"proctor {__version__}"
