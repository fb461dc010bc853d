"""Ledger fixtures: real SQLite files in a temporary directory."""

from __future__ import annotations

import sqlite3

import pytest

from proctor.ledger import Ledger


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "run.ledger"


@pytest.fixture
def ledger(ledger_path):
    with Ledger(ledger_path, synchronous="NORMAL", checkpoint_every=5) as book:
        yield book


def fill(book: Ledger, n: int, run: str = "r1") -> None:
    for i in range(n):
        book.append("verdict", {"proposal_id": f"p{i}", "status": "pass" if i % 2 else "fail", "duration_seconds": 0.25 + i}, run=run)


def raw_connection(path) -> sqlite3.Connection:
    """The ledger file opened as plain SQLite with its append-only triggers dropped: a forger's view."""
    conn = sqlite3.connect(path, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn
