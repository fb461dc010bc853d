"""One entry's chain checks, and the report they write to.

Kept apart from the store (and its sqlite-utils, cryptography imports) so the audit's chain
worker, a fresh interpreter, starts in a fraction of the time: it imports this, the canonical
JSON rules and hashlib, nothing else of proctor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from proctor.ledger._canonical import parse, parse_fast

PAYLOAD_VERSION = 1
GENESIS = "0" * 64  # the ``prev`` of the first entry
MAX_PROBLEMS = 20

# The entry columns every check reads, payload as the exact bytes that were hashed.
ENTRY_QUERY = "SELECT seq, id, kind, run, at, prev, hash, CAST(payload AS BLOB) FROM entries ORDER BY seq"

Check = Literal["chain", "run", "contents", "checkpoint", "anchor", "signature", "file"]


_sha256 = hashlib.sha256


def chain_hash(prev: str, payload: bytes) -> str:
    """An entry's hash: SHA-256 over the previous entry's hash (as bytes) and its payload."""
    return _sha256(bytes.fromhex(prev) + payload).hexdigest()


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


_COLUMN_KEYS = ("seq", "id", "kind", "run", "at", "v")


def judge_entry(report: IntegrityReport, position: int, row: tuple[Any, ...], expected_prev: str) -> dict[str, Any] | None:
    """``check_entry``'s answer, by ``good_entry`` for the usual entry."""
    value = good_entry(position, row, expected_prev)
    return value if value is not None else check_entry(report, position, row, expected_prev)


def good_entry(position: int, row: tuple[Any, ...], expected_prev: str) -> dict[str, Any] | None:
    """The payload of an entry that passes every check of ``check_entry`` and parses on the fast
    path; else None, and ``check_entry`` must judge it. The same checks in one function, as an
    audit is mostly this call."""
    seq, id_, kind, run, at, prev, digest, payload = row
    if seq == position and prev == expected_prev:
        try:
            value = parse_fast(payload) if _sha256(bytes.fromhex(prev) + payload).hexdigest() == digest else None
        except (ValueError, TypeError):
            return None
        if type(value) is dict and _columns_match(value, seq, id_, kind, run, at):
            return value
    return None


def check_entry(
    report: IntegrityReport,
    position: int,
    row: tuple[Any, ...],
    expected_prev: str,
    parse_payload: Callable[[bytes], Any] = parse,
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
        value = parse_payload(payload)
    except ValueError as exc:
        report.add("chain", seq, f"payload is {exc}")
        return None
    if not isinstance(value, dict):
        report.add("chain", seq, "payload is not a JSON object: it was not written by proctor")
        return None
    if not _columns_match(value, seq, id_, kind, run, at):
        columns = (seq, id_, kind, run, at, PAYLOAD_VERSION)
        differing = sorted(k for k, v in zip(_COLUMN_KEYS, columns, strict=True) if value.get(k) != v)
        report.add("chain", seq, f"columns {', '.join(differing)} differ from the hashed payload: a column was edited")
        return None
    return value


def _columns_match(value: dict[str, Any], seq: int, id_: str, kind: str, run: str | None, at: str) -> bool:
    """Whether the payload holds the row's columns (and this format's version); written out, as
    it runs once per entry (a tuple of ``value.get`` over the keys takes twice as long)."""
    get = value.get
    return (
        get("seq") == seq
        and get("id") == id_
        and get("kind") == kind
        and get("run") == run
        and get("at") == at
        and get("v") == PAYLOAD_VERSION
    )


def _sha256_hex(prev: str, payload: bytes) -> str:
    try:
        return chain_hash(prev, payload)
    except (ValueError, TypeError):
        return ""  # a prev that is not hex cannot be a hash this ledger made
