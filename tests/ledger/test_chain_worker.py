"""The audit's chain worker: a second interpreter checks most entries while the caller visits.

Whatever the worker does (check many frames, die, write nonsense, read another file), the
report and the entries visited are what one process alone finds, or the difference is named.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from proctor.ledger import Event, Ledger, _chain_worker, _integrity, verify_ledger
from proctor.ledger._chain import judge_entry
from tests.ledger.conftest import raw_connection

ENTRIES = 120


def _boot(before_main: str) -> str:
    """A worker start-up line that runs ``before_main`` (with the module as ``w``) first."""
    return (
        "import sys; sys.path[:] = __import__('json').loads(sys.argv[1]); import {module} as w; "
        + before_main
        + "; w.main(*sys.argv[2:])"
    )


@pytest.fixture
def small_frames(monkeypatch):
    """Frames of 8 entries, so a small ledger makes many."""
    monkeypatch.setattr(_chain_worker, "_BOOT", _boot("w.CHUNK = 8"))


@pytest.fixture
def ledger_file(tmp_path):
    path = tmp_path / "run.ledger"
    with Ledger(path, checkpoint_every=16) as book:
        book.extend([Event("verdict", {"proposal_id": f"p{i}", "status": "pass" if i % 3 else "fail"}, "r") for i in range(ENTRIES)])
    return path


def _audit(path, parallel):
    visited: list[tuple[int, dict]] = []
    with Ledger(path, readonly=True) as book:
        report = verify_ledger(book, visit=lambda seq, payload: visited.append((seq, payload)), parallel=parallel)
    return report, visited


def _tamper(path) -> None:
    conn = raw_connection(path)
    conn.execute("UPDATE entries SET payload = replace(payload, '\"fail\"', '\"pass\"') WHERE seq IN (40, 41, 97)")
    conn.execute("UPDATE entries SET kind = 'decision' WHERE seq = 60")
    conn.execute("UPDATE entries SET payload = replace(payload, '\"r\"', '\"r\" ') WHERE seq = 75")


def test_a_split_audit_over_many_frames_reports_and_visits_what_one_process_does(ledger_file, small_frames, monkeypatch):
    _tamper(ledger_file)
    serial = _audit(ledger_file, False)
    checked_here = []
    monkeypatch.setattr(
        _integrity,
        "judge_entry",
        lambda report, position, *rest: checked_here.append(position) or judge_entry(report, position, *rest),
    )
    split = _audit(ledger_file, True)
    here = int(ENTRIES * _integrity.IN_PROCESS_SHARE)
    assert here > 1 and checked_here == list(range(1, here + 1))  # this process checks its share; the worker all the rest
    assert not serial[0].ok and {p.seq for p in serial[0].problems} >= {40, 60, 75, 97}
    assert split == serial
    assert len(split[1]) < ENTRIES  # the tampered entries were not visited


@pytest.mark.parametrize(
    ("boot", "frames"),
    [
        ("import sys; sys.exit(3)", 0),  # dies at once
        ("print('nonsense'); sys.exit(0)", 0),  # writes what is not a frame
        (
            _boot(
                "w.CHUNK = 8; f = w._write_frame; n = [0]; "
                "w._write_frame = lambda *a: (f(*a), n.__setitem__(0, n[0] + 1), n[0] == 3 and __import__('os')._exit(0))"
            ),
            3,
        ),
        (_boot("w.CHUNK = 8; w._write_frame = lambda out, *a: out.write(b'{{}}\\n')"), 0),  # a line, not a frame
    ],
    ids=["dies", "nonsense", "dies-after-three-frames", "empty-frame"],
)
def test_a_lost_worker_leaves_the_rest_to_this_process(ledger_file, monkeypatch, boot, frames):
    _tamper(ledger_file)
    serial = _audit(ledger_file, False)
    taken = []
    real = _chain_worker.ChainWorker.frames
    monkeypatch.setattr(_chain_worker.ChainWorker, "frames", lambda self: (taken.append(f) or f for f in real(self)))
    monkeypatch.setattr(_chain_worker, "_BOOT", boot)
    assert _audit(ledger_file, True) == serial
    assert len(taken) == frames  # what it wrote before it was lost was used


def test_a_worker_that_read_other_bytes_is_named_not_trusted(ledger_file, tmp_path, monkeypatch, small_frames):
    """Two reads of the file that differ (the worker's and this process's) fail the audit."""
    other = tmp_path / "other.ledger"
    shutil.copy(ledger_file, other)
    conn = raw_connection(other)
    # Another first digit (a fixed 'f' left one hash in sixteen unchanged); 71 ends a frame: 16 + 7 * 8 - 1.
    conn.execute("UPDATE entries SET hash = iif(substr(hash, 1, 1) = 'f', '0', 'f') || substr(hash, 2) WHERE seq = 71")
    conn.close()
    monkeypatch.setattr(_chain_worker, "_BOOT", _boot(f"w.CHUNK = 8; sys.argv[2] = {str(other)!r}"))
    report, _ = _audit(ledger_file, True)
    assert not report.ok
    assert any(p.check == "file" and p.seq == 71 and "changed while it was audited" in p.message for p in report.problems)


def _worker_reads_a_pristine_copy(ledger_file, tmp_path, monkeypatch) -> None:
    """The worker audits an untouched copy while this process reads the file: as if the file
    were tampered with between the two reads."""
    other = tmp_path / "pristine.ledger"
    shutil.copy(ledger_file, other)
    monkeypatch.setattr(_chain_worker, "_BOOT", _boot(f"w.CHUNK = 8; sys.argv[2] = {str(other)!r}"))


def test_bytes_the_worker_did_not_judge_are_judged_here(ledger_file, tmp_path, monkeypatch):
    """This process's payload does not parse where the worker's did: judged here, from its row."""
    _worker_reads_a_pristine_copy(ledger_file, tmp_path, monkeypatch)
    raw_connection(ledger_file).execute("UPDATE entries SET payload = 'not json' WHERE seq = 50")
    split, serial = _audit(ledger_file, True), _audit(ledger_file, False)
    assert split == serial
    assert any(p.check == "chain" and p.seq == 50 and "does not cover its payload" in p.message for p in split[0].problems)


def test_a_visited_payload_the_worker_did_not_judge_fails_the_checkpoint(ledger_file, tmp_path, monkeypatch):
    """This process's payload parses but is not the one the worker judged: the Merkle leaves are
    hashed from the bytes visited, so the checkpoint covering it fails the audit."""
    _worker_reads_a_pristine_copy(ledger_file, tmp_path, monkeypatch)
    raw_connection(ledger_file).execute("UPDATE entries SET payload = replace(payload, '\"fail\"', '\"pass\"') WHERE seq = 52")
    report, visited = _audit(ledger_file, True)
    assert visited[51][1]["data"]["status"] == "pass"  # the flipped verdict (it was "fail") was visited
    assert [(p.check, p.seq) for p in report.problems] == [("checkpoint", size) for size in (64, 80, 96, 112)]  # all covering 52


@pytest.mark.parametrize("parallel", [False, True])
def test_an_audit_reads_one_snapshot_of_a_live_ledger(ledger_file, small_frames, parallel):
    """Entries a writer appends while the audit runs are not half in it: it covers the ledger as
    it was when it began, whether or not a worker judges part of it."""
    writer = Ledger(ledger_file)
    visited: list[int] = []

    def visit(seq, payload):
        if not visited:  # while the audit is under way
            writer.extend([Event("verdict", {"proposal_id": f"late{i}", "status": "pass"}, "r") for i in range(40)])
        visited.append(seq)

    try:
        with Ledger(ledger_file, readonly=True) as book:
            report = verify_ledger(book, visit=visit, parallel=parallel)
    finally:
        writer.close()
    assert report.ok and report.entries == ENTRIES and visited == list(range(1, ENTRIES + 1))


def test_the_worker_imports_only_the_chain_checks():
    """Its start-up is the point: none of the store's heavy imports may creep in."""
    heavy = ["sqlite_utils", "cryptography", "numpy", "proctor.ledger._store", "proctor.ledger._integrity"]
    code = f"import sys, proctor.ledger._chain_worker; print([m for m in {heavy!r} if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_a_large_ledger_on_two_cores_uses_the_worker_by_default(ledger_file, monkeypatch):
    started = []

    class Counting(_chain_worker.ChainWorker):
        def __init__(self, *args):
            started.append(args)
            super().__init__(*args)

    monkeypatch.setattr(_integrity, "ChainWorker", Counting)
    monkeypatch.setattr(_integrity.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(_integrity, "PARALLEL_FROM", ENTRIES + 1)
    assert _audit(ledger_file, None)[0].ok and not started
    monkeypatch.setattr(_integrity, "PARALLEL_FROM", ENTRIES)
    assert _audit(ledger_file, None)[0].ok and len(started) == 1
    monkeypatch.setattr(_integrity.os, "sched_getaffinity", lambda pid: {0})
    assert _audit(ledger_file, None)[0].ok and len(started) == 1  # one core: no second process


def test_no_interpreter_to_start_leaves_the_audit_to_this_process(ledger_file, monkeypatch):
    _tamper(ledger_file)
    expected = _audit(ledger_file, False)
    monkeypatch.setattr(sys, "executable", str(ledger_file.parent / "no-such-python"))
    assert _audit(ledger_file, True) == expected
