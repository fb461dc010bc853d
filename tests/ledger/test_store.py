"""The store's invariants: ordered, lossless, idempotent, append-only, and the chain verifies."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from proctor.errors import InputError
from proctor.ledger import Event, Ledger, canonical, content_digest, parse, verify_inclusion, verify_ledger
from proctor.ledger._merkle import leaf_hash, root
from tests.ledger.conftest import fill

data_values = st.dictionaries(
    st.text(max_size=8),
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    max_size=5,
)


class LedgerMachine(RuleBasedStateMachine):
    """Appends, retries and batches against a real file; the model is a plain list."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile
        from pathlib import Path

        self.dir = tempfile.TemporaryDirectory()
        self.book = Ledger(Path(self.dir.name) / "l.db", synchronous="OFF", checkpoint_every=4)  # type: ignore[arg-type]
        self.other = Ledger(Path(self.dir.name) / "l.db", synchronous="OFF", checkpoint_every=3)  # type: ignore[arg-type]
        self.model: list[tuple[str, str, dict]] = []

    @rule(kind=st.sampled_from(["proposal", "verdict", "decision"]), data=data_values)
    def append(self, kind, data):
        entry = self.book.append(kind, data, run="r")
        self.model.append((entry.id, kind, data))
        assert entry.seq == len(self.model)

    @rule(batch=st.lists(data_values, min_size=1, max_size=5))
    def extend(self, batch):
        entries = self.book.extend([Event("verdict", d, "r") for d in batch])
        self.model += [(e.id, "verdict", d) for e, d in zip(entries, batch, strict=True)]

    @rule(batch=st.lists(data_values, min_size=1, max_size=3))
    def another_writer_extends(self, batch):
        # moves the head under the first writer, which must notice and chain onto it
        entries = self.other.extend([Event("decision", d, "r") for d in batch])
        self.model += [(e.id, "decision", d) for e, d in zip(entries, batch, strict=True)]

    @rule(data=data_values)
    def retry_an_old_event(self, data):
        if self.model:
            event_id, kind, original = self.model[len(self.model) // 2]
            again = self.book.append(kind, data, id=event_id)  # same id: the first recording stands
            assert again.data == _jsonish(original)

    @invariant()
    def ordered_and_lossless(self):
        entries = list(self.book.entries())
        assert [e.seq for e in entries] == list(range(1, len(self.model) + 1))
        assert [(e.id, e.kind, e.data) for e in entries] == [(i, k, _jsonish(d)) for i, k, d in self.model]

    @invariant()
    def the_chain_verifies(self):
        assert verify_ledger(self.book).ok

    def teardown(self):
        self.other.close()
        self.book.close()
        self.dir.cleanup()


def _jsonish(data):
    """``data`` as the ledger gives it back: through canonical JSON (2.0 reads back as 2)."""
    return parse(canonical(data))


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_any_change_to_any_hashed_byte_is_caught(ledger):
    fill(ledger, 6)
    payloads = [bytearray(e.payload) for e in ledger.entries()]
    for seq, payload in enumerate(payloads, 1):
        for position in range(0, len(payload), 7):
            changed = bytearray(payload)
            changed[position] ^= 0x01
            if bytes(changed) == bytes(payload):
                continue
            _raw_rewrite(ledger, seq, bytes(changed))
            report = verify_ledger(ledger)
            assert not report.ok and report.problems[0].seq == seq, (seq, position)
            _raw_rewrite(ledger, seq, bytes(payload))
    assert verify_ledger(ledger).ok


def _raw_rewrite(book: Ledger, seq: int, payload: bytes) -> None:
    conn = book.db.conn
    conn.execute("DROP TRIGGER IF EXISTS entries_no_update")
    conn.execute("UPDATE entries SET payload = CAST(? AS TEXT) WHERE seq = ?", (payload, seq))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET kind = 'x' WHERE seq = 1",
        "DELETE FROM entries WHERE seq = 3",
        "INSERT OR REPLACE INTO entries SELECT * FROM entries WHERE seq = 2",
        "INSERT INTO entries (seq, id, kind, run, at, prev, hash, payload) VALUES (9, 'x', 'k', NULL, 'now', 'p', 'h', '{}')",
        "INSERT INTO entries (seq, id, kind, run, at, prev, hash, payload) "
        "SELECT 5, id, 'k', run, at, hash, 'h', payload FROM entries WHERE seq = 4",
        "UPDATE contents SET body = 'x'",
        "DELETE FROM checkpoints",
        "UPDATE meta SET value = 'other' WHERE key = 'ledger_id'",
    ],
)
def test_triggers_refuse_edits_from_any_client(ledger, ledger_path, statement):
    fill(ledger, 4)
    ledger.extend([Event("proposal", {"contents": {"code": content_digest("x = 1")}}, "r1", contents=("x = 1",))])
    ledger.checkpoint()
    other = sqlite3.connect(ledger_path)  # another client, without proctor
    with pytest.raises(sqlite3.DatabaseError, match="proctor ledger"):
        other.execute(statement)
    other.close()
    assert verify_ledger(ledger).ok


