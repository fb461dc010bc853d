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
from typing import Any

import orjson

from proctor.ledger._chain import ENTRY_QUERY, GENESIS, IntegrityReport, check_entry
from proctor.ledger._checkpoint import Checkpoint
from proctor.ledger._merkle import Frontier, leaf_hash
from proctor.ledger._store import Ledger, checkpoint_from_row, content_digest

EntryVisitor = Callable[[int, dict[str, Any]], None]


def verify_ledger(
    ledger: Ledger,
    anchors: Iterable[Checkpoint] = (),
    *,
    trusted_key: str | None = None,
    visit: EntryVisitor | None = None,
    parallel: bool | None = None,
) -> IntegrityReport:
    """Check ``ledger`` (and ``anchors`` against it); ``visit(seq, payload)`` sees each good entry.

    ``trusted_key`` (hex Ed25519 public key) makes every checkpoint and anchor need its signature.
    ``parallel`` is accepted and ignored: audits run in this process (a second-interpreter chain
    checker paid 1.06x on a quiet machine, not worth a second implementation to trust).
    """
    report = IntegrityReport()
    conn = ledger.db.conn
    try:
        with _cyclic_gc_paused(), _one_snapshot(conn):
            _verify(conn, report, list(anchors), trusted_key, visit)
    except sqlite3.DatabaseError as exc:
        report.add("file", None, f"the file is damaged: {exc}")
    return report


@contextmanager
def _one_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Every read of the audit in one read transaction: the checkpoints, entries and contents
    of one moment of a live ledger, and entries re-read by position are the ones read before."""
    if conn.in_transaction:
        yield  # the caller's own transaction already holds one snapshot
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")  # it only read


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
    conn: sqlite3.Connection,
    report: IntegrityReport,
    anchors: list[Checkpoint],
    trusted_key: str | None,
    visit: EntryVisitor | None,
) -> None:
    checkpoints = {cp.size: cp for cp in _checkpoints(conn, report)}
    referenced: list[tuple[int, Any]] = []
    roots = _verify_entries(conn, report, checkpoints, {a.size for a in anchors}, visit, referenced)
    for checkpoint in checkpoints.values():
        _check_checkpoint(report, checkpoint, roots.get(checkpoint.size), trusted_key)
    _verify_contents(conn, report, referenced)
    (ledger_id,) = conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()
    _verify_anchors(ledger_id, anchors, roots, report, trusted_key)
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
    referenced: list[tuple[int, Any]],
) -> dict[int, tuple[str, str]]:
    """Walk the chain; returns {size: (root, head)} at each checkpoint and anchor size, and
    adds to ``referenced`` (seq, digest) for each content a good entry refers to."""
    frontier, roots = Frontier(), {}
    stops = {*checkpoints, *anchor_sizes}
    last_stop = max(stops, default=0)  # no root is asked for beyond it: its leaves need no hash
    leaves: list[bytes] = []  # hashed into the Merkle frontier in bulk, up to each stop
    ended: set[str] = set()
    expected_prev = GENESIS
    for position, row in enumerate(conn.execute(ENTRY_QUERY), 1):
        report.entries = position
        value = check_entry(report, position, row, expected_prev)
        digest, payload = row[6], row[7]
        expected_prev = digest
        if value is not None:  # its columns are its payload's: value["seq"] is its seq column
            _check_run_order(report, value, ended)
            data = value.get("data")
            if type(data) is dict and "contents" in data:
                referenced.extend((value["seq"], named) for named in _named(data["contents"]))
            if visit is not None:
                visit(value["seq"], value)
        if position <= last_stop:
            leaves.append(leaf_hash(payload))
            if position in stops:
                frontier.extend(leaves)
                leaves.clear()
                roots[position] = (frontier.root().hex(), digest)
    report.checkpoints = len(checkpoints)
    return roots


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


def _named(contents: Any) -> list[Any]:
    """The digests a ``data.contents`` names: an object's values, a list's items, or itself."""
    named = contents.values() if isinstance(contents, dict) else contents if isinstance(contents, list) else [contents]
    return [digest for digest in named if digest is not None]


def _verify_contents(conn: sqlite3.Connection, report: IntegrityReport, referenced: list[tuple[int, Any]]) -> None:
    held = set()
    for digest, body in conn.execute("SELECT digest, CAST(body AS BLOB) FROM contents"):
        held.add(digest)
        if content_digest(body) != digest:
            report.add("contents", None, f"content {digest[:19]}… is not what its digest names: it was edited")
    for seq, digest in referenced:
        if not (isinstance(digest, str) and digest in held):
            named = digest if isinstance(digest, str) else orjson.dumps(digest).decode()
            report.add("contents", seq, f"refers to content {named[:19]}…, which the ledger does not hold")


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
