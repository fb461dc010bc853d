"""The ledger store: append events to a hash chain in SQLite, read them back, prove them.

Each entry's payload is canonical JSON (RFC 8785) holding everything an auditor relies on:
``{"at", "data", "id", "kind", "run", "seq", "v"}``; its hash is SHA-256(prev hash ‖ payload).
The columns beside the payload are copies for querying (and for Datasette); audits trust only
the hashed bytes. Appends take ``BEGIN IMMEDIATE`` and read the head inside the transaction,
so concurrent writers (threads or processes) extend one linear chain; an event whose id is
already recorded is not recorded again (the entry recorded first is returned), so a retried
append is idempotent. Large contents (code, outputs) are stored once, by digest, in the same
transaction as the entry that refers to them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from proctor.errors import IntegrityError, UnavailableError
from proctor.ledger._canonical import canonical, parse
from proctor.ledger._chain import GENESIS, PAYLOAD_VERSION
from proctor.ledger._checkpoint import Checkpoint
from proctor.ledger._merkle import Frontier, consistency_proof, inclusion_proof, leaf_hash
from proctor.ledger._schema import BUSY_TIMEOUT_SECONDS, Synchronous, connect

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DEFAULT_CHECKPOINT_EVERY = 1000


def content_digest(body: str | bytes) -> str:
    """The name a body is stored under: ``sha256:`` and the hex digest of its UTF-8 bytes."""
    return "sha256:" + hashlib.sha256(body.encode() if isinstance(body, str) else body).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    """Something to record: ``kind`` and JSON ``data``, in run ``run``; ``contents`` are large
    bodies stored by digest (refer to them in ``data`` by ``content_digest(body)``)."""

    kind: str
    data: dict[str, Any]
    run: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    contents: tuple[str, ...] = ()


class Entry(NamedTuple):
    """One recorded event, exactly as stored."""

    seq: int
    id: str
    kind: str
    run: str | None
    at: str
    prev: str
    hash: str
    payload: bytes

    @property
    def data(self) -> dict[str, Any]:
        """The event's data, from the hashed payload; ``IntegrityError`` if the payload is damaged."""
        try:
            value = parse(self.payload)
        except ValueError as exc:
            raise self._damaged(str(exc)) from None
        data = value.get("data") if type(value) is dict else None
        if type(data) is not dict:
            raise self._damaged("its payload holds no data object")
        return data

    def _damaged(self, why: str) -> IntegrityError:
        return IntegrityError(f"ledger entry {self.seq} is damaged: {why}; run `proctor audit` on the ledger to see what changed")

    def row(self) -> tuple[Any, ...]:
        return (*self[:7], self.payload.decode())

    def columns(self) -> dict[str, Any]:
        """The entry's columns an export or listing shows beside its data."""
        return {"seq": self.seq, "id": self.id, "kind": self.kind, "run": self.run, "at": self.at, "hash": self.hash}

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON data (payload decoded), for show and export."""
        return {**self.columns(), "data": self.data}


_COLUMNS = "seq, id, kind, run, at, prev, hash, payload"
_IDS_PER_QUERY = 500  # well under SQLite's limit on a statement's parameters
_INSERT = f"INSERT INTO entries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def _row_entry(row: tuple[Any, ...]) -> Entry:
    seq, id_, kind, run, at, prev, digest, payload = row
    return Entry(seq, id_, kind, run, at, prev, digest, payload.encode())


def _prepared(event: Event) -> bytes:
    """The middle of the event's payload, every value written by ``canonical``: its data, id,
    kind and run, with their keys in RFC 8785 order (``_chain`` adds ``at`` before and ``seq``
    and ``v`` after, the same way). Made outside the write lock: it is the slow part."""
    if type(event.id) is not str or type(event.kind) is not str or not (event.run is None or type(event.run) is str):
        raise ValueError(f"cannot record event {event.id!r}: its id, kind and run must be strings")
    data = canonical(event.data)
    try:
        id_, kind, run = canonical(event.id), canonical(event.kind), canonical(event.run)
    except ValueError:
        raise ValueError(f"cannot record event {event.id!r}: its id, kind and run must be strings of valid Unicode") from None
    return b'"data":' + data + b',"id":' + id_ + b',"kind":' + kind + b',"run":' + run


def _chain(prepared: list[tuple[Event, bytes]], seq: int, head: str, at: str) -> list[Entry]:
    """The entries that extend the head (seq, head) by these events, all stamped ``at``."""
    entries = []
    prev = bytes.fromhex(head)
    opening = b'{"at":' + canonical(at) + b","
    for event, middle in prepared:
        seq += 1
        payload = opening + middle + b',"seq":%d,"v":%d}' % (seq, PAYLOAD_VERSION)  # safe integers: RFC 8785 writes them so
        digest = hashlib.sha256(prev + payload)
        entries.append(Entry(seq, event.id, event.kind, event.run, at, head, head := digest.hexdigest(), payload))
        prev = digest.digest()
    return entries


class Ledger:
    """An append-only, hash-chained SQLite ledger.

    Args:
        path: the ledger file; created (with its schema) when missing, unless ``readonly``.
        readonly: open for reading only (safe on a live ledger another process writes).
        synchronous: SQLite's ``synchronous`` for writers; FULL (the default) makes every
            acknowledged append survive power loss, NORMAL only process crashes.
        checkpoint_every: record a checkpoint every this many entries (0: only when asked).
        signing_key: an Ed25519 private key that signs every checkpoint this writer makes.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        readonly: bool = False,
        synchronous: Synchronous = "FULL",
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        signing_key: Ed25519PrivateKey | None = None,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.checkpoint_every = checkpoint_every
        self.signing_key = signing_key
        self.db, self.ledger_id = connect(self.path, readonly=readonly, synchronous=synchronous)
        self._conn = self.db.conn
        self._frontier = Frontier()

    # -- writing ---------------------------------------------------------------------------

    def append(self, kind: str, data: dict[str, Any], *, run: str | None = None, id: str | None = None) -> Entry:
        """Record one event; returns its entry (the first one recorded, if ``id`` was seen before)."""
        return self.extend([Event(kind, data, run, id or uuid.uuid4().hex)])[0]

    def extend(self, events: Iterable[Event]) -> list[Entry]:
        """Record events in order, in one transaction; one entry per event (for an id recorded
        before, in this call or earlier, the entry recorded first)."""
        prepared = [(e, _prepared(e)) for e in events]
        if not prepared:
            return []
        with self._transaction() as conn:
            seq, head = self._head(conn)
            known = self._by_ids(conn, [event.id for event, _ in prepared])
            new: dict[str, tuple[Event, bytes]] = {}
            for event, data in prepared:
                if event.id not in known:
                    new.setdefault(event.id, (event, data))
            written = _chain(list(new.values()), seq, head, _now())
            conn.executemany(_INSERT, [entry.row() for entry in written])
            self._finish(conn, list(new.values()), written)
        known.update((entry.id, entry) for entry in written)
        return [known[event.id] for event, _ in prepared]

    def _finish(self, conn: sqlite3.Connection, new: list[tuple[Event, bytes]], written: list[Entry]) -> None:
        """Store the new events' contents and make the checkpoints due among the new entries."""
        bodies = [body for event, _ in new for body in event.contents]
        if bodies:
            rows = [(content_digest(b), len(b), b) for b in bodies]
            conn.executemany("INSERT INTO contents (digest, size, body) VALUES (?, ?, ?)", rows)
        if not self.checkpoint_every:
            return
        for entry in written:
            if entry.seq % self.checkpoint_every == 0:
                self._checkpoint(conn, entry.seq, entry.hash, written)

    def checkpoint(self) -> Checkpoint:
        """A checkpoint of the current head (the existing one if the head already has one)."""
        with self._transaction() as conn:
            size, head = self._head(conn)
            if size == 0:
                raise ValueError(f"{self.path}: an empty ledger has nothing to checkpoint")
            return self._checkpoint_at(conn, size) or self._checkpoint(conn, size, head)

    def _checkpoint(self, conn: sqlite3.Connection, size: int, head: str, written: list[Entry] | None = None) -> Checkpoint:
        self._catch_up(conn, size, written or [])
        checkpoint = Checkpoint(ledger=self.ledger_id, size=size, root=self._frontier.root().hex(), head=head, at=_now())
        if self.signing_key is not None:
            checkpoint = checkpoint.signed(self.signing_key)
        conn.execute(
            "INSERT INTO checkpoints (size, root, head, at, statement, public_key, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (size, checkpoint.root, head, checkpoint.at, checkpoint.statement().decode(), checkpoint.public_key, checkpoint.signature),
        )
        return checkpoint

    def _catch_up(self, conn: sqlite3.Connection, size: int, written: list[Entry]) -> None:
        """Bring the Merkle frontier to ``size`` entries: from ``written`` (consecutive entries
        this transaction wrote) where it covers them, from the file before those."""
        # A new frontier, not the old one changed: a transaction that rolls back restores the old.
        self._frontier = Frontier() if self._frontier.size > size else self._frontier.copy()
        first_written = written[0].seq if written else size + 1
        if self._frontier.size + 1 < first_written:
            self._frontier.extend(self._leaves(conn, self._frontier.size, min(size, first_written - 1)))
        done = self._frontier.size
        self._frontier.extend([leaf_hash(entry.payload) for entry in written if done < entry.seq <= size])

    def _transaction(self) -> _Transaction:
        if self.readonly:
            raise RuntimeError(f"{self.path} was opened read-only")
        return _Transaction(self)

    def _begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, waiting out other writers; never lets 'database is locked' reach the user."""
        deadline = time.monotonic() + 5 * BUSY_TIMEOUT_SECONDS
        pause = 0.001
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise UnavailableError(
                        f"{self.path}: another writer has held the ledger for over {5 * BUSY_TIMEOUT_SECONDS:.0f} s"
                    ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    # -- reading ---------------------------------------------------------------------------

    def _head(self, conn: sqlite3.Connection) -> tuple[int, str]:
        row = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def _by_id(self, conn: sqlite3.Connection, event_id: str) -> Entry | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE id = ?", (event_id,)).fetchone()
        return _row_entry(row) if row else None

    def _by_ids(self, conn: sqlite3.Connection, event_ids: list[str]) -> dict[str, Entry]:
        """The entries already recorded under any of ``event_ids``."""
        found: dict[str, Entry] = {}
        for start in range(0, len(event_ids), _IDS_PER_QUERY):
            chunk = event_ids[start : start + _IDS_PER_QUERY]
            query = f"SELECT {_COLUMNS} FROM entries WHERE id IN ({', '.join('?' * len(chunk))})"
            found.update((entry.id, entry) for entry in map(_row_entry, conn.execute(query, chunk)))
        return found

    def _checkpoint_at(self, conn: sqlite3.Connection, size: int) -> Checkpoint | None:
        row = conn.execute("SELECT statement, public_key, signature FROM checkpoints WHERE size = ?", (size,)).fetchone()
        return checkpoint_from_row(row) if row else None

    @property
    def size(self) -> int:
        return self._head(self._conn)[0]

    def head(self) -> tuple[int, str]:
        """(size, hash of the last entry); (0, GENESIS) when empty."""
        return self._head(self._conn)

    def get(self, event_id: str) -> Entry | None:
        return self._by_id(self._conn, event_id)

    def entries(self, *, start: int = 1, run: str | None = None, kinds: Iterable[str] | None = None) -> Iterator[Entry]:
        """Entries in order from ``start``, optionally of one run and some kinds."""
        where: list[str] = ["seq >= ?"]
        params: list[Any] = [start]
        if run is not None:
            where.append("run = ?")
            params.append(run)
        if kinds is not None:
            wanted = list(kinds)
            where.append(f"kind IN ({', '.join('?' * len(wanted))})")
            params.extend(wanted)
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE {' AND '.join(where)} ORDER BY seq", params)
        return (_row_entry(row) for row in rows)

    def content(self, digest: str) -> str | None:
        row = self._conn.execute("SELECT body FROM contents WHERE digest = ?", (digest,)).fetchone()
        return row[0] if row else None

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._conn.execute("SELECT statement, public_key, signature FROM checkpoints ORDER BY size")
        return [checkpoint_from_row(row) for row in rows]

    def runs(self) -> list[str]:
        rows = self._conn.execute("SELECT run FROM entries WHERE kind = 'run_start' ORDER BY seq")
        return [run for (run,) in rows]

    # -- proofs ----------------------------------------------------------------------------

    def leaves(self, size: int) -> list[bytes]:
        return self._leaves(self._conn, 0, size)

    @staticmethod
    def _leaves(conn: sqlite3.Connection, after: int, upto: int) -> list[bytes]:
        """The Merkle leaf hashes of entries after..upto, from the stored payload bytes."""
        rows = conn.execute("SELECT CAST(payload AS BLOB) FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq", (after, upto))
        return [leaf_hash(payload) for (payload,) in rows]

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 PATH for entry ``seq`` (1-based) in the tree of the first ``size`` entries."""
        size = size or self.size
        return inclusion_proof(self.leaves(size), seq - 1, size)

    def consistency_proof(self, first: int, size: int | None = None) -> list[bytes]:
        size = size or self.size
        return consistency_proof(self.leaves(size), first, size)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close; a writer first folds the WAL into the main file, so the file alone is complete."""
        if not self.readonly:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # a reader holds the WAL open; the next close folds it
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    """``with ledger._transaction() as conn``: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on any
    error with the Merkle frontier as it was (a checkpoint that rolls back must not count).
    A class, not ``@contextmanager``: its generator costs a few µs on every append."""

    __slots__ = ("_frontier", "_ledger")

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __enter__(self) -> sqlite3.Connection:
        self._ledger._begin_immediate()
        self._frontier = self._ledger._frontier  # replaced, never changed in place (_catch_up)
        return self._ledger._conn

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        conn = self._ledger._conn
        if kind is None:
            try:
                conn.execute("COMMIT")
                return
            except BaseException:
                self._roll_back()
                raise
        self._roll_back()

    def _roll_back(self) -> None:
        if self._ledger._conn.in_transaction:  # SQLite may have rolled back already (a full disk)
            self._ledger._conn.execute("ROLLBACK")
        self._ledger._frontier = self._frontier


def checkpoint_from_row(row: tuple[str, str | None, str | None]) -> Checkpoint:
    statement, public_key, signature = row
    return Checkpoint(**parse(statement.encode()), public_key=public_key, signature=signature)


_second: tuple[int, str] = (0, "")  # the last whole second _now formatted, and its text


def _now() -> str:
    """The time in UTC as ISO 8601 with microseconds (``datetime.isoformat``'s form), formatting
    the date and time once a second: ``datetime.now().isoformat()`` costs ~5 µs an append."""
    global _second
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    second = _second  # one read: another thread may replace it meanwhile
    if second[0] != seconds:
        second = _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{second[1]}.{nanoseconds // 1000:06d}+00:00"
