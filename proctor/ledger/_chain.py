"""One entry's chain checks (``check_entry``), and the report they write to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from proctor.ledger._canonical import parse

PAYLOAD_VERSION = 1
GENESIS = "0" * 64  # the ``prev`` of the first entry
MAX_PROBLEMS = 20

# The entry columns every check reads, payload as the exact bytes that were hashed.
ENTRY_QUERY = "SELECT seq, id, kind, run, at, prev, hash, CAST(payload AS BLOB) FROM entries ORDER BY seq"

Check = Literal["chain", "run", "contents", "checkpoint", "anchor", "signature", "file"]


def chain_hash(prev: str, payload: bytes) -> str:
    """An entry's hash: SHA-256 over the previous entry's hash (as bytes) and its payload."""
    return hashlib.sha256(bytes.fromhex(prev) + payload).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One integrity failure: which check found it, where (entry seq, if any), and what."""

    check: Check
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"entry {self.seq}: " if self.seq is not None else ""
        return f"{self.check}: {where}{self.message}"


@dataclass
class IntegrityReport:
    """The outcome of ``verify_ledger``; ``ok`` only when no check found anything."""

    entries: int = 0
    checkpoints: int = 0
    anchors: int = 0
    signed_checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    truncated: bool = False  # more problems than ``limit`` were found
    limit: int = MAX_PROBLEMS

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, check: Check, seq: int | None, message: str) -> None:
        if len(self.problems) < self.limit:
            self.problems.append(Problem(check, seq, message))
        else:
            self.truncated = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "signed_checkpoints": self.signed_checkpoints,
            "anchors": self.anchors,
            "problems": [{"check": p.check, "seq": p.seq, "message": p.message} for p in self.problems],
            "more_problems": self.truncated,
        }


_COLUMN_KEYS = ("at", "id", "kind", "run", "seq", "v")  # sorted: a problem names them in this order


def check_entry(
    report: IntegrityReport,
    position: int,
    row: tuple[Any, ...],
    expected_prev: str,
) -> dict[str, Any] | None:
    """The entry's payload if every chain check holds; else None, with the problems reported."""
    seq, id_, kind, run, at, prev, digest, payload = row
    if seq != position:
        report.add("chain", position, f"row holds seq {seq} where seq {position} belongs: rows were deleted, inserted or renumbered")
    if prev != expected_prev:
        report.add("chain", seq, "its prev is not the previous entry's hash: an entry before it was removed, added or rehashed")
    if _sha256_hex(prev, payload) != digest:
        report.add("chain", seq, "its hash does not cover its payload: the payload was edited")
        return None
    try:
        value = parse(payload)
    except ValueError as exc:
        report.add("chain", seq, f"payload is {exc}")
        return None
    if not isinstance(value, dict):
        report.add("chain", seq, "payload is not a JSON object: it was not written by proctor")
        return None
    columns = (at, id_, kind, run, seq, PAYLOAD_VERSION)
    differing = [key for key, column in zip(_COLUMN_KEYS, columns, strict=True) if value.get(key) != column]
    if differing:
        report.add("chain", seq, f"columns {', '.join(differing)} differ from the hashed payload: a column was edited")
        return None
    return value


def _sha256_hex(prev: str, payload: bytes) -> str:
    try:
        return chain_hash(prev, payload)
    except (ValueError, TypeError):
        return ""  # a prev that is not hex cannot be a hash this ledger made
