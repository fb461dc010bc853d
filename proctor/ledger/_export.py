"""Export a ledger's entries as JSONL, CSV or Parquet, for analysis elsewhere."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from proctor.errors import InputError
from proctor.ledger._store import Ledger

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
_FIELDS = ("seq", "id", "kind", "run", "at", "hash", "data")


def export(ledger: Ledger, path: Path, fmt: Format, *, run: str | None = None) -> int:
    """Write every entry (of ``run``, if given) to ``path``; returns how many were written."""
    rows = (entry.as_dict() for entry in ledger.entries(run=run))
    if fmt == "jsonl":
        return _jsonl(rows, path)
    if fmt == "csv":
        return _csv(rows, path)
    return _parquet(rows, path)


def _jsonl(rows: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "data": json.dumps(row["data"], ensure_ascii=False, sort_keys=True)}


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
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("Parquet export needs pyarrow: pip install 'proctor[parquet]' (or use --format jsonl or csv)") from None
    table = pa.Table.from_pylist([_flat(row) for row in rows])
    pq.write_table(table, path)
    return int(table.num_rows)
