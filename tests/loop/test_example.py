"""The shipped example: proctor's loop as a node of a user's own LangGraph app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.loop.conftest import audit, entries

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "langgraph_subgraph.py"


def test_the_subgraph_example_runs_and_records_its_cycles(tmp_path, namespace_sandbox):
    ledger = tmp_path / "example.ledger"
    done = subprocess.run([sys.executable, str(EXAMPLE), str(ledger)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HumanEval/2: accepted after proctor's checks"), done.stdout
    summary = audit(ledger, "subgraph-example")
    assert summary["accepted"] == 1 and summary["proposals"] == len(entries(ledger, "subgraph-example", "decision"))
