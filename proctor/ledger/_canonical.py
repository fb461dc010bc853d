"""Canonical JSON (RFC 8785, JCS): the exact bytes every ledger hash is computed over.

``canonical(value)`` is byte-for-byte what the ``rfc8785`` library produces, with two rules
made explicit: integers outside JavaScript's safe range (±(2**53 - 1)) are recorded as decimal
strings, as RFC 8785 §6 advises, and NaN or infinity is refused (``ValueError``). Most payloads
hold no float that Python and ECMAScript format differently, and no key outside the Basic
Multilingual Plane (where UTF-16 and code-point order differ); those go through the C ``json``
encoder, which then produces the same bytes. Everything else goes through ``rfc8785``. A
Hypothesis test holds the two paths to the same output.

``parse(data)`` is the inverse for an auditor: it returns the value, or raises ``ValueError``
naming why the bytes are not canonical JSON (duplicate keys, NaN, non-canonical spacing, order
or number format), so two parsers can never read different contents from one hashed payload.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import rfc8785

SAFE_INTEGER = 2**53 - 1

# Python's repr and ECMAScript's Number.prototype.toString agree on non-integral floats in
# this range: both print the shortest round-tripping digits in plain decimal notation.
_SAME_FLOAT_RANGE = (1e-4, 1e16)
_NON_BMP = re.compile(rb"[\xf0-\xf4]")  # the lead byte of a four-byte UTF-8 sequence


class _Slow(Exception):
    """The value needs the full RFC 8785 encoder."""


def canonical(value: Any) -> bytes:
    """Encode ``value`` (JSON data: dict, list, str, int, float, bool, None) as RFC 8785 bytes."""
    try:
        fast = _fast_form(value)
    except _Slow:
        return _rfc8785(_safe_integers(value))
    text = _dumps(fast)
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise ValueError("cannot record a string holding a lone surrogate (not valid Unicode)") from None


def parse(data: bytes) -> Any:
    """Decode canonical JSON; ``ValueError`` saying what is wrong when ``data`` is not canonical."""
    try:
        value = _FAST_DECODER.decode(data.decode())
    except _Slow:
        value = _decode(_SLOW_DECODER, data)
        if _rfc8785_or_none(value) == data:
            return value
        raise ValueError(_why_not_canonical(data)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not _NON_BMP.search(data) and _dumps(value).encode() == data:
        return value
    if _rfc8785_or_none(value) == data:
        return value
    raise ValueError(_why_not_canonical(data))


def _decode(decoder: json.JSONDecoder, data: bytes) -> Any:
    try:
        return decoder.decode(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"))


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
    raise _Slow


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


def _fast_float_token(token: str) -> float:
    """A float token the C encoder would print identically, else _Slow."""
    number = float(token)
    if _SAME_FLOAT_RANGE[0] <= abs(number) < _SAME_FLOAT_RANGE[1] and not number.is_integer() and repr(number) == token:
        return number
    raise _Slow


def _fast_int_token(token: str) -> int:
    if len(token) <= 15:
        return int(token)
    raise _Slow  # only an integral float >= 2**53 is written this long


def _long_int_token(token: str) -> int | float:
    return int(token) if len(token) <= 15 else float(token)


def _no_constant(token: str) -> Any:
    raise ValueError(f"not canonical JSON: holds {token}")


_FAST_DECODER = json.JSONDecoder(parse_float=_fast_float_token, parse_int=_fast_int_token, parse_constant=_no_constant)
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
