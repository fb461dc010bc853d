"""The plain-data codec and framing spoken across the channel between a driver and a candidate.

Standard library only: this file is also copied into the sandbox, where the candidate's stub
imports it. The two sides do not trust each other equally: the driver decodes with
``decode``, which builds nothing but plain data (None, bool, int, float, str, bytes, list,
tuple, dict, set, frozenset) and refuses anything else, so whatever bytes a candidate sends,
the test code only ever sees values an honest function could have returned.

Encoding: JSON in which lists are arrays, strings are strings, ints and bools are themselves,
and every other type is a one-key object: ``{"f": float.hex()}`` (exact, NaN and infinities
included), ``{"t": [...]}`` tuple, ``{"s": [...]}`` set, ``{"z": [...]}`` frozenset,
``{"b": base64}`` bytes, ``{"d": [[k, v], ...]}`` dict (keys of any hashable plain type).

The receiving side does bounded work whatever the sender wrote (it may be a candidate that read
this file): a frame is at most ``MAX_FRAME`` bytes and ``MAX_ITEMS`` JSON values (counted on the
bytes, before anything is built), nested at most ``MAX_DEPTH`` deep; the whole frame must arrive
before a deadline, not merely each chunk within a timeout; file descriptors or credentials sent
along are closed and refused; and a set or dict whose items share hashes beyond what distinct
honest values do (``MAX_SAME_HASH``) is refused before it is built, as ints like ``i * (2**61 - 1)``
all hash alike and would make building it quadratic.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from typing import Any

MAX_FRAME = 16 * 1024 * 1024
MAX_ITEMS = 1_000_000  # JSON values in one frame: a bound on what decoding it builds
MAX_DEPTH = 200
MAX_SAME_HASH = 8  # items of one set or dict sharing one hash (distinct honest values: almost never 2)
_ANCILLARY_SPACE = socket.CMSG_SPACE(253 * 4)  # room for the most descriptors one message can carry


class NotPlainData(TypeError):
    """A value (or a received encoding) is not plain data; the message names the type found."""


def encode(value: Any, depth: int = 0) -> Any:
    """Turn plain data into its JSON-ready form.

    A subclass of a plain type is encoded as the plain value it holds (a ``Counter`` as its dict,
    an ``IntEnum`` member as its int), read with the plain type's own code, so nothing the
    subclass defines (``__eq__``, ``__iter__``, ``__int__`` …) runs or survives the crossing.
    """
    if depth > MAX_DEPTH:
        raise NotPlainData(f"nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return {"f": value.hex()}
    if kind is list:
        return [encode(item, depth + 1) for item in value]
    if kind is tuple:
        return {"t": [encode(item, depth + 1) for item in value]}
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "z": [encode(item, depth + 1) for item in value]}
    if kind is bytes:
        return {"b": base64.b64encode(value).decode()}
    if kind is dict:
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    return _encode_subclass(value, depth)


def _encode_subclass(value: Any, depth: int) -> Any:
    """A subclass of a plain type, encoded as the plain value it holds, read by the base type's own
    methods (``issubclass(type(...))``, not ``isinstance``: a ``__class__`` property can lie to the latter)."""
    kind = type(value)
    for base, exact in _EXACT_SCALAR:
        if issubclass(kind, base):
            return encode(exact(value), depth)  # CPython's base slots copy the value without calling the subclass
    if issubclass(kind, list | tuple):
        items = [encode(item, depth + 1) for item in (list.__iter__ if issubclass(kind, list) else tuple.__iter__)(value)]
        return items if issubclass(kind, list) else {"t": items}
    if issubclass(kind, set | frozenset):
        tag, iterate = ("s", set.__iter__) if issubclass(kind, set) else ("z", frozenset.__iter__)
        return {tag: [encode(item, depth + 1) for item in iterate(value)]}
    if issubclass(kind, dict):
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(value)]}
    raise NotPlainData(f"{kind.__module__}.{kind.__qualname__}")


_EXACT_SCALAR: tuple[tuple[type, Any], ...] = (
    (int, int.__int__),
    (float, float.__float__),
    (str, str.__str__),
    (bytes, bytes.__bytes__),
)


def decode(data: Any, depth: int = 0) -> Any:
    """Build plain data from its encoding, refusing anything else (NotPlainData)."""
    if depth > MAX_DEPTH:
        raise NotPlainData(f"nested deeper than {MAX_DEPTH}")
    kind = type(data)
    if data is None or kind in (bool, int, str):
        return data
    if kind is list:
        return [decode(item, depth + 1) for item in data]
    if kind is dict and len(data) == 1:
        ((tag, body),) = data.items()
        return _decode_tagged(tag, body, depth)
    raise NotPlainData(f"an encoding that is not plain data: {str(data)[:80]}")


def _decode_tagged(tag: str, body: Any, depth: int) -> Any:
    try:
        if tag == "f" and type(body) is str:
            return float.fromhex(body)
        if tag == "b" and type(body) is str:
            return base64.b64decode(body, validate=True)
        if type(body) is list:
            items = [decode(item, depth + 1) for item in body] if tag != "d" else None
            if tag == "t":
                return tuple(items or ())
            if tag == "s":
                return set(_unsteered(items or []))
            if tag == "z":
                return frozenset(_unsteered(items or []))
            if tag == "d":
                pairs = [(decode(k, depth + 1), decode(v, depth + 1)) for k, v in (_pair(p) for p in body)]
                _unsteered([k for k, _ in pairs])
                return dict(pairs)
    except (ValueError, TypeError, OverflowError) as exc:  # unhashable keys, malformed base64 or hex, a float past its range
        raise NotPlainData(f"a malformed {tag!r} encoding: {exc}") from None
    raise NotPlainData(f"an unknown encoding tag {tag!r}")


def _unsteered(keys: list[Any]) -> list[Any]:
    """``keys``, once no more than ``MAX_SAME_HASH`` of them share a hash (TypeError if one is unhashable).

    Counting by hash value costs one dict insertion per key whatever the keys are: distinct hash
    values are distinct ints, which never collide in full.
    """
    counts: dict[int, int] = {}
    for key in keys:
        code = hash(key)
        counts[code] = seen = counts.get(code, 0) + 1
        if seen > MAX_SAME_HASH:
            raise NotPlainData(f"more than {MAX_SAME_HASH} items of one set or dict share a hash (building it would be quadratic)")
    return keys


def _pair(item: Any) -> tuple[Any, Any]:
    if type(item) is not list or len(item) != 2:
        raise NotPlainData("a dict entry that is not a [key, value] pair")
    return item[0], item[1]


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    """Send one frame: a 4-byte big-endian length, then JSON."""
    body = json.dumps(message, separators=(",", ":")).encode()
    sock.sendall(struct.pack(">I", len(body)) + body)


def receive(sock: socket.socket, deadline: float | None = None) -> dict[str, Any] | None:
    """Receive one frame (None at end of stream), all of it by ``deadline`` (``time.monotonic()``;
    TimeoutError after it). ValueError on a frame over the limits or that is not a JSON object."""
    return receive_sized(sock, deadline)[0]


def receive_sized(sock: socket.socket, deadline: float | None = None) -> tuple[dict[str, Any] | None, int]:
    """``receive``, and the frame's size in bytes (for a budget over many frames)."""
    header = _exactly(sock, 4, deadline)
    if header is None:
        return None, 0
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes (limit {MAX_FRAME})")
    body = _exactly(sock, size, deadline)
    if body is None:
        return None, size
    items = body.count(b",") + body.count(b"[") + body.count(b"{")  # at least the values less one
    if items >= MAX_ITEMS:
        raise ValueError(f"a frame of about {items} values (limit {MAX_ITEMS})")
    message = json.loads(body)
    if type(message) is not dict:
        raise ValueError("a frame that is not a JSON object")
    return message, size


def _exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes | None:
    chunks, left = [], size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the frame did not arrive in time")
            sock.settimeout(remaining)
        chunk, ancillary, flags, _ = sock.recvmsg(min(left, 1 << 20), _ANCILLARY_SPACE)
        if ancillary or flags & socket.MSG_CTRUNC:
            _close_received(ancillary)
            raise ValueError("file descriptors or credentials came with the frame: the channel carries data only")
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _close_received(ancillary: list[tuple[int, int, bytes]]) -> None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in struct.unpack(f"{len(data) // 4}i", data[: len(data) - len(data) % 4]):
                os.close(fd)
