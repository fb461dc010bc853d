"""``proctor sandbox`` as a user runs it: real processes, real exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def proctor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proctor", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_run_prints_output_and_exits_0_even_when_the_script_fails(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("print('hi'); raise SystemExit(4)")
    done = proctor("sandbox", "run", str(script))
    assert done.returncode == 0 and done.stdout == "hi\n" and "exited with status 4" in done.stderr


def test_run_json_reports_exit_status_and_limits(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("while True: pass")
    done = proctor("sandbox", "run", str(script), "--json", "--wall", "1")
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["limit_hit"] in ("cpu", "wall") and result["exit_code"] is None


def test_missing_script_is_bad_input_in_one_line():
    done = proctor("sandbox", "run", "/nonexistent/x.py")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no such file" in done.stderr


def test_local_backend_requires_the_unsafe_flag(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("print(1)")
    refused = proctor("sandbox", "run", str(script), "--backend", "local")
    allowed = proctor("sandbox", "run", str(script), "--backend", "local", "--unsafe-local")
    assert refused.returncode == 2 and "--unsafe-local" in refused.stderr
    assert allowed.returncode == 0 and "UNISOLATED" in allowed.stderr


def test_check_lists_every_backend_and_passes_on_this_machine():
    done = proctor("sandbox", "check")
    assert done.returncode == 0
    assert {line.split()[1].rstrip(":") for line in done.stdout.splitlines()} >= {"docker", "local", "namespace"}
