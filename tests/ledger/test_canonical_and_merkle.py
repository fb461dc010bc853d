"""Canonical JSON matches RFC 8785 exactly; the Merkle tree matches RFC 6962's published vectors."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import uuid
from datetime import UTC, datetime

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.ledger import (
    EMPTY_ROOT,
    canonical,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    parse,
    root,
    verify_consistency,
    verify_inclusion,
)
from proctor.ledger._canonical import SAFE_INTEGER
from proctor.ledger._merkle import Frontier, _subtree

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-SAFE_INTEGER, SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_canonical_is_byte_for_byte_rfc8785(value):
    assert canonical(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parse_accepts_canonical_bytes_and_round_trips(value):
    data = canonical(value)
    assert canonical(parse(data)) == data


# Values beyond what proctor writes: any integer, integral and extreme floats, keys outside the BMP.
wild_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def _encodings(value):
    """Byte forms a forger or another JSON library might write for ``value``."""
    yield json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    try:
        yield orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        pass  # an integer past 64 bits


@settings(max_examples=600, deadline=None)
@given(wild_values)
def test_parse_accepts_only_rfc8785_bytes(value):
    for data in _encodings(value):
        try:
            parsed = parse(data)
        except ValueError:
            continue
        assert rfc8785.dumps(parsed) == data


@pytest.mark.parametrize("text", ["[2.0]", '{"a":1e+16}', "[9007199254740993]", '{"\ue000":1,"\U0001f600":2}', "-0.0"])
def test_parse_refuses_what_orjson_round_trips_but_rfc8785_writes_otherwise(text):
    assert orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS) == text.encode()
    with pytest.raises(ValueError, match="not canonical"):
        parse(text.encode())


@pytest.mark.parametrize("value", [2.0, -0.0, 1e-7, 1e-5, 1e16, 1e21, 5e-324, 0.1 + 0.2, {"\U0001f600": 1, "\ue000": 2}])
def test_canonical_takes_rfc8785s_path_where_python_formats_differently(value):
    assert canonical(value) == rfc8785.dumps(value)
    assert parse(canonical(value)) == json.loads(canonical(value))


def test_integers_outside_the_safe_range_are_recorded_as_decimal_strings():
    assert canonical({"n": 2**64}) == b'{"n":"18446744073709551616"}'
    assert canonical([SAFE_INTEGER]) == b"[9007199254740991]"


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("beside", [{}, {"none": None}, {"big": 2**60}])
def test_uuids_and_enums_are_recorded_alike_whichever_path_writes_them(beside):
    key = uuid.UUID(int=7)
    value = {"id": key, "colour": Colour.RED, **beside}
    expected = {"id": str(key), "colour": "red", **{k: str(v) if v == 2**60 else v for k, v in beside.items()}}
    assert canonical(value) == rfc8785.dumps(expected)


@pytest.mark.parametrize("value", [datetime.now(UTC), {1, 2}, b"bytes", Point(1), {"nested": [datetime.now(UTC)]}])
def test_values_beyond_json_data_are_refused_by_name(value):
    with pytest.raises(ValueError, match="cannot record a"):
        canonical(value)


@pytest.mark.parametrize("value", [float("nan"), {"x": float("inf")}, [float("-inf")], {"a": None, "b": [float("nan")]}])
def test_canonical_refuses_nan_and_infinity(value):
    with pytest.raises(ValueError, match="NaN or infinity"):
        canonical(value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"a":1,"a":2}', "duplicate key 'a'"),
        (b'{"b":1,"a":2}', "not canonical"),
        (b'{"a": 1}', "not canonical"),
        (b'{"a":1.0}', "not canonical"),
        (b'{"a":1e-05}', "not canonical"),
        (b'{"a":NaN}', "NaN"),
        (b'{"a":"\\u0041"}', "not canonical"),
        (b"{", "not JSON"),
        (b'"\xff"', "not JSON"),
    ],
)
def test_parse_names_why_bytes_are_not_canonical(data, reason):
    with pytest.raises(ValueError, match=reason):
        parse(data)


# RFC 6962 test data and the roots, inclusion and consistency proofs published with it
# (certificate-transparency's reference tests).
LEAVES = [
    bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
HASHES = [leaf_hash(d) for d in LEAVES]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


@pytest.mark.parametrize("n", range(9))
def test_roots_match_the_rfc6962_vectors(n):
    assert root(HASHES[:n]).hex() == ROOTS[n]


def test_leaves_and_nodes_are_domain_separated():
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_vectors_and_verify(index, size, expected):
    proof = inclusion_proof(HASHES, index, size)
    assert [p.hex() for p in proof] == expected
    assert verify_inclusion(HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_every_corrupted_inclusion_proof_is_rejected(index, size, expected):
    proof = inclusion_proof(HASHES, index, size)
    good_root = bytes.fromhex(ROOTS[size])
    for position in range(len(proof)):
        for byte in (0, 17, 31):
            bad = [bytearray(p) for p in proof]
            bad[position][byte] ^= 1
            assert not verify_inclusion(HASHES[index], index, size, [bytes(p) for p in bad], good_root)
    assert not verify_inclusion(leaf_hash(b"forged"), index, size, proof, good_root)
    assert not verify_inclusion(HASHES[index], index, size, [*proof, EMPTY_ROOT], good_root)
    assert not verify_inclusion(HASHES[index], size, size, proof, good_root)
    if proof:
        assert not verify_inclusion(HASHES[index], index, size, proof[:-1], good_root)
    assert not verify_inclusion(HASHES[index], index, size, [b"short"], good_root)


@pytest.mark.parametrize(("first", "size", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors_and_verify(first, size, expected):
    proof = consistency_proof(HASHES, first, size)
    assert [p.hex() for p in proof] == expected
    assert verify_consistency(first, bytes.fromhex(ROOTS[first]), size, bytes.fromhex(ROOTS[size]), proof)


@pytest.mark.parametrize(("first", "size", "expected"), CONSISTENCY)
def test_every_corrupted_consistency_proof_is_rejected(first, size, expected):
    proof = consistency_proof(HASHES, first, size)
    old, new = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[size])
    for position in range(len(proof)):
        bad = [bytearray(p) for p in proof]
        bad[position][5] ^= 1
        assert not verify_consistency(first, old, size, new, [bytes(p) for p in bad])
    if first != size:
        assert not verify_consistency(first, new, size, new, proof)
        assert not verify_consistency(first, old, size, old, proof)
        assert not verify_consistency(first, old, size, new, proof[:-1])
        assert not verify_consistency(first, old, size, new, [])
    assert not verify_consistency(size, new, first, old, proof) or first == size


def test_every_proof_up_to_33_leaves_verifies():
    hashes = [leaf_hash(str(i).encode()) for i in range(33)]
    for size in range(1, 34):
        top = root(hashes[:size])
        for index in range(size):
            assert verify_inclusion(hashes[index], index, size, inclusion_proof(hashes, index, size), top)
        for first in range(1, size + 1):
            assert verify_consistency(first, root(hashes[:first]), size, top, consistency_proof(hashes, first, size))


def test_the_frontier_gives_every_prefix_root():
    frontier = Frontier()
    for n, leaf in enumerate(HASHES, 1):
        frontier.append(leaf)
        assert frontier.root().hex() == ROOTS[n]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 70), max_size=6))
def test_extending_the_frontier_in_any_chunks_gives_the_rfc6962_root(chunks):
    leaves = [leaf_hash(str(i).encode()) for i in range(sum(chunks))]
    frontier, done = Frontier(), 0
    for chunk in chunks:
        frontier.extend(leaves[done : done + chunk])
        done += chunk
        assert frontier.size == done
        assert frontier.root() == (_subtree(leaves, 0, done) if done else EMPTY_ROOT)
