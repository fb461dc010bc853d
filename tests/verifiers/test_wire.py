"""The plain-data codec: lossless for plain data, and nothing else ever comes out of it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.verifiers import _wire

hashable = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=8,
)
plain = st.recursive(
    hashable,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.sets(hashable, max_size=4)
        | st.dictionaries(hashable, inner, max_size=4)
    ),
    max_leaves=20,
)


def _canonical(value):
    """The encoding with set members (and dict entries) in a fixed order: equal iff identical."""

    def order(encoded):
        if isinstance(encoded, list):
            return [order(x) for x in encoded]
        if isinstance(encoded, dict):
            ((tag, body),) = encoded.items()
            if tag in ("s", "z", "d"):
                return {tag: sorted((order(x) for x in body), key=json.dumps)}
            return {tag: order(body) if isinstance(body, list) else body}
        return encoded

    return json.dumps(order(_wire.encode(value)))


@given(plain)
def test_plain_data_round_trips_exactly_through_json(value):
    decoded = _wire.decode(json.loads(json.dumps(_wire.encode(value))))
    assert _canonical(decoded) == _canonical(value)


@pytest.mark.parametrize(
    "value",
    [object(), type("Sly", (int,), {})(3), type("L", (list,), {})(), lambda: 0, range(3), 1j, bytearray(b"x")],
    ids=["object", "int-subclass", "list-subclass", "function", "range", "complex", "bytearray"],
)
def test_encode_refuses_what_is_not_plain_data(value):
    with pytest.raises(_wire.NotPlainData):
        _wire.encode(value)


@pytest.mark.parametrize(
    "encoding",
    [1.5, {"x": 1}, {"f": "zz"}, {"t": 3}, {"d": [[1]]}, {"s": [[1]]}, {"b": "!!"}, {"a": 1, "b": 2}],
    ids=["raw-float", "unknown-tag", "bad-hex", "tuple-not-list", "bad-pair", "unhashable-set-item", "bad-base64", "two-keys"],
)
def test_decode_refuses_encodings_that_are_not_plain_data(encoding):
    with pytest.raises(_wire.NotPlainData):
        _wire.decode(encoding)


def test_decode_refuses_nesting_deeper_than_the_limit():
    deep: list = []
    for _ in range(_wire.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(_wire.NotPlainData):
        _wire.decode(deep)
