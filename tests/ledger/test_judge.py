"""``judge_entry``'s short path answers exactly as ``check_entry``: the same payload, the same
problems, for good entries and for every kind of damage to a row."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.ledger import _chain
from proctor.ledger._canonical import canonical
from proctor.ledger._chain import GENESIS, IntegrityReport, chain_hash, check_entry, judge_entry
from tests.ledger.test_canonical_and_merkle import json_values

PREV = "ab" * 32
AT = "2026-11-23T10:00:00.000001+00:00"
# One damage per row, each standing for one check of the short path (or a payload it must not
# read as canonical); rehashed where noted, so only that check can catch it.
DAMAGES = [
    "none",
    "seq column",  # the row's seq differs from its position and its payload
    "renumbered",  # row and payload agree on a seq that is not its position (rehashed)
    "prev",  # another prev, and the hash over it
    "prev not hex",
    "hash",
    "payload edited",  # not rehashed
    "id column",
    "kind column",
    "run column",
    "at column",
    "run missing",  # the payload has no run where the column is NULL (rehashed)
    "version",  # v is not 1 (rehashed)
    "spaced",  # JSON, not canonical (rehashed)
    "integral float",
    "exponent",
    "duplicate key",
    "not an object",
    "not UTF-8",
]
OTHER_BYTES = {
    "integral float": b'{"a":2.0}',
    "exponent": b'{"a":1e+16}',
    "duplicate key": b'{"a":1,"a":2}',
    "not an object": b"[1]",
    "not UTF-8": b'{"a":"\xff"}',
}


@st.composite
def rows(draw):
    """An entry's row as ``ENTRY_QUERY`` reads it, at position 2 after an entry hashed ``PREV``,
    with one damage."""
    damage = draw(st.sampled_from(DAMAGES))
    value = {"at": AT, "data": draw(json_values), "id": "e1", "kind": "verdict", "run": "r", "seq": 2, "v": 1}
    row = {"seq": 2, "id": "e1", "kind": "verdict", "run": "r", "at": AT, "prev": PREV}
    if damage == "renumbered":
        row["seq"] = value["seq"] = 3
    elif damage == "run missing":
        row["run"] = None
        del value["run"]
    elif damage == "version":
        value["v"] = draw(st.sampled_from([2, 1.5, "1"]))
    elif damage.endswith("column"):
        row[damage.split()[0]] = draw(st.sampled_from([None, 3, "e2", "2"]))
    payload = json.dumps(value).encode() if damage == "spaced" else OTHER_BYTES.get(damage) or canonical(value)
    if damage == "prev":
        row["prev"] = GENESIS
    digest = chain_hash(row["prev"], payload)
    if damage == "prev not hex":
        row["prev"] = "not hex"
    elif damage == "hash":
        digest = "0" * 64
    elif damage == "payload edited":
        payload = payload.replace(b'"e1"', b'"e2"')
    return (row["seq"], row["id"], row["kind"], row["run"], row["at"], row["prev"], digest, payload)


@settings(max_examples=600, deadline=None)
@given(rows())
def test_the_short_path_answers_as_check_entry(row):
    judged, checked = IntegrityReport(), IntegrityReport()
    assert judge_entry(judged, 2, row, PREV) == check_entry(checked, 2, row, PREV)
    assert judged.problems == checked.problems


def test_a_good_entry_takes_the_short_path(monkeypatch):
    value = {"at": AT, "data": {"x": 0.25}, "id": "e1", "kind": "verdict", "run": "r", "seq": 2, "v": 1}
    payload = canonical(value)
    row = (2, "e1", "verdict", "r", AT, PREV, chain_hash(PREV, payload), payload)
    monkeypatch.setattr(_chain, "check_entry", lambda *a: pytest.fail("a good entry went the long way"))
    report = IntegrityReport()
    assert judge_entry(report, 2, row, PREV) == value and report.ok
