"""Canonical JSON (RFC 8785, JCS): the exact bytes every ledger hash is computed over.

``canonical(value)`` is byte-for-byte what the ``rfc8785`` library produces, with two rules
made explicit: integers outside JavaScript's safe range (±(2**53 - 1)) are recorded as decimal
strings, as RFC 8785 §6 advises, and NaN or infinity is refused (``ValueError``). A UUID is
recorded as its string and an enum member as its value. Most values are written by ``orjson``
in one call: its sorted, compact output is RFC 8785's except for a few forms it is checked for
(an exponent or an integral float, where ECMAScript writes 10000000000000000 and 2; a key
outside the Basic Multilingual Plane, where UTF-16 and code-point order differ; a ``null``
that may have been a NaN). Its plain-decimal floats are the shortest round-tripping digits, as
ECMAScript's, and it escapes exactly what RFC 8785 escapes. The rest go through ``rfc8785``.
Hypothesis tests hold the paths to the same output.

``parse(data)`` is the inverse for an auditor: it returns the value, or raises ``ValueError``
naming why the bytes are not canonical JSON (duplicate keys, NaN, non-canonical spacing, order
or number format), so two parsers can never read different contents from one hashed payload.
Its fast path accepts bytes that ``orjson`` reads and writes back unchanged (integers past
2**53 refused) and that hold none of those forms; anything else is judged by the exact path.
Auditing a ledger is mostly this check, so its speed is the audit's.
"""

from __future__ import annotations

import enum
import json
import math
import re
import uuid
from typing import Any

import orjson
import rfc8785

SAFE_INTEGER = 2**53 - 1

# orjson and ECMAScript's Number.prototype.toString agree on non-integral floats in this range:
# both print the shortest round-tripping digits in plain decimal notation.
_SAME_FLOAT_RANGE = (1e-4, 1e16)
_NON_BMP = re.compile(rb"[\xf0-\xf4]")  # the lead byte of a four-byte UTF-8 sequence
_EXACT = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER  # integers past 2**53 - 1 raise
# What orjson would otherwise convert on its own goes to ``default``, which refuses it.
_AS_IS = _EXACT | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
# In orjson's output an exponent always has a sign and an integral float always ends in ".0";
# those are the float forms where ECMAScript may write otherwise (1e+16, 2.0). In a string
# they only cost that payload the exact path. (Two searches: one alternation is 4x slower.)
_EXPONENT = re.compile(rb"e[-+]")
_INTEGRAL_FLOAT = re.compile(rb"\.0(?:[,\]}]|$)")


class _Slow(Exception):
    """The value needs the full RFC 8785 encoder."""


def canonical(value: Any) -> bytes:
    """Encode ``value`` (JSON data: dict, list, str, int, float, bool, None) as RFC 8785 bytes.

    orjson writes it in one call when it can write it exactly; a ``null`` in its output may
    have been a NaN (orjson writes those as null), so such values take the careful path, as do
    types beyond JSON data, integers past 2**53 and the float forms where formats differ.
    """
    try:
        data = orjson.dumps(value, option=_AS_IS, default=_beyond_json)
    except TypeError:
        pass  # the careful path names what cannot be recorded, or records big integers as strings
    else:
        if b"null" not in data and _same_as_rfc8785(data):
            return data
    try:
        fast = _fast_form(value)
    except _Slow:
        return _rfc8785(_safe_integers(value))
    try:
        return orjson.dumps(fast, option=_EXACT)
    except TypeError:  # the only str orjson cannot encode is one with a lone surrogate
        raise ValueError("cannot record a string holding a lone surrogate (not valid Unicode)") from None


def _beyond_json(value: Any) -> Any:
    raise TypeError  # a datetime, a dataclass, a subclass of str, int, dict or list: orjson would convert it


NOT_FAST = object()  # parse_fast's answer when only the exact path can judge the bytes


def parse(data: bytes) -> Any:
    """Decode canonical JSON; ``ValueError`` saying what is wrong when ``data`` is not canonical."""
    value = parse_fast(data)
    return value if value is not NOT_FAST else parse_exact(data)