def test_a_retried_append_is_recorded_once(ledger):
    first = ledger.append("decision", {"outcome": "accept"}, id="run:decision:p1")
    again = ledger.append("decision", {"outcome": "reject"}, id="run:decision:p1")
    assert again == first and ledger.size == 1


def test_contents_are_stored_once_by_digest(ledger):
    code = "def f():\n    return 1\n"
    for n in range(3):
        ledger.extend([Event("proposal", {"n": n, "contents": {"code": content_digest(code)}}, "r", contents=(code,))])
    assert ledger.db.conn.execute("SELECT COUNT(*) FROM contents").fetchone()[0] == 1
    assert ledger.content(content_digest(code)) == code


def test_a_checkpoint_in_a_transaction_that_rolls_back_leaves_no_trace(ledger):
    """The writer's Merkle frontier is what it was before a failed append, so the next
    checkpoint's root covers only what was committed."""

    class BrokenKey:
        def public_key(self):
            raise OSError("the key store went away")

    fill(ledger, 3)
    ledger.signing_key = BrokenKey()  # type: ignore[assignment]
    with pytest.raises(OSError):
        fill(ledger, 4, run="lost")  # the fifth entry is due a checkpoint, whose signing fails
    ledger.signing_key = None
    assert ledger.size == 4  # appends before the failing one committed; the failing one did not
    fill(ledger, 7, run="kept")
    leaves = [leaf_hash(e.payload) for e in ledger.entries()]
    assert [c.root for c in ledger.checkpoints()] == [root(leaves[:5]).hex(), root(leaves[:10]).hex()]
    assert verify_ledger(ledger).ok


def test_entry_times_are_iso_8601_utc_with_microseconds(ledger):
    before = datetime.now(UTC)
    fill(ledger, 3)
    times = [entry.at for entry in ledger.entries()]
    assert all(len(at) == len("2026-01-01T00:00:00.000000+00:00") and at.endswith("+00:00") for at in times)
    assert before <= datetime.fromisoformat(times[0]) <= datetime.fromisoformat(times[-1]) <= datetime.now(UTC)


def test_checkpoints_are_made_every_n_entries_and_prove_inclusion(ledger):
    fill(ledger, 12)
    checkpoints = ledger.checkpoints()
    assert [c.size for c in checkpoints] == [5, 10]
    leaves = [leaf_hash(e.payload) for e in ledger.entries()]
    assert checkpoints[1].root == root(leaves[:10]).hex()
    proof = ledger.inclusion_proof(7, 10)
    assert verify_inclusion(leaves[6], 6, 10, proof, bytes.fromhex(checkpoints[1].root))


def test_a_signed_checkpoint_verifies_and_a_changed_one_does_not(ledger, tmp_path):
    from proctor.ledger import generate_key, load_key

    public = generate_key(tmp_path / "key.pem")
    ledger.signing_key = load_key(tmp_path / "key.pem")
    fill(ledger, 3)
    made = ledger.checkpoint()
    assert made.public_key == public and made.signature_problem(public) is None
    forged = made.model_copy(update={"size": 2})
    assert "bad signature" in forged.signature_problem()
    assert verify_ledger(ledger, trusted_key=public).signed_checkpoints == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", None),
        (b"hello, I am a text file\n" * 100, "not a readable proctor ledger"),
        (b"SQLite format 3\x00" + b"\x00" * 84 + b"garbage" * 100, "not a readable proctor ledger"),
    ],
)
def test_a_file_that_is_not_a_ledger_is_refused_with_a_clear_error(tmp_path, content, message):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    if message is None:  # an empty file is a new ledger for a writer, but nothing to read
        with pytest.raises(InputError, match="an empty file, not a proctor ledger"):
            Ledger(path, readonly=True)
        Ledger(path).close()
        assert Ledger(path, readonly=True).size == 0
        return
    with pytest.raises(InputError, match=message):
        Ledger(path, readonly=True)


