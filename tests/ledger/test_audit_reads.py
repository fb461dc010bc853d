"""What an audit reads: one snapshot of a live ledger, and only the entries that passed every check."""

from __future__ import annotations

import pytest

from proctor.ledger import Event, Ledger, verify_ledger
from tests.ledger.conftest import raw_connection

ENTRIES = 120


@pytest.fixture
def ledger_file(tmp_path):
    path = tmp_path / "run.ledger"
    with Ledger(path, checkpoint_every=16) as book:
        book.extend([Event("verdict", {"proposal_id": f"p{i}", "status": "pass" if i % 3 else "fail"}, "r") for i in range(ENTRIES)])
    return path


def _audit(path, **options):
    visited: list[tuple[int, dict]] = []
    with Ledger(path, readonly=True) as book:
        report = verify_ledger(book, visit=lambda seq, payload: visited.append((seq, payload)), **options)
    return report, visited


def test_tampered_entries_are_reported_by_seq_and_never_visited(ledger_file):
    conn = raw_connection(ledger_file)
    conn.execute("UPDATE entries SET payload = replace(payload, '\"fail\"', '\"pass\"') WHERE seq IN (40, 41, 97)")
    conn.execute("UPDATE entries SET kind = 'decision' WHERE seq = 60")
    conn.execute("UPDATE entries SET payload = replace(payload, '\"r\"', '\"r\" ') WHERE seq = 75")
    report, visited = _audit(ledger_file)
    assert not report.ok and {p.seq for p in report.problems} >= {40, 60, 75, 97}
    # seq 41 held "pass" already, so the replace left it as it was
    assert {seq for seq, _ in visited}.isdisjoint({40, 60, 75, 97}) and len(visited) == ENTRIES - 4


def test_the_parallel_option_is_still_accepted_and_changes_nothing(ledger_file):
    assert _audit(ledger_file, parallel=True) == _audit(ledger_file)


def test_an_audit_reads_one_snapshot_of_a_live_ledger(ledger_file):
    """Entries a writer appends while the audit runs are not half in it: it covers the ledger as
    it was when it began."""
    writer = Ledger(ledger_file)
    visited: list[int] = []

    def visit(seq, payload):
        if not visited:  # while the audit is under way
            writer.extend([Event("verdict", {"proposal_id": f"late{i}", "status": "pass"}, "r") for i in range(40)])
        visited.append(seq)

    try:
        with Ledger(ledger_file, readonly=True) as book:
            report = verify_ledger(book, visit=visit)
    finally:
        writer.close()
    assert report.ok and report.entries == ENTRIES and visited == list(range(1, ENTRIES + 1))
