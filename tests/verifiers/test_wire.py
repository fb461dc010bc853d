"""The plain-data codec: lossless for plain data, and nothing else ever comes out of it."""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time

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


class _PretendsToBeAnInt:
    __class__ = int  # isinstance(x, int) is True; the type is not


@pytest.mark.parametrize(
    "value",
    [object(), lambda: 0, range(3), 1j, bytearray(b"x"), _PretendsToBeAnInt(), [1, object()]],
    ids=["object", "function", "range", "complex", "bytearray", "lying-__class__", "list-holding-an-object"],
)
def test_encode_refuses_what_is_not_plain_data(value):
    with pytest.raises(_wire.NotPlainData):
        _wire.encode(value)


def _poisoned(base, *names):
    """A subclass of ``base`` whose every named method raises: encoding must not call any of them."""

    def refuse(*args, **kwargs):
        raise AssertionError("the subclass's code ran")

    return type(f"Poisoned{base.__name__}", (base,), dict.fromkeys(names, refuse))


_METHODS = ("__eq__", "__hash__", "__iter__", "__len__", "__repr__", "__str__", "__int__", "__index__", "__float__", "__bytes__")


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (_poisoned(int, *_METHODS)(7), 7),
        (_poisoned(float, *_METHODS)(-0.5), -0.5),
        (_poisoned(str, *_METHODS)("ab"), "ab"),
        (_poisoned(bytes, *_METHODS)(b"ab"), b"ab"),
        (_poisoned(list, *_METHODS)([1, [2]]), [1, [2]]),
        (_poisoned(tuple, *_METHODS)((1, 2)), (1, 2)),
        (_poisoned(set, *_METHODS)({1, 2}), {1, 2}),
        (_poisoned(frozenset, *_METHODS)({3}), frozenset({3})),
        (_poisoned(dict, *_METHODS, "items", "keys", "values", "__getitem__")(a=1), {"a": 1}),
    ],
    ids=["int", "float", "str", "bytes", "list", "tuple", "set", "frozenset", "dict"],
)
def test_a_subclass_of_a_plain_type_crosses_as_its_plain_value_without_running_its_code(value, plain):
    decoded = _wire.decode(json.loads(json.dumps(_wire.encode(value))))
    assert type(decoded) is type(plain) and _canonical(decoded) == _canonical(plain)


def test_counters_named_tuples_and_int_enums_cross_as_what_they_are_underneath():
    import collections
    import enum

    point = collections.namedtuple("Point", "x y")(1, 2)
    level = enum.IntEnum("Level", "LOW HIGH").HIGH
    decoded = _wire.decode(_wire.encode([collections.Counter("aab"), point, level, collections.OrderedDict(z=1)]))
    assert decoded == [{"a": 2, "b": 1}, (1, 2), 2, {"z": 1}]
    assert [type(v) for v in decoded] == [dict, tuple, int, dict]


@pytest.mark.parametrize(
    "encoding",
    [1.5, {"x": 1}, {"f": "zz"}, {"f": "0x1p99999"}, {"t": 3}, {"d": [[1]]}, {"s": [[1]]}, {"b": "!!"}, {"a": 1, "b": 2}],
    ids=[
        "raw-float",
        "unknown-tag",
        "bad-hex",
        "float-overflow",
        "tuple-not-list",
        "bad-pair",
        "unhashable-set-item",
        "bad-base64",
        "two-keys",
    ],
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


def test_a_set_or_dict_whose_items_share_a_hash_is_refused_before_it_is_built():
    alike = [i * (2**61 - 1) for i in range(_wire.MAX_SAME_HASH + 1)]
    assert _wire.decode({"s": alike[:-1]}) == set(alike[:-1])  # up to the bound: built
    for encoded in ({"s": alike}, {"z": alike}, {"d": [[k, 0] for k in alike]}):
        with pytest.raises(_wire.NotPlainData, match="share a hash"):
            _wire.decode(encoded)
    assert len(_wire.decode({"s": list(range(100_000))})) == 100_000  # distinct honest values: no limit


def test_a_frame_must_arrive_whole_before_its_deadline():

    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(struct.pack(">I", 100) + b"{")  # and the rest never comes
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            _wire.receive(ours, deadline=started + 0.3)
        assert time.monotonic() - started < 1.0


def test_descriptors_sent_with_a_frame_are_closed_and_refused():

    ours, theirs = socket.socketpair()
    read_end, write_end = os.pipe()
    before = set(os.listdir("/proc/self/fd"))
    with ours, theirs:
        body = b'{"value":1}'
        theirs.sendmsg([struct.pack(">I", len(body)) + body], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", read_end))])
        with pytest.raises(ValueError, match="file descriptors"):
            _wire.receive(ours)
        assert set(os.listdir("/proc/self/fd")) == before  # the received copy was closed
    os.close(read_end)
    os.close(write_end)


def test_a_frame_of_too_many_values_is_refused_before_it_is_parsed():

    body = b'{"value":[' + b",".join([b"[]"] * _wire.MAX_ITEMS) + b"]}"
    ours, theirs = socket.socketpair()
    with ours, theirs:
        sender = threading.Thread(target=theirs.sendall, args=(struct.pack(">I", len(body)) + body,))
        sender.start()
        with pytest.raises(ValueError, match="values"):
            _wire.receive(ours)
        sender.join()
