"""Export a ledger's entries as JSONL, CSV or Parquet, for analysis elsewhere.

The file appears whole or not at all (``written_whole``): a damaged entry (``IntegrityError``,
named), an interrupt or a full disk leave any earlier file at that path as it was. Rows stream
from the ledger, so memory stays flat however long it is (Parquet in row groups).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import orjson

from proctor._files import written_whole
from proctor.errors import InputError, IntegrityError
from proctor.ledger._store import Ledger

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
Progress = Callable[[int], None]  # called with the number of entries written so far

_FIELDS = ("seq", "id", "kind", "run", "at", "hash", "data")
PROGRESS_EVERY = 1000  # entries between calls to ``progress``
PARQUET_GROUP = 10_000  # entries per Parquet row group: what is held in memory at once


def export(ledger: Ledger, path: Path, fmt: Format, *, run: str | None = None, progress: Progress | None = None) -> int:
    """Write every entry (of ``run``, if given) to ``path``; returns how many were written.

    Raises ``IntegrityError`` naming the first damaged entry (nothing is written), ``InputError``
    for a path that cannot be written or Parquet without pyarrow.
    """
    write = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}[fmt]
    if fmt == "parquet":
        _pyarrow()  # before anything is written
    rows = _reported((entry.as_dict() for entry in ledger.entries(run=run)), progress)
    try:
        with written_whole(path) as partial:
            return write(rows, partial)
    except IntegrityError as exc:
        raise IntegrityError(f"nothing exported: {exc}") from None


def _reported(rows: Iterable[dict[str, Any]], progress: Progress | None) -> Iterator[dict[str, Any]]:
    count = 0
    for count, row in enumerate(rows, 1):
        yield row
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    if progress is not None:
        progress(count)


def _jsonl(rows: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for row in rows:
            out.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    return count


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its data as one JSON text (keys sorted), for formats of flat columns."""
    return {**row, "data": orjson.dumps(row["data"], option=orjson.OPT_SORT_KEYS).decode()}


def _csv(rows: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(_flat(row))
            count += 1
    return count


def _parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    pa, pq = _pyarrow()
    schema = pa.schema([("seq", pa.int64()), *((name, pa.string()) for name in _FIELDS[1:])])
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        while group := [_flat(row) for row in islice(rows, PARQUET_GROUP)]:
            writer.write_table(pa.Table.from_pylist(group, schema=schema))
            count += len(group)
    return count


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("Parquet export needs pyarrow: pip install 'proctor[parquet]' (or use --format jsonl or csv)") from None
    return pa, pq
