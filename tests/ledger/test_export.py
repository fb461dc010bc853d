"""Exports stream, report progress, and appear whole or not at all; damaged entries are named."""

from __future__ import annotations

import json

import pytest

from proctor.errors import InputError, IntegrityError
from proctor.ledger import _export, export
from tests.ledger.conftest import fill, raw_connection


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


def test_jsonl_holds_every_entry_as_show_decodes_it(ledger, tmp_path):
    fill(ledger, 7)
    out = tmp_path / "out.jsonl"
    assert export(ledger, out, "jsonl") == 7
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [json.loads(json.dumps(entry.as_dict())) for entry in ledger.entries()]


def test_parquet_is_written_in_row_groups_with_the_same_rows_as_csv(ledger, tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet export needs the optional pyarrow")
    monkeypatch.setattr(_export, "PARQUET_GROUP", 3)
    fill(ledger, 10)
    fill(ledger, 2, run=None)  # entries without a run: a null in the run column
    assert export(ledger, tmp_path / "out.parquet", "parquet") == 12
    written = pq.ParquetFile(tmp_path / "out.parquet")
    assert written.metadata.num_row_groups == 4
    table = written.read().to_pylist()
    assert [row["seq"] for row in table] == list(range(1, 13))
    assert table[-1]["run"] is None
    assert [json.loads(row["data"]) for row in table] == [entry.data for entry in ledger.entries()]


def test_progress_is_reported_as_entries_are_written(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(_export, "PROGRESS_EVERY", 4)
    fill(ledger, 10)
    seen: list[int] = []
    export(ledger, tmp_path / "out.csv", "csv", progress=seen.append)
    assert seen == [4, 8, 10]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_damaged_entry_is_named_and_nothing_is_written(ledger, ledger_path, tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow.parquet", reason="Parquet export needs the optional pyarrow")
    fill(ledger, 6)
    raw_connection(ledger_path).execute("UPDATE entries SET payload = replace(payload, '\"v\":1', '\"v\": 1') WHERE seq = 5")
    out = tmp_path / f"out.{fmt}"
    out.write_text("an earlier export\n")
    with pytest.raises(IntegrityError, match=r"nothing exported: ledger entry 5 is damaged: not canonical JSON"):
        export(ledger, out, fmt)
    assert out.read_text() == "an earlier export\n"
    assert _leftovers(tmp_path) == []


def test_an_interrupted_export_leaves_the_earlier_file_and_no_partial_one(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(_export, "PROGRESS_EVERY", 2)
    fill(ledger, 6)
    out = tmp_path / "out.jsonl"
    out.write_text("an earlier export\n")

    def interrupt(count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(ledger, out, "jsonl", progress=interrupt)
    assert out.read_text() == "an earlier export\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("where", "message"),
    [("nope/out.jsonl", "no such directory"), (".", "a directory; pass the path of a file")],
)
def test_an_output_path_that_cannot_be_a_file_is_named(ledger, tmp_path, where, message):
    fill(ledger, 1)
    with pytest.raises(InputError, match=message):
        export(ledger, tmp_path / where, "jsonl")


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("not json", "not JSON"),
        ('{"data":{}, "seq":2}', "not canonical JSON"),
        ('{"at":"","id":"x","kind":"verdict","run":"r1","seq":2,"v":1}', "holds no data object"),
        ('{"at":"","data":[1],"id":"x","kind":"verdict","run":"r1","seq":2,"v":1}', "holds no data object"),
        ("[1,2]", "holds no data object"),
    ],
)
def test_reading_a_damaged_payload_raises_an_integrity_error_naming_the_entry(ledger, ledger_path, payload, why):
    fill(ledger, 3)
    raw_connection(ledger_path).execute("UPDATE entries SET payload = ? WHERE seq = 2", (payload,))
    entry = list(ledger.entries())[1]
    with pytest.raises(IntegrityError, match=rf"ledger entry 2 is damaged: .*{why}.*proctor audit"):
        entry.data  # noqa: B018 - the property is what is tested
