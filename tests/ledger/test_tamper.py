"""Tampering with a ledger file, case by case, and which check catches it.

Each case says what catches it: the chain (hashes and order), a checkpoint in the file, a
signature, or only an anchor kept elsewhere. Cases no check can catch without an anchor are
asserted to pass without one, so the docs' claim ("undetectable without an anchor") is tested.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

import pytest

from proctor.ledger import Ledger, Recorder, generate_key, load_key, verify_ledger
from proctor.ledger._chain import chain_hash
from proctor.models import Decision, Proposal, SelfReport, Verdict
from tests.ledger.conftest import raw_connection


def _record_run(book: Ledger, n: int = 4) -> Recorder:
    recorder = Recorder(book)
    recorder.start({"suite": "tamper"})
    for i in range(n):
        proposal = Proposal(task_id="t", code=f"def f():\n    return {i}\n")
        claim = SelfReport(proposal_id=proposal.id, claimed="pass", confidence=0.9)
        verdict = Verdict(verifier="tests", version="v1", status="pass" if i % 2 else "fail", proposal_id=proposal.id)
        decision = Decision(proposal_id=proposal.id, outcome="accept" if i % 2 else "reject")
        recorder.cycle(proposal, claim, [verdict], decision)
    return recorder


@pytest.fixture
def recorded(tmp_path):
    path = tmp_path / "run.ledger"
    with Ledger(path, checkpoint_every=0) as book:
        _record_run(book).end({"done": True})
        anchor = book.checkpoint()
    return path, anchor


def _report(path, anchors=(), trusted_key=None):
    with Ledger(path, readonly=True) as book:
        return verify_ledger(book, anchors, trusted_key=trusted_key)


def _rehash_from(conn: sqlite3.Connection, seq: int) -> None:
    """What a careful forger does: recompute every hash from ``seq`` on so the chain links."""
    prev = conn.execute("SELECT hash FROM entries WHERE seq = ?", (seq - 1,)).fetchone()
    prev = prev[0] if prev else "0" * 64
    for s, payload in conn.execute("SELECT seq, payload FROM entries WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
        digest = chain_hash(prev, payload.encode())
        conn.execute("UPDATE entries SET prev = ?, hash = ? WHERE seq = ?", (prev, digest, s))
        prev = digest


def _accept_every_rejection_and_rehash(path) -> sqlite3.Connection:
    conn = raw_connection(path)
    conn.execute(
        'UPDATE entries SET payload = replace(payload, \'"outcome":"reject"\', \'"outcome":"accept"\') WHERE kind = \'decision\''
    )
    _rehash_from(conn, 2)
    return conn


def test_untouched_ledger_verifies_with_its_anchor(recorded):
    path, anchor = recorded
    assert _report(path, [anchor]).ok


def test_edit_a_payload_with_the_triggers_dropped_is_caught_by_the_chain(recorded):
    path, _ = recorded
    conn = raw_connection(path)
    conn.execute('UPDATE entries SET payload = replace(payload, \'"status":"fail"\', \'"status":"pass"\') WHERE kind = \'verdict\'')
    report = _report(path)
    assert not report.ok and report.problems[0].check == "chain" and "payload was edited" in report.problems[0].message


def test_edit_a_column_only_is_caught_by_the_chain(recorded):
    path, _ = recorded
    raw_connection(path).execute("UPDATE entries SET kind = 'approval' WHERE seq = 3")
    report = _report(path)
    assert report.problems[0].seq == 3 and "columns kind differ" in report.problems[0].message


def test_a_rehashed_payload_that_is_not_an_object_is_named_not_crashed_on(recorded):
    path, _ = recorded
    conn = raw_connection(path)
    conn.execute("UPDATE entries SET payload = '[1,2]' WHERE seq = 3")
    _rehash_from(conn, 3)
    report = _report(path)
    assert report.problems[0].seq == 3 and "not a JSON object" in report.problems[0].message


def test_delete_a_row_and_renumber_is_caught_by_the_chain(recorded):
    path, _ = recorded
    conn = raw_connection(path)
    conn.execute("DELETE FROM entries WHERE seq = 4")
    conn.execute("UPDATE entries SET seq = seq - 1 WHERE seq > 4")
    report = _report(path)
    assert not report.ok and report.problems[0].check == "chain" and report.problems[0].seq == 4


def test_rewrite_and_rehash_the_tail_is_caught_by_the_in_file_checkpoint(recorded):
    path, _ = recorded
    _accept_every_rejection_and_rehash(path)
    report = _report(path)
    assert not report.ok and {p.check for p in report.problems} == {"checkpoint"}


def test_rewrite_and_rehash_with_checkpoints_rewritten_needs_an_anchor(recorded):
    path, anchor = recorded
    conn = _accept_every_rejection_and_rehash(path)
    conn.execute("DELETE FROM checkpoints")
    assert _report(path).ok  # undetectable without an anchor: the docs say so
    report = _report(path, [anchor])
    assert not report.ok and report.problems[0].check == "anchor"


def test_truncate_is_caught_by_the_checkpoint_at_the_end_of_the_run(recorded):
    path, anchor = recorded
    conn = raw_connection(path)
    conn.execute("DELETE FROM entries WHERE seq > 10")
    report = _report(path)
    assert not report.ok and report.problems[0].check == "checkpoint"
    conn.execute("DELETE FROM checkpoints")
    assert _report(path).ok  # without checkpoints or an anchor, a shorter ledger looks like a shorter run
    assert "truncated" in _report(path, [anchor]).problems[0].message


def test_restore_an_older_copy_is_caught_only_by_an_anchor(tmp_path):
    path = tmp_path / "run.ledger"
    with Ledger(path) as book:
        _record_run(book, 2)
    shutil.copy(path, tmp_path / "old.ledger")
    with Ledger(path) as book:
        _record_run(book, 2)
        anchor = book.checkpoint()
    shutil.copy(tmp_path / "old.ledger", path)
    assert _report(path).ok
    assert "truncated, or an older copy" in _report(path, [anchor]).problems[0].message


def test_forged_entries_appended_after_a_run_ended_are_caught(recorded):
    path, _ = recorded
    with Ledger(path) as book:  # a forger with write access, using proctor itself
        run = book.runs()[0]
        book.append("decision", {"proposal_id": "x", "outcome": "accept"}, run=run)
    report = _report(path)
    assert not report.ok and report.problems[0].check == "run"


def test_forged_entries_appended_as_a_new_run_are_caught_only_with_a_signing_key(tmp_path):
    path = tmp_path / "run.ledger"
    public = generate_key(tmp_path / "key.pem")
    with Ledger(path, signing_key=load_key(tmp_path / "key.pem")) as book:
        _record_run(book).end({})
    assert _report(path, trusted_key=public).ok
    with Ledger(path) as book:  # no key: the forger can chain entries but not sign them
        _record_run(book).end({})
    assert _report(path).ok  # undetectable without a trusted key or an anchor
    report = _report(path, trusted_key=public)
    assert not report.ok and [p.check for p in report.problems] == ["signature"] and report.problems[0].seq == 19


def test_swap_two_payloads_is_caught_by_the_chain(recorded):
    path, _ = recorded
    conn = raw_connection(path)
    a, b = (conn.execute("SELECT payload FROM entries WHERE seq = ?", (s,)).fetchone()[0] for s in (3, 4))
    conn.execute("UPDATE entries SET payload = ? WHERE seq = 3", (b,))
    conn.execute("UPDATE entries SET payload = ? WHERE seq = 4", (a,))
    report = _report(path)
    assert [p.seq for p in report.problems if p.check == "chain"][:2] == [3, 4]


def test_edit_stored_code_is_caught_by_its_digest(recorded):
    path, _ = recorded
    raw_connection(path).execute("UPDATE contents SET body = body || '    import os\n' WHERE rowid = 1")
    report = _report(path)
    assert not report.ok and report.problems[0].check == "contents"


@pytest.mark.parametrize("needle", [b'"status":"fail"', b'"claimed":"pass"', b'"outcome":"accept"'])
def test_flip_a_byte_in_the_file_is_caught(recorded, needle):
    path, _ = recorded
    image = bytearray(path.read_bytes())
    at = image.find(needle)
    assert at > 0
    image[at + len(needle) - 3] ^= 0x01
    path.write_bytes(bytes(image))
    report = _report(path)
    assert not report.ok and report.problems[0].check in ("chain", "file")


def test_lose_the_wal_file_is_caught_only_by_an_anchor(tmp_path):
    path = tmp_path / "run.ledger"
    writer = Ledger(path)  # a writer that has not closed: its last commits live in the -wal file
    _record_run(writer, 1)
    writer.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _record_run(writer, 2)
    anchor = writer.checkpoint()
    shutil.copy(path, tmp_path / "copy.ledger")  # the main file alone: the -wal is lost
    writer.close()
    lost = tmp_path / "copy.ledger"
    assert _report(lost).ok and _report(lost).entries < anchor.size
    assert "truncated" in _report(lost, [anchor]).problems[0].message


def test_a_closed_ledger_needs_no_wal_file(tmp_path):
    path = tmp_path / "run.ledger"
    with Ledger(path) as book:
        _record_run(book, 2)
        size = book.size
    assert not (tmp_path / "run.ledger-wal").exists() or (tmp_path / "run.ledger-wal").stat().st_size == 0
    assert _report(path).entries == size


def test_a_wrong_key_signature_is_named(tmp_path):
    path = tmp_path / "run.ledger"
    generate_key(tmp_path / "a.pem")
    other = generate_key(tmp_path / "b.pem")
    with Ledger(path, signing_key=load_key(tmp_path / "a.pem")) as book:
        _record_run(book).end({})
    report = _report(path, trusted_key=other)
    assert "not the trusted key" in report.problems[0].message
    assert hashlib.sha256(b"").hexdigest() not in str(report.problems)


def test_delete_stored_code_is_caught_as_missing_content(recorded):
    path, _ = recorded
    raw_connection(path).execute("DELETE FROM contents WHERE rowid = 2")
    report = _report(path)
    assert not report.ok and report.problems[0].check == "contents" and "does not hold" in report.problems[0].message