@pytest.mark.parametrize("readonly", [True, False])
def test_a_directory_is_not_a_ledger(tmp_path, readonly):
    with pytest.raises(InputError, match="a directory, not a ledger file"):
        Ledger(tmp_path, readonly=readonly)


def test_a_writer_names_a_missing_directory(tmp_path):
    with pytest.raises(InputError, match=r"no such directory .*nope; create it"):
        Ledger(tmp_path / "nope" / "a.ledger")
    assert not (tmp_path / "nope").exists()


def test_another_sqlite_database_is_not_a_ledger(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    for readonly in (True, False):
        with pytest.raises(InputError, match="not a proctor ledger"):
            Ledger(path, readonly=readonly)


def test_a_newer_schema_is_refused(ledger_path):
    Ledger(ledger_path).close()
    conn = sqlite3.connect(ledger_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(InputError, match=r"newer proctor .*v99"):
        Ledger(ledger_path, readonly=True)


def test_a_missing_ledger_is_named(tmp_path):
    with pytest.raises(InputError, match="no such ledger"):
        Ledger(tmp_path / "nope.db", readonly=True)


def test_a_reader_sees_a_live_ledger_without_blocking_its_writer(ledger, ledger_path):
    fill(ledger, 3)
    with Ledger(ledger_path, readonly=True) as reader:
        assert reader.size == 3
        fill(ledger, 2, run="r2")
        assert reader.size == 5 and verify_ledger(reader).ok
        with pytest.raises(RuntimeError, match="read-only"):
            reader.append("x", {})


def test_every_public_ledger_name_loads_on_first_use():
    import proctor.ledger as package

    assert set(package.__all__) == set(package._MODULES)
    assert all(getattr(package, name) is not None for name in package.__all__)


_texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=8)  # any Unicode but lone surrogates


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(_texts, st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _texts, max_size=4),
    kind=_texts,
    run=st.none() | _texts,
    id_=_texts.filter(bool),
)
def test_every_payload_is_the_rfc8785_form_of_its_envelope(tmp_path_factory, data, kind, run, id_):
    import rfc8785

    with Ledger(tmp_path_factory.mktemp("l") / "l.ledger") as book:
        entry = book.append(kind, data, run=run, id=id_)
    safe = {k: str(v) if type(v) is int and abs(v) > 2**53 - 1 else v for k, v in data.items()}
    envelope = {"at": entry.at, "data": safe, "id": id_, "kind": kind, "run": run, "seq": 1, "v": 1}
    assert entry.payload == rfc8785.dumps(envelope)


@pytest.mark.parametrize(
    "event", [Event("verdict", {}, id=5), Event(7, {}), Event("verdict", {}, run=3), Event("verdict", {}, id="\ud800")]
)
def test_an_event_whose_id_kind_or_run_is_not_a_string_is_refused_by_name(ledger, event):
    with pytest.raises(ValueError, match="its id, kind and run must be strings"):
        ledger.extend([event])
    assert ledger.size == 0


def test_a_batch_mixing_recorded_repeated_and_new_ids_records_each_id_once(ledger):
    first = ledger.append("decision", {"n": 1}, id="a")
    batch = [Event("decision", {"n": 2}, id="a"), Event("decision", {"n": 3}, id="b"), Event("decision", {"n": 4}, id="b")]
    entries = ledger.extend(batch)
    assert entries[0] == first and entries[1] == entries[2] and entries[1].data == {"n": 3}
    assert ledger.size == 2 and [e.id for e in ledger.entries()] == ["a", "b"]
    assert verify_ledger(ledger).ok