def parse_fast(data: bytes) -> Any:
    """``orjson.loads(data)`` when orjson writes that value back as exactly ``data`` and RFC 8785
    would too (so the bytes are canonical); else ``NOT_FAST``. Most payloads are judged here."""
    try:
        value = orjson.loads(data)
        if orjson.dumps(value, option=_EXACT) == data and _same_as_rfc8785(data):
            return value
    except (orjson.JSONDecodeError, TypeError):
        pass  # NaN, an integer past 2**53, ...: the exact path judges it and names what is wrong
    return NOT_FAST


def parse_exact(data: bytes) -> Any:
    """``parse`` without the fast path: for bytes ``parse_fast`` could not judge."""
    value = _decode(_SLOW_DECODER, data)
    if _rfc8785_or_none(value) == data:
        return value
    raise ValueError(_why_not_canonical(data))


def _same_as_rfc8785(written: bytes) -> bool:
    """Whether orjson's output holds none of the forms where RFC 8785 writes otherwise: an
    exponent or integral float (ECMAScript: 10000000000000000 for 1e+16, 2 for 2.0), a key
    outside the BMP (UTF-16 orders those differently from code points)."""
    if _EXPONENT.search(written) or _INTEGRAL_FLOAT.search(written):
        return False
    return written.isascii() or not _NON_BMP.search(written)


def _decode(decoder: json.JSONDecoder, data: bytes) -> Any:
    try:
        return decoder.decode(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None


def _fast_form(value: Any) -> Any:
    """``value`` with integral floats made ints; raises _Slow when only rfc8785 encodes it right."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -SAFE_INTEGER <= value <= SAFE_INTEGER:
            return value
        raise _Slow
    if kind is float:
        return _fast_float(value)
    if kind is dict:
        return {_fast_key(k): _fast_form(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_fast_form(v) for v in value]
    if isinstance(value, uuid.UUID | enum.Enum):
        return _fast_form(_as_orjson_writes(value))
    raise _Slow


def _as_orjson_writes(value: uuid.UUID | enum.Enum) -> Any:
    """UUIDs and enums are recorded as orjson records them (it has no option to refuse them)."""
    return str(value) if isinstance(value, uuid.UUID) else value.value


def _fast_float(value: float) -> float | int:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be recorded: canonical JSON has no NaN or infinity")
    if value.is_integer():
        if abs(value) <= SAFE_INTEGER:
            return int(value)  # ECMAScript prints 2.0 as 2 and -0.0 as 0
        raise _Slow
    if _SAME_FLOAT_RANGE[0] <= abs(value) < _SAME_FLOAT_RANGE[1]:
        return value
    raise _Slow


def _fast_key(key: Any) -> str:
    if type(key) is not str or not (key.isascii() or max(key, default="") <= "\uffff"):
        raise _Slow
    return key


def _safe_integers(value: Any) -> Any:
    """``value`` with integers outside the safe range as decimal strings; keys must be strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if -SAFE_INTEGER <= value <= SAFE_INTEGER else str(value)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError(f"cannot record a mapping with non-string keys: {sorted(map(repr, value))[:3]}")
        return {k: _safe_integers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe_integers(v) for v in value]
    if isinstance(value, uuid.UUID | enum.Enum):
        return _safe_integers(_as_orjson_writes(value))
    raise ValueError(f"cannot record a {type(value).__name__} in canonical JSON (only JSON data)")


def _rfc8785(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except rfc8785.FloatDomainError:
        raise ValueError("canonical JSON has no NaN or infinity") from None
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"cannot record it as canonical JSON: {exc}") from None


def _rfc8785_or_none(value: Any) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return None


def _long_int_token(token: str) -> int | float:
    return int(token) if len(token) <= 15 else float(token)


def _no_constant(token: str) -> Any:
    raise ValueError(f"not canonical JSON: holds {token}")


_SLOW_DECODER = json.JSONDecoder(parse_int=_long_int_token, parse_constant=_no_constant)


def _why_not_canonical(data: bytes) -> str:
    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        duplicated = {k for k in keys if keys.count(k) > 1}
        if duplicated:
            raise ValueError(f"not canonical JSON: duplicate key {sorted(duplicated)[0]!r}")
        return dict(pairs)

    json.loads(data, object_pairs_hook=refuse_duplicates)
    return "not canonical JSON (RFC 8785): spacing, key order, escaping or number format differs"
