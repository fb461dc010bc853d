"""An audit's second core: a fresh interpreter that checks the chain while the auditor reads.

Auditing is CPU-bound Python, one entry at a time. On a machine with a core to spare,
``verify_ledger`` starts this module's ``main`` in a new interpreter, which judges every entry
from a given position on (``good_entry``, else ``check_entry``: the hash over prev and payload,
the canonical form, the columns) while the calling process parses payloads for its visitor and
hashes the Merkle tree. The worker opens the file through its own read-only connection after the caller's read
transaction has taken its snapshot, so it sees every entry the caller reads (a live ledger only
grows). Per chunk of entries it writes one line of JSON: the last position covered, that
entry's hash (which the caller compares with its own read), and a mark for each entry that is
not simply good: the problems found and how the caller may read the payload (``fast``: orjson;
``exact``: the canonical parser, which judged it; ``skip``: not good, not visited). Entries
without a mark passed every check.

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
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from proctor.ledger._canonical import NOT_FAST, parse_exact, parse_fast
from proctor.ledger._chain import ENTRY_QUERY, GENESIS, MAX_PROBLEMS, IntegrityReport, check_entry, good_entry

CHUNK = 2048  # entries per frame: the caller waits for at most this many to be checked ahead of it

Mark = tuple[str, list[list[Any]]]
Frame = tuple[int, str, dict[int, Mark]]
_BOOT = "import sys; sys.path[:] = __import__('json').loads(sys.argv[1]); from {module} import main; main(*sys.argv[2:])"


class WorkerLost(Exception):
    """The worker ended or wrote something unreadable before covering an entry the caller reached."""


class ChainWorker:
    """The caller's side: starts a worker that judges the entries from position ``start`` on."""

    def __init__(self, path: Path, start: int) -> None:
        # No site (-S) saves ~70 ms of .pth files; the parent's path instead, and this proctor's
        # root after it (an editable install finds it through a .pth hook), so the child
        # imports this very proctor and its dependencies, whatever the current directory holds.
        search = [*sys.path, str(Path(__file__).resolve().parents[2])]
        arguments = [json.dumps(search), str(path), str(start)]
        command = [sys.executable, "-S", "-P", "-c", _BOOT.format(module=__name__), *arguments]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._frames: IO[bytes] = self._process.stdout  # type: ignore[assignment]
        self._start = start

    def frames(self) -> Iterator[Frame]:
        """Each frame in turn: (its last position, the hash the worker read there, its marks by
        position); ``WorkerLost`` where the worker ended or wrote something else instead."""
        end = self._start - 1
        while True:
            try:
                frame = orjson.loads(self._frames.readline())
                first, end = end + 1, frame["end"]
                marks = {position: (reading, problems) for position, reading, problems in frame["marks"]}
                if not (type(end) is int and end >= first and type(frame["hash"]) is str):
                    raise WorkerLost
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                raise WorkerLost from None
            yield end, frame["hash"], marks

    def close(self) -> None:
        self._process.kill()
        self._process.wait()
        self._frames.close()


def main(path: str, start: str) -> None:
    """The worker: judge the entries of the ledger at ``path`` from position ``start`` on (the
    one before gives the first expected prev), and write them as frames, chunk by chunk."""
    first = int(start)
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
    rows = conn.execute(f"{ENTRY_QUERY} LIMIT -1 OFFSET ?", (max(first - 2, 0),))
    expected_prev = next(rows, (GENESIS,) * 7)[6] if first > 1 else GENESIS
    position, frame_end = first - 1, first - 1 + CHUNK
    for position, row in enumerate(rows, first):
        if good_entry(position, row, expected_prev) is None:
            found, exact = len(report.problems), False
            value = check_entry(report, position, row, expected_prev, parse_noting_exact)
            if value is None or exact or len(report.problems) > found:
                reading = "skip" if value is None else "exact" if exact else "fast"
                marks.append((position, reading, [(p.check, p.seq, p.message) for p in report.problems[found:]]))
        expected_prev = row[6]
        if position == frame_end:
            _write_frame(out, position, expected_prev, marks)
            marks, frame_end = [], frame_end + CHUNK
    if position != frame_end - CHUNK:
        _write_frame(out, position, expected_prev, marks)


def _write_frame(out: IO[bytes], end: int, end_hash: str, marks: list[Any]) -> None:
    out.write(orjson.dumps({"end": end, "hash": end_hash, "marks": marks}) + b"\n")
    out.flush()
