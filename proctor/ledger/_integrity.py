"""Verify a ledger end to end: the chain, every payload, the contents, checkpoints and anchors.

Checks, in one pass over the entries (read as raw bytes, trusting no column):

- *chain*: seq runs 1, 2, 3 …; each ``prev`` is the previous entry's hash; each hash is
  SHA-256(prev ‖ payload); each payload is canonical JSON whose seq, id, kind, run and time
  match the row (so a query on the columns sees what the hashes cover);
- *contents*: every body is stored under its own digest, and every digest an entry refers to is
  present;
- *checkpoint*: each recorded checkpoint's root is the Merkle root of that many entries, its head
  the hash of its last entry, its signature (if any) good;
- *run*: nothing is recorded for a run after its ``run_end`` (where forged entries would go);
- *signature*: with a trusted key, every entry is covered by a checkpoint signed with it, so
  entries forged after the last signed checkpoint are caught;
- *anchor*: each checkpoint kept elsewhere (``--anchor``) is of this ledger and matches it, which
  is the only check that catches truncation, an older copy restored, or a rewritten and rehashed
  tail when the checkpoints in the file were rewritten too.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from proctor.ledger._canonical import parse
from proctor.ledger._checkpoint import Checkpoint
from proctor.ledger._merkle import Frontier, leaf_hash
from proctor.ledger._schema import GENESIS
from proctor.ledger._store import PAYLOAD_VERSION, Ledger, chain_hash, checkpoint_from_row, content_digest

Check = Literal["chain", "run", "contents", "checkpoint", "anchor", "signature", "file"]
MAX_PROBLEMS = 20


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
    truncated: bool = False  # more problems than MAX_PROBLEMS were found

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, check: Check, seq: int | None, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
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


# Digests that entries name in data.contents but the contents table lacks (lost or deleted bodies).
_MISSING_CONTENTS = """
SELECT e.seq, j.value
FROM (SELECT seq, payload FROM entries WHERE payload LIKE '%"contents":%' AND json_valid(payload)) AS e,
     json_each(e.payload, '$.data.contents') AS j
WHERE j.value NOT IN (SELECT digest FROM contents)
"""

EntryVisitor = Callable[[int, dict[str, Any]], None]


def verify_ledger(
    ledger: Ledger,
    anchors: Iterable[Checkpoint] = (),
    *,
    trusted_key: str | None = None,
    visit: EntryVisitor | None = None,
) -> IntegrityReport:
    """Check ``ledger`` (and ``anchors`` against it); ``visit(seq, payload)`` sees each good entry.

    ``trusted_key`` (hex Ed25519 public key) makes every checkpoint and anchor need its signature.
    """
    report = IntegrityReport()
    conn = ledger.db.conn
    try:
        with _cyclic_gc_paused():
            _verify(ledger, conn, report, list(anchors), trusted_key, visit)
    except sqlite3.DatabaseError as exc:
        report.add("file", None, f"the file is damaged: {exc}")
    return report


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """An audit makes millions of objects and keeps many (one record per proposal) but no cycles;
    the cyclic collector's passes over them cost ~25% of a large audit. Reference counting still
    frees everything that is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _verify(
    ledger: Ledger,
    conn: sqlite3.Connection,
    report: IntegrityReport,
    anchors: list[Checkpoint],
    trusted_key: str | None,
    visit: EntryVisitor | None,
) -> None:
    checkpoints = {cp.size: cp for cp in _checkpoints(conn, report)}
    roots = _verify_entries(conn, report, checkpoints, {a.size for a in anchors}, visit)
    for checkpoint in checkpoints.values():
        _check_checkpoint(report, checkpoint, roots.get(checkpoint.size), trusted_key)
    _verify_contents(conn, report)
    _verify_anchors(ledger.ledger_id, anchors, roots, report, trusted_key)
    if trusted_key is not None:
        _check_signed_cover(report, [*checkpoints.values(), *anchors], roots, trusted_key)


def _checkpoints(conn: sqlite3.Connection, report: IntegrityReport) -> Iterator[Checkpoint]:
    for size, statement, public_key, signature in conn.execute(
        "SELECT size, statement, public_key, signature FROM checkpoints ORDER BY size"
    ):
        try:
            checkpoint = checkpoint_from_row((statement, public_key, signature))
        except ValueError as exc:
            report.add("checkpoint", size, f"checkpoint row is malformed: {exc}")
            continue
        if checkpoint.size != size:
            report.add("checkpoint", size, f"checkpoint row says size {size} but its statement says {checkpoint.size}")
        yield checkpoint


