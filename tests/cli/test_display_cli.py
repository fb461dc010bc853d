"""Candidate text reaches a person's terminal visibly escaped on every surface, and the ledger keeps it exactly.

Each command runs in a pseudo-terminal, as a person would see it, with a candidate whose messages,
output and code carry cursor movement, erasing, OSC 52 (clipboard), OSC 8 (hyperlinks), a bell,
bidi overrides and zero-width characters.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from proctor.ledger import Ledger

ATTACK = (
    "x\x1b[2K\r\x1b[1A\x1b[2K\x1b[32mACCEPTED all checks passed\x1b[0m "
    "\x1b]52;c;ZXZpbA==\x07 \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \u202eevil\u2066 zero\u200bwidth \x07"
)
RAW = ["\x1b[2K", "\x1b[1A", "\x1b]52", "\x1b]8;", "\x07", "\u202e", "\u2066", "\u200b"]  # none of them proctor's own colours
TASK = (
    '[[tasks]]\nid = "inc"\nentry_point = "inc"\n'
    'prompt = "def inc(x: int) -> int:\\n    \\"\\"\\"Return x + 1.\\"\\"\\"\\n"\n'
    'reference = "def inc(x: int) -> int:\\n    return x + 1  # \\u202e checked \\u2066\\n"\n'
    "cases = [{ args = [1], expected = 2 }, { args = [41], expected = 42 }]\n"
)


def in_terminal(*args: str, cwd: Path) -> tuple[int, str]:
    """Run proctor with a pseudo-terminal as stdin, stdout and stderr; its exit status and everything it wrote."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    command = [sys.executable, "-m", "proctor", *args]
    child = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    chunks = []
    while select.select([leader], [], [], 300)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return child.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def _assert_escaped(output: str) -> None:
    assert [r for r in RAW if r in output] == [], output
    assert "\\x1b[2K" in output and "\\u202e" in output, output


def _write(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text(TASK)
    (tmp_path / "c.py").write_text(f"def inc(x):\n    raise ValueError({ATTACK!r})\n")


def test_verify_and_ledger_show_escape_what_the_candidate_raised_and_the_ledger_keeps_it_exactly(tmp_path):
    _write(tmp_path)
    code, output = in_terminal("verify", "t.toml", "c.py", "--verifiers", "tests", "--ledger", "v.ledger", cwd=tmp_path)
    assert code == 1 and "REJECTED" in output
    _assert_escaped(output)
    code, output = in_terminal("ledger", "show", "v.ledger", cwd=tmp_path)
    assert code == 0 and "verdict" in output and [r for r in RAW if r in output] == []
    code, output = in_terminal("ledger", "show", "v.ledger", "--json", "--kind", "verdict", cwd=tmp_path)
    assert code == 0 and [r for r in RAW if r in output] == []
    exact = " ".join(ATTACK.split())  # a verdict's detail is one line: whitespace joined, every other character kept
    assert exact in json.loads(output.strip())["data"]["detail"]  # JSON escapes it; decoded, it is the exact text
    code, output = in_terminal("audit", "v.ledger", cwd=tmp_path)
    assert code == 0 and [r for r in RAW if r in output] == []
    with Ledger(tmp_path / "v.ledger", readonly=True) as book:
        details = [e.data["detail"] for e in book.entries(kinds=["verdict"])]
    assert any(exact in d for d in details)  # evidence: the exact characters, escaped only when shown


def test_an_error_quoting_what_a_file_holds_is_escaped(tmp_path):
    (tmp_path / "s.jsonl").write_text(json.dumps({"task_id": ATTACK, "completion": "    return 1\n"}) + "\n")
    code, output = in_terminal("verify", "--samples", "s.jsonl", "--tasks", "humaneval", cwd=tmp_path)
    assert code == 2 and "unknown task_id" in output and [r for r in RAW if r in output] == []


def test_a_sandboxed_programs_output_is_escaped_on_a_terminal_and_exact_in_a_pipe(tmp_path):
    (tmp_path / "p.py").write_text(f"import sys\nprint({ATTACK!r})\nprint({ATTACK!r}, file=sys.stderr)\n")
    code, output = in_terminal("sandbox", "run", "p.py", cwd=tmp_path)
    assert code == 0
    _assert_escaped(output)
    piped = subprocess.run([sys.executable, "-m", "proctor", "sandbox", "run", "p.py"], capture_output=True, cwd=tmp_path)
    assert piped.stdout == (ATTACK + "\n").encode() and piped.stderr.startswith((ATTACK + "\n").encode())


def test_approve_marks_bidi_characters_in_the_code_and_records_the_warning(tmp_path):
    _write(tmp_path)
    proposer = "simulated:competence=1,overconfidence=0,hack=0,seed=0"
    run = subprocess.run(
        [sys.executable, "-m", "proctor", "run", "t.toml", "-p", proposer, "--approval", "accept", "--ledger", "a.ledger"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    code, output = in_terminal("approve", "a.ledger", "--code", cwd=tmp_path)
    assert code == 0 and "look closer" in output and "U+202E RIGHT-TO-LEFT OVERRIDE" in output and "\\u202e checked" in output
    assert [r for r in RAW if r in output] == []
    proposal = next(line.split()[0] for line in output.splitlines() if "attempt" in line)
    code, output = in_terminal("approve", "a.ledger", proposal, "--yes", "--by", "ada", cwd=tmp_path)
    assert code == 0 and "look closer" in output
    with Ledger(tmp_path / "a.ledger", readonly=True) as book:
        (approval,) = [e.data for e in book.entries(kinds=["approval"])]
    assert approval["approved"] and any("U+202E" in w for w in approval["warnings"])


def test_run_progress_and_summary_and_a_suites_text_are_escaped(tmp_path):
    evil_id = "inc\x1b[2K\u202e"
    (tmp_path / "t.toml").write_text(TASK.replace('id = "inc"', f"id = {json.dumps(evil_id)}"))
    proposer = "simulated:competence=1,overconfidence=0,hack=0,seed=0"
    code, output = in_terminal("run", "t.toml", "-p", proposer, "--ledger", "r.ledger", cwd=tmp_path)
    assert code == 0 and "run " in output
    # the progress bar redraws itself with its own cursor movements; the task id's never reach the terminal raw
    assert "inc\x1b" not in output and "\u202e" not in output and "inc\\x1b[2K" in output
    from proctor.scenarios._suite import SHIPPED

    text = (SHIPPED / "smt.toml").read_text().replace('"../tasks/', f'"{SHIPPED.parent}/tasks/')
    (tmp_path / "s.toml").write_text(text.replace('description = """', r'description = """\u001b]52;c;ZXZpbA==\u0007 \u202e', 1))
    code, output = in_terminal("scenarios", "show", "s.toml", cwd=tmp_path)
    assert code == 0 and [r for r in RAW if r in output] == [] and "\\x1b]52" in output and "\\u202e" in output
