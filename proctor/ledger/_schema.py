"""The ledger's SQLite schema, its triggers, and opening a file as a ledger (or refusing to).

A ledger file is marked by ``PRAGMA application_id`` and versioned by ``PRAGMA user_version``,
so "not a ledger", "a corrupt file" and "written by a newer proctor" are each named at open.
The triggers make the file append-only for every client, not just proctor: UPDATE and DELETE
are refused, and an insert must extend the head by exactly one (the next ``seq``, the head's
hash as ``prev``, an id never seen). That also stops ``INSERT OR REPLACE``. They are
a guard against accidents and casual edits; the hash chain, checkpoints and anchors are what
detect a writer who drops the triggers.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import sqlite_utils

from proctor._files import check_writable
from proctor.errors import InputError
from proctor.ledger._chain import GENESIS

APPLICATION_ID = 0x50524354  # "PRCT"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 60.0

Synchronous = Literal["FULL", "NORMAL", "EXTRA"]

_APPEND_ONLY = "SELECT RAISE(ABORT, 'proctor ledger: {table} are append-only');"

SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    run TEXT,
    at TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL,  -- no index: nothing looks entries up by hash, and the chain makes each unique
    payload TEXT NOT NULL
);
CREATE INDEX entries_by_run ON entries (run, kind);
CREATE TABLE contents (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    head TEXT NOT NULL,
    at TEXT NOT NULL,
    statement TEXT NOT NULL,
    public_key TEXT,
    signature TEXT
);

CREATE TRIGGER entries_extend_head BEFORE INSERT ON entries
WHEN IFNULL(
       (SELECT seq + 1 = NEW.seq AND hash = NEW.prev FROM entries ORDER BY seq DESC LIMIT 1),
       NEW.seq = 1 AND NEW.prev = '{GENESIS}'
     ) IS NOT 1
  OR EXISTS (SELECT 1 FROM entries WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'proctor ledger: an insert must extend the head by exactly one entry'); END;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN {_APPEND_ONLY.format(table="entries")} END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN {_APPEND_ONLY.format(table="entries")} END;

CREATE TRIGGER contents_once BEFORE INSERT ON contents
WHEN EXISTS (SELECT 1 FROM contents WHERE digest = NEW.digest)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER contents_no_update BEFORE UPDATE ON contents BEGIN {_APPEND_ONLY.format(table="contents")} END;
CREATE TRIGGER contents_no_delete BEFORE DELETE ON contents BEGIN {_APPEND_ONLY.format(table="contents")} END;

CREATE TRIGGER checkpoints_grow BEFORE INSERT ON checkpoints
WHEN NEW.size <= IFNULL((SELECT MAX(size) FROM checkpoints), 0)
  OR NEW.head IS NOT (SELECT hash FROM entries WHERE seq = NEW.size)
BEGIN SELECT RAISE(ABORT, 'proctor ledger: a checkpoint must cover a larger, existing head'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints BEGIN {_APPEND_ONLY.format(table="checkpoints")} END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints BEGIN {_APPEND_ONLY.format(table="checkpoints")} END;

CREATE TRIGGER meta_no_update BEFORE UPDATE ON meta BEGIN {_APPEND_ONLY.format(table="meta rows")} END;
CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta BEGIN {_APPEND_ONLY.format(table="meta rows")} END;
"""


def connect(path: Path, *, readonly: bool, synchronous: Synchronous = "FULL") -> tuple[sqlite_utils.Database, str]:
    """Open ``path`` as a ledger (created if missing, writers only); returns it and its ledger id.

    Raises InputError naming the file when it is missing (readers), not SQLite, not a proctor
    ledger, corrupt, or from a newer schema.
    """
    _check_path(path, readonly)
    try:
        conn = _sqlite(path, readonly)
        db = sqlite_utils.Database(conn)
        _check_or_create(db, path, readonly)
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={synchronous}")
        ledger_id = conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0]
    except (sqlite3.DatabaseError, TypeError) as exc:
        raise InputError(f"{path}: not a readable proctor ledger ({exc}); is it corrupt, or another kind of file?") from None
    return db, ledger_id


def _check_path(path: Path, readonly: bool) -> None:
    """Name what SQLite would only call "unable to open database file" or "file is not a database"."""
    if path.is_dir():
        raise InputError(f"{path}: a directory, not a ledger file; pass the path of a ledger file")
    if not path.exists():
        if readonly:
            raise InputError(f"{path}: no such ledger")
        check_writable(path)
    elif readonly and path.stat().st_size == 0:
        raise InputError(f"{path}: an empty file, not a proctor ledger; pass a ledger written by proctor")


def _sqlite(path: Path, readonly: bool) -> sqlite3.Connection:
    target = f"file:{path}?mode=ro" if readonly else str(path)
    # isolation_level=None: proctor issues BEGIN IMMEDIATE itself (see Ledger._transaction).
    conn = sqlite3.connect(target, uri=readonly, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: the id and hash indexes are random-access
    return conn


def _check_or_create(db: sqlite_utils.Database, path: Path, readonly: bool) -> None:
    conn = db.conn
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id == 0 and not db.table_names() and not readonly:
        _create(conn)
        return
    if app_id != APPLICATION_ID:
        raise InputError(f"{path}: not a proctor ledger (an SQLite file of another kind); pass a ledger written by proctor")
    if version > SCHEMA_VERSION:
        raise InputError(
            f"{path}: written by a newer proctor (ledger schema v{version}; this one reads v{SCHEMA_VERSION}): upgrade proctor"
        )


def _create(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] == 0:  # no other writer won the race
            for statement in _statements(SCHEMA):
                conn.execute(statement)
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", _first_meta().items())
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _first_meta() -> dict[str, str]:
    from proctor import __version__

    return {"ledger_id": uuid.uuid4().hex, "created_at": datetime.now(UTC).isoformat(), "created_by": f"proctor {__version__}"}


def _statements(script: str) -> list[str]:
    """Split the schema into statements; triggers hold inner semicolons, so split on complete ones."""
    statements, current = [], ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements
