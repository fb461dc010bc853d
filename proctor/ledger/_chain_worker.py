"""An audit's second core: a fresh interpreter that checks the chain while the auditor reads.

Auditing is CPU-bound Python, one entry at a time. On a machine with a core to spare,
``verify_ledger`` starts this module's ``main`` in a new interpreter, which runs ``check_entry``
on every entry (the hash over prev and payload, the canonical form, the columns) while the
calling process parses payloads for its visitor. The worker opens
the file through its own read-only connection after the caller's query has taken its snapshot,
so it sees every entry the caller reads (a live ledger only grows). Per chunk of entries it
writes one line of JSON (the last position covered, that entry's hash, which the caller compares
with its own read, and a mark for each entry that is not simply good: the problems found and
how the caller may read the payload, ``fast``: orjson; ``exact``: the canonical parser, which
judged it; ``skip``: not good, not visited), then the entries' Merkle leaf hashes, 32 bytes
each, for the positions the caller needs roots for. Entries without a mark passed every check.

A new interpreter rather than a fork: a fork would share the caller's SQLite connection, which
SQLite forbids, and copy whatever threads the caller holds. It imports only the chain checks
and the canonical JSON rules, so it starts in tens of milliseconds. If it fails or stops early,
the caller checks the remaining entries itself: the report is the same either way.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from proctor.ledger._canonical import NOT_FAST, parse_exact, parse_fast
from proctor.ledger._chain import ENTRY_QUERY, GENESIS, MAX_PROBLEMS, IntegrityReport, check_entry
from proctor.ledger._merkle import leaf_hash

CHUNK = 2048  # entries per frame: the caller waits for at most this many to be checked ahead of it

Reading = Literal["fast", "exact"]
Mark = tuple[str, list[list[Any]]]
_BOOT = "import sys; sys.path[:] = __import__('json').loads(sys.argv[1]); from {module} import main; main(*sys.argv[2:])"


class WorkerLost(Exception):
    """The worker ended or wrote something unreadable before covering an entry the caller reached."""


class ChainWorker:
    """The caller's side: starts the worker and hands out its findings entry by entry.

    It checks entries from position ``start`` on and hashes Merkle leaves up to ``leaves_until``.
    """

    def __init__(self, path: Path, start: int, leaves_until: int) -> None:
        # No site (-S) saves ~70 ms of .pth files; the parent's path instead, and this proctor's
        # root after it (an editable install finds it through a .pth hook), so the child
        # imports this very proctor and its dependencies, whatever the current directory holds.
        search = [*sys.path, str(Path(__file__).resolve().parents[2])]
        arguments = [json.dumps(search), str(path), str(start), str(leaves_until)]
        command = [sys.executable, "-S", "-P", "-c", _BOOT.format(module=__name__), *arguments]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._frames: IO[bytes] = self._process.stdout  # type: ignore[assignment]
        self._first = self._end = start - 1  # the frame in hand covers positions first..end
        self._end_hash = ""
        self._marks: dict[int, Mark] = {}
        self._leaves = b""

    def check(self, report: IntegrityReport, position: int, row: tuple[Any, ...]) -> Reading | None:
        """Report what the worker found wrong with the entry at ``position`` (whose row the
        caller read as ``row``); returns how to read its payload, or None if it is not good."""
        if position > self._end:
            self._next_frame()
        mark = self._marks.get(position)
        if position == self._end and row[6] != self._end_hash:
            report.add("file", position, "the ledger changed while it was audited (two reads of it differ): audit it again")
        if mark is None:
            return "fast"
        reading, problems = mark
        for check, seq, message in problems:
            report.add(check, seq, message)
        return None if reading == "skip" else reading  # type: ignore[return-value]

    def leaf(self, position: int) -> bytes:
        """The Merkle leaf hash of the entry at ``position`` (checked already, up to ``leaves_until``)."""
        at = (position - self._first) * 32
        return self._leaves[at : at + 32]

    def _next_frame(self) -> None:
        try:
            frame = orjson.loads(self._frames.readline())
            first, end, self._end_hash = self._end + 1, frame["end"], frame["hash"]
            self._marks = {position: (reading, problems) for position, reading, problems in frame["marks"]}
            self._leaves = self._frames.read(32 * frame["leaves"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise WorkerLost from None
        if len(self._leaves) != 32 * frame["leaves"] or end < first:
            raise WorkerLost
        self._first, self._end = first, end

    def close(self) -> None:
        self._process.kill()
        self._process.wait()
        self._frames.close()


def main(path: str, start: str, leaves_until: str) -> None:
    """The worker: check the entries of the ledger at ``path`` from position ``start`` on (the
    one before gives the first expected prev), and write them as frames, chunk by chunk."""
    first, last_leaf = int(start), int(leaves_until)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = sys.stdout.buffer
    report = IntegrityReport(limit=MAX_PROBLEMS + 1)  # one past the caller's limit: enough for it to see truncation
    exact = False  # whether this entry's payload needed the exact path

    def parse_noting_exact(payload: bytes) -> Any:
        nonlocal exact
        value = parse_fast(payload)
        exact = value is NOT_FAST
        return parse_exact(payload) if exact else value

    marks: list[tuple[int, str, list[tuple[str, int | None, str]]]] = []
    leaves: list[bytes] = []
    rows = conn.execute(f"{ENTRY_QUERY} LIMIT -1 OFFSET ?", (max(first - 2, 0),))
    expected_prev = next(rows, (GENESIS,) * 7)[6] if first > 1 else GENESIS
    position = first - 1
    for position, row in enumerate(rows, first):
        found, exact = len(report.problems), False
        value = check_entry(report, position, row, expected_prev, parse_noting_exact)
        if value is None or exact or len(report.problems) > found:
            reading = "skip" if value is None else "exact" if exact else "fast"
            marks.append((position, reading, [(p.check, p.seq, p.message) for p in report.problems[found:]]))
        expected_prev = row[6]
        if position <= last_leaf:
            leaves.append(leaf_hash(row[7]))
        if (position - first + 1) % CHUNK == 0:
            _write_frame(out, position, expected_prev, marks, leaves)
            marks, leaves = [], []
    if (position - first + 1) % CHUNK:
        _write_frame(out, position, expected_prev, marks, leaves)


def _write_frame(out: IO[bytes], end: int, end_hash: str, marks: list[Any], leaves: list[bytes]) -> None:
    out.write(orjson.dumps({"end": end, "hash": end_hash, "marks": marks, "leaves": len(leaves)}) + b"\n")
    out.write(b"".join(leaves))
    out.flush()