def _verify_entries(
    conn: sqlite3.Connection,
    report: IntegrityReport,
    checkpoints: dict[int, Checkpoint],
    anchor_sizes: set[int],
    visit: EntryVisitor | None,
) -> dict[int, tuple[str, str]]:
    """Walk the chain; returns {size: (root, head)} at each checkpoint and anchor size."""
    frontier, expected_prev, roots = Frontier(), GENESIS, {}
    stops = {*checkpoints, *anchor_sizes}
    last_stop = max(stops, default=0)  # no root is asked for beyond it: its leaves need no hash
    leaves: list[bytes] = []  # hashed into the Merkle frontier in bulk, up to each stop
    ended: set[str] = set()
    rows = conn.execute("SELECT seq, id, kind, run, at, prev, hash, CAST(payload AS BLOB) FROM entries ORDER BY seq")
    for position, row in enumerate(rows, 1):
        report.entries = position
        value = _check_entry(report, position, row, expected_prev)
        if value is not None:
            _check_run_order(report, value, ended)
            if visit is not None:
                visit(row[0], value)
        expected_prev = row[6]
        if position <= last_stop:
            leaves.append(leaf_hash(row[7]))
        if position in stops:
            frontier.extend(leaves)
            leaves.clear()
            roots[position] = (frontier.root().hex(), expected_prev)
    report.checkpoints = len(checkpoints)
    return roots


def _check_entry(report: IntegrityReport, position: int, row: tuple[Any, ...], expected_prev: str) -> dict[str, Any] | None:
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
    columns = (seq, id_, kind, run, at, PAYLOAD_VERSION)
    if tuple(map(value.get, _COLUMN_KEYS)) != columns:
        differing = sorted(k for k, v in zip(_COLUMN_KEYS, columns, strict=True) if value.get(k) != v)
        report.add("chain", seq, f"columns {', '.join(differing)} differ from the hashed payload: a column was edited")
        return None
    return value


_COLUMN_KEYS = ("seq", "id", "kind", "run", "at", "v")


def _sha256_hex(prev: str, payload: bytes) -> str:
    try:
        return chain_hash(prev, payload)
    except (ValueError, TypeError):
        return ""  # a prev that is not hex cannot be a hash this ledger made


def _check_run_order(report: IntegrityReport, value: dict[str, Any], ended: set[str]) -> None:
    run = value["run"]
    if run in ended:
        report.add("run", value["seq"], f"recorded for run {run} after that run ended: appended later, possibly forged")
    if value["kind"] == "run_end":
        ended.add(run)


def _check_signed_cover(
    report: IntegrityReport, checkpoints: list[Checkpoint], roots: dict[int, tuple[str, str]], trusted_key: str
) -> None:
    """Every entry must be covered by a matching checkpoint or anchor signed with ``trusted_key``."""
    signed = [cp.size for cp in checkpoints if cp.signature_problem(trusted_key) is None and roots.get(cp.size) == (cp.root, cp.head)]
    covered = max(signed, default=0)
    if covered < report.entries:
        report.add(
            "signature",
            covered + 1,
            f"entries {covered + 1}..{report.entries} are not covered by a checkpoint signed with the trusted key",
        )


def _check_checkpoint(report: IntegrityReport, checkpoint: Checkpoint, found: tuple[str, str] | None, trusted_key: str | None) -> None:
    if found is None:
        report.add(
            "checkpoint",
            None,
            f"a checkpoint covers {checkpoint.size} entries but the ledger holds {report.entries}: entries were removed",
        )
        return
    if checkpoint.root != found[0] or checkpoint.head != found[1]:
        report.add(
            "checkpoint", checkpoint.size, "the Merkle root or head of the first entries differs from the checkpoint made at this size"
        )
    if checkpoint.signature is None:
        return  # unsigned is not wrong; with a trusted key, _check_signed_cover asks for signed cover
    problem = checkpoint.signature_problem(trusted_key)
    if problem:
        report.add("checkpoint", checkpoint.size, problem)
    else:
        report.signed_checkpoints += 1


def _verify_contents(conn: sqlite3.Connection, report: IntegrityReport) -> None:
    for digest, body in conn.execute("SELECT digest, CAST(body AS BLOB) FROM contents"):
        if content_digest(body) != digest:
            report.add("contents", None, f"content {digest[:19]}… is not what its digest names: it was edited")
    referenced = conn.execute(_MISSING_CONTENTS)
    for seq, digest in referenced:
        report.add("contents", seq, f"refers to content {str(digest)[:19]}…, which the ledger does not hold")


def _verify_anchors(
    ledger_id: str,
    anchors: list[Checkpoint],
    roots: dict[int, tuple[str, str]],
    report: IntegrityReport,
    trusted_key: str | None,
) -> None:
    for anchor in anchors:
        report.anchors += 1
        if anchor.ledger != ledger_id:
            report.add("anchor", None, f"anchor is of ledger {anchor.ledger}, not this one ({ledger_id})")
            continue
        if anchor.size > report.entries:
            report.add(
                "anchor",
                None,
                f"anchor covers {anchor.size} entries but the ledger holds {report.entries}: truncated, or an older copy",
            )
            continue
        if (anchor.root, anchor.head) != roots.get(anchor.size):
            report.add("anchor", anchor.size, "the first entries differ from what the anchor recorded: rewritten since it was made")
        problem = anchor.signature_problem(trusted_key) if anchor.signature else None
        if problem:
            report.add("anchor", anchor.size, problem)
