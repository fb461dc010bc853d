"""Ledger appends vs raw sqlite3 inserts of the same rows, and a full audit of 100,000 entries.

    python benchmarks/ledger.py [--entries 20000] [--runs 3] [--audit 100000]

Appends: proctor's ``Ledger.extend`` (canonical JSON, hash chain, triggers, idempotent ids,
checkpoints every 1000) against ``sqlite3`` inserting the very rows the ledger wrote into a
table with the same columns and indexes but no triggers, in the same run, at synchronous FULL
and NORMAL, one entry per transaction and 1000 per transaction. Target: ledger >= 0.70x raw.
A third column inserts the same rows into the ledger's own schema (its append-only triggers)
from plain ``sqlite3``: what SQLite alone costs the ledger, the ceiling for the ratio. The last,
``least``, is a ledger cut to the work the design requires of every entry whatever the code
around it (RFC 8785 JSON with its checks, a timestamp, the chain's SHA-256 and the Merkle
leaf's) writing to that schema in the same transactions: the best ratio a one-thread Python
implementation of this design could reach here (without entries returned, checkpoints or retry).
Audit: ``verify_ledger`` plus the per-run summary over a ledger of ``--audit`` entries.
Target: under 2 s here; beside it, the ratio to merely reading every payload and parsing it with
``json.loads`` in the same run (no hash, no canonical check, no Merkle tree, no summary), which
is what the machine's speed that day allows. Every figure is the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from proctor.ledger import Auditor, Event, Ledger, verify_ledger
from proctor.ledger._canonical import canonical
from proctor.ledger._schema import SCHEMA
from proctor.ledger._store import _now

RAW_SCHEMA = """
CREATE TABLE entries (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, run TEXT,
                      at TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, payload TEXT NOT NULL);
CREATE INDEX entries_by_run ON entries (run, kind);
"""


def events(n: int, run: str = "bench") -> list[Event]:
    return [
        Event(
            "verdict",
            {
                "proposal_id": f"p{i:08d}",
                "verifier": "tests",
                "version": "0123456789abcdef",
                "status": "fail" if i % 3 else "pass",
                "detail": "case 3: expected 6, got 5",
                "duration_seconds": 0.0123 + i % 100 / 1000,
                "evidence": {"input": "(2, 3)", "expected": "6", "got": "5"},
            },
            run,
        )
        for i in range(n)
    ]


def ledger_append(path: Path, batch: list[Event], per_tx: int, sync: str) -> tuple[float, list[tuple]]:
    with Ledger(path, synchronous=sync) as book:  # type: ignore[arg-type]
        started = time.perf_counter()
        for k in range(0, len(batch), per_tx):
            book.extend(batch[k : k + per_tx])
        seconds = time.perf_counter() - started
        rows = [e.row() for e in book.entries()]
    return seconds, rows


def connect(path: Path, sync: str, schema: str) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection to a new file with ``schema``, set up as the ledger's."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={sync}")
    conn.executescript(schema)
    return conn


def raw_insert(path: Path, rows: list[tuple], per_tx: int, sync: str, schema: str = RAW_SCHEMA) -> float:
    conn = connect(path, sync, schema)
    started = time.perf_counter()
    for k in range(0, len(rows), per_tx):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows[k : k + per_tx])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def least_ledger(path: Path, batch: list[Event], per_tx: int, sync: str) -> float:
    """Seconds for a ledger that does only the work the design requires of every entry, in the
    same transactions as the ledger: its data as RFC 8785 JSON (``rfc8785``, as proctor's
    ``canonical``), a timestamp per transaction, the envelope, the chain hash (kept as hex for
    the row) and the Merkle leaf hash, inserted from plain ``sqlite3`` into the ledger's schema
    (its triggers). No entries for the caller, no checkpoints, no retry. Timed in place, between
    the transactions: Python that runs between SQLite's commits runs 2-3x as slowly as
    the same code in a loop of its own (the caches are cold), so only this is a fair floor."""
    conn = connect(path, sync, SCHEMA)
    started = time.perf_counter()
    prev, seq = "0" * 64, 0
    for k in range(0, len(batch), per_tx):
        rows, at = [], _now()
        for event in batch[k : k + per_tx]:
            seq += 1
            envelope = {"at": at, "data": event.data, "id": event.id, "kind": event.kind, "run": event.run, "seq": seq, "v": 1}
            payload = canonical(envelope)
            digest = hashlib.sha256(bytes.fromhex(prev) + payload).hexdigest()
            hashlib.sha256(b"\x00" + payload).digest()
            rows.append((seq, event.id, event.kind, event.run, at, prev, digest, payload.decode()))
            prev = digest
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def appends(n: int, runs: int) -> None:
    print(f"appends of {n} entries (median of {runs}); rate = entries per second")
    print(f"{'mode':<24}{'ledger/s':>12}{'raw/s':>12}{'ratio':>8}{'triggers/s':>12}{'ceiling':>9}{'least':>7}")
    for sync in ("FULL", "NORMAL"):
        for per_tx in (1, 1000):
            count = n if per_tx > 1 else max(200, n // 20)  # one fsync per entry at FULL: keep it short
            ledger_times, raw_times, trigger_times, least_times = [], [], [], []
            for _ in range(runs):
                with tempfile.TemporaryDirectory() as tmp:
                    batch = events(count)
                    seconds, rows = ledger_append(Path(tmp) / "l.db", batch, per_tx, sync)
                    ledger_times.append(seconds)
                    raw_times.append(raw_insert(Path(tmp) / "raw.db", rows, per_tx, sync))
                    trigger_times.append(raw_insert(Path(tmp) / "triggers.db", rows, per_tx, sync, SCHEMA))
                    least_times.append(least_ledger(Path(tmp) / "least.db", batch, per_tx, sync))
            ledger_rate, raw_rate, trigger_rate, least_rate = (
                count / statistics.median(t) for t in (ledger_times, raw_times, trigger_times, least_times)
            )
            label = f"{sync}, {per_tx}/transaction"
            print(
                f"{label:<24}{ledger_rate:>12,.0f}{raw_rate:>12,.0f}{ledger_rate / raw_rate:>8.2f}"
                f"{trigger_rate:>12,.0f}{trigger_rate / raw_rate:>9.2f}{least_rate / raw_rate:>7.2f}"
            )


def audit(n: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        with Ledger(path, synchronous="OFF") as book:
            batch = events(n)
            for k in range(0, n, 5000):
                book.extend(batch[k : k + 5000])

        def once() -> float:
            with Ledger(path, readonly=True) as book:
                started = time.perf_counter()
                auditor = Auditor()
                report = verify_ledger(book, visit=auditor.visit)
                [a.summary() for a in auditor.runs.values()]
                assert report.ok and report.entries == n
                return time.perf_counter() - started

        def read_and_load() -> float:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            started = time.perf_counter()
            for (payload,) in conn.execute("SELECT payload FROM entries ORDER BY seq"):
                json.loads(payload)
            conn.close()
            return time.perf_counter() - started

        seconds, baseline = median_of(runs, once), median_of(runs, read_and_load)
    print(
        f"\nfull audit of {n:,} entries: {seconds:.2f} s median of {runs} (target < 2 s), {n / seconds:,.0f} entries/s; "
        f"{seconds / baseline:.2f}x the {baseline:.2f} s of reading every payload with json.loads and checking nothing"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--audit", type=int, default=100_000)
    args = parser.parse_args()
    appends(args.entries, args.runs)
    audit(args.audit, args.runs)


if __name__ == "__main__":
    main()
