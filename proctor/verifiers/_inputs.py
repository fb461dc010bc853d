"""Inputs beyond a task's tests, inside what its tests imply: the ``properties`` verifier's strategies.

The tests' own inputs are the seeds. Two families of inputs grow from them, as EvalPlus grows
HumanEval+ from HumanEval:

- *mutants* of a seed (type-aware: an int moved by one, doubled, halved, negated where the tests
  have negatives, or swapped for an edge value; a string or list with an item inserted, deleted,
  replaced, duplicated or swapped, reversed, sorted, or spliced with another seed);
- *fresh* values of the same shapes: each argument position drawn by the types the tests pass
  there, over wider ranges than the tests' own, with the classic edge values (0, 1, 2, primes,
  squares and their neighbours, powers of two), and lists drawn whole from one regime (all
  negative, all positive, few distinct values, sorted) so that shapes like "every item negative"
  are reached.

What the tests never pass at an argument position is taken as outside the spec there (``Shape``):
negative numbers unless the tests pass some, zero unless they pass zero or less, empty strings
and collections unless they pass an empty one. Everything else the spec rules out is the task's
``domain`` to state, and an input on which the reference raises or times out is skipped.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Strategy = Any  # hypothesis.strategies.SearchStrategy, imported lazily with hypothesis itself

MAX_INT_RANGE = 10**6  # fresh ints stay within this of the tests' own (a reference may loop up to its input)


def beyond(seen: Sequence[tuple[Any, ...]]) -> Strategy:
    """Argument tuples grown from ``seen`` (the tests' inputs, all of one arity): mutants and fresh values."""
    from hypothesis import strategies as st

    arity = len(seen[0])
    positions = [like([args[i] for args in seen]) for i in range(arity)]
    shapes = [Shape.of([args[i] for args in seen]) for i in range(arity)]
    mutants = _mutants(list(seen), positions).filter(lambda args: all(map(Shape.admits, shapes, args)))
    return st.one_of(mutants, st.tuples(*positions))


@dataclass(frozen=True)
class Shape:
    """What the tests' values at one position imply about the spec there: signs, zero, emptiness."""

    negatives: bool
    zero: bool
    empty: bool

    @classmethod
    def of(cls, values: Sequence[Any]) -> Shape:
        numbers = [v for v in values if type(v) in (int, float)]
        sized = [v for v in values if type(v) in (str, bytes, list, tuple, set, frozenset, dict)]
        return cls(
            negatives=any(n < 0 for n in numbers),
            zero=any(n <= 0 for n in numbers) or not numbers,
            empty=any(len(v) == 0 for v in sized) or not sized,
        )

    def admits(self, value: Any) -> bool:
        if type(value) in (int, float):
            return value > 0 or (value == 0 and self.zero) or (value < 0 and self.negatives)
        if type(value) in (str, bytes, list, tuple, set, frozenset, dict):
            return len(value) > 0 or self.empty
        return True


def like(values: Sequence[Any]) -> Strategy:
    """Values shaped like ``values``: for each type among them, that type over a wider range."""
    from hypothesis import strategies as st

    by_type: dict[type, list[Any]] = {}
    for value in values:
        by_type.setdefault(type(value), []).append(value)
    return st.one_of(*(_like_type(kind, members) for kind, members in by_type.items()))


def _like_type(kind: type, values: list[Any]) -> Strategy:
    from hypothesis import strategies as st

    if kind is bool:
        return st.booleans()
    if kind is int:
        return integers_like(values)
    if kind is float:
        return floats_like(values)
    if kind is str:
        return text_like(values)
    if kind in (list, tuple, set, frozenset):
        return collections_like(kind, values)
    if kind is dict:
        return dicts_like(values)
    if kind is bytes:
        return st.binary(max_size=max(len(v) for v in values) + 2)
    return st.sampled_from(values)


def integers_like(values: list[int]) -> Strategy:
    """Edge values and a range wider than the tests' (twice as far), negatives only where the tests have some."""
    from hypothesis import strategies as st

    low, high = _int_bounds(values)
    edges = sorted(
        {e for e in (*_EDGE_INTS, *values) if low <= e <= high} | {v + d for v in values for d in (-1, 1) if low <= v + d <= high}
    )
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def _int_bounds(values: list[int]) -> tuple[int, int]:
    """Twice as far as the tests go (at least 10 further), from 1 if they never pass 0, from 0 if never a negative."""
    smallest, largest = min(values), max(values)
    low = max(min(2 * smallest, smallest - 10), smallest - MAX_INT_RANGE) if smallest < 0 else min(smallest, 1)
    high = min(max(2 * largest, largest + 10, 20), largest + MAX_INT_RANGE)
    return low, high


def _edge_ints() -> tuple[int, ...]:
    primes = [n for n in range(2, 200) if all(n % d for d in range(2, math.isqrt(n) + 1))]
    squares = [k * k for k in range(2, 60)]
    powers = [2**k for k in range(0, 31)]
    products = [p * q for p, q in itertools.pairwise(primes)]  # no factor below 23
    edges = {0, 1, 2, 3, *primes, *powers, *products}
    edges |= {s + d for s in squares for d in (-1, 0, 1)}
    return tuple(sorted(edges | {-e for e in edges}))


_EDGE_INTS = _edge_ints()


def floats_like(values: list[float]) -> Strategy:
    """Floats over a range wider than the tests', integral floats among them, and the usual edges."""
    from hypothesis import strategies as st

    smallest, largest = min(values), max(values)
    low = min(2 * smallest, smallest - 10) if smallest < 0 else 0.0
    high = max(2 * largest, largest + 10)
    shape = Shape.of(values)
    edges = sorted({e for e in (0.0, 0.5, 1.0, 1.5, 2.0, -0.5, -1.0, -1.5, *values) if low <= e <= high and shape.admits(e)})
    integral = st.integers(math.ceil(low), math.floor(high)).map(float)
    anywhere = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(st.sampled_from(edges), integral, anywhere).filter(shape.admits)


def text_like(values: list[str]) -> Strategy:
    """Text over the tests' own alphabet, up to a little longer than their longest."""
    from hypothesis import strategies as st

    alphabet = sorted(set("".join(values)))
    longest = max(len(v) for v in values)
    if not alphabet:
        return st.just("")
    return st.text(alphabet=alphabet, min_size=0 if Shape.of(values).empty else 1, max_size=longest + 4)


def collections_like(kind: type, values: list[Any]) -> Strategy:
    """Lists (tuples, sets) of items like the tests' items, each drawn whole from one regime."""
    from hypothesis import strategies as st

    sizes = [len(v) for v in values]
    items = [item for v in values for item in v]
    if kind is tuple and len(set(sizes)) == 1 and sizes[0]:
        return st.tuples(*(like([v[i] for v in values]) for i in range(sizes[0])))  # a record of fixed shape
    if not items:
        return st.just(kind())
    longest = max(max(sizes) + 4, 8)
    shortest = 0 if Shape.of(values).empty else 1
    lists = st.one_of(
        *(st.lists(item, min_size=shortest, max_size=longest) for item in _item_regimes(items)), _few_distinct(items, longest)
    )
    lists = st.one_of(lists, lists.map(sorted_if_possible))
    return lists if kind is list else lists.map(kind)


def _item_regimes(items: list[Any]) -> list[Strategy]:
    """Ways to draw every item of one list: like all the tests' items, or only the negative or the
    positive ones where the tests mix signs (a running maximum started at 0 fails only on the first)."""
    from hypothesis import strategies as st

    regimes = [like(items)]
    numbers = [i for i in items if type(i) in (int, float)]
    if numbers and len(numbers) == len(items) and min(numbers) < 0 < max(numbers):
        if all(type(i) is int for i in numbers):
            low, high = _int_bounds(numbers)
            regimes += [st.integers(low, -1), st.integers(1, high)]
        else:
            low, high = min(numbers), max(numbers)
            regimes += [st.floats(min(2 * low, -1.0), -1e-3), st.floats(1e-3, max(2 * high, 1.0))]
    return regimes


def _few_distinct(items: list[Any], longest: int) -> Strategy:
    """Lists made of one to three distinct values, repeated: ties, duplicates and runs."""
    from hypothesis import strategies as st

    pool = st.lists(like(items), min_size=1, max_size=3)
    return pool.flatmap(lambda chosen: st.lists(st.sampled_from(chosen), min_size=1, max_size=longest))


def dicts_like(values: list[dict[Any, Any]]) -> Strategy:
    from hypothesis import strategies as st

    keys = [k for v in values for k in v]
    if not keys:
        return st.just({})
    items = [x for v in values for x in v.values()]
    shortest = 0 if Shape.of(values).empty else 1
    return st.dictionaries(like(keys), like(items), min_size=shortest, max_size=max(len(v) for v in values) + 3)


def sorted_if_possible(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return values


# ---------------------------------------------------------------- mutants of the tests' inputs


def _mutants(seeds: list[tuple[Any, ...]], positions: list[Strategy]) -> Strategy:
    """A seed with one to three of its arguments mutated (the others kept, so related arguments stay related)."""
    from hypothesis import strategies as st

    @st.composite
    def mutant(draw: Callable[[Strategy], Any]) -> tuple[Any, ...]:
        args = list(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(args) - 1))
            args[i] = draw(_mutations(args[i], [s[i] for s in seeds], positions[i]))
        return tuple(args)

    return mutant()


def _mutations(value: Any, others: list[Any], fresh: Strategy) -> Strategy:
    """What ``value`` may become: a small change of its own type, a splice with another seed, or fresh."""
    from hypothesis import strategies as st

    kind = type(value)
    if kind is bool:
        return st.just(not value)
    if kind is int:
        negatives = any(type(o) is int and o < 0 for o in others)
        return st.one_of(st.sampled_from(_int_neighbours(value, negatives)), fresh)
    if kind is float:
        negatives = any(type(o) in (int, float) and o < 0 for o in others)
        moved = [v for v in (value + 1, value - 1, value * 2, value / 2, float(round(value)), -value) if negatives or v >= 0]
        return st.one_of(st.sampled_from(moved or [value]), fresh)
    same = [o for o in others if type(o) is kind] or [value]
    if kind is str and " " in value:  # words: edit whole words as well as characters
        words = [o.split(" ") for o in same]
        return st.one_of(_sequence_edit(value.split(" "), words, " ".join), _sequence_edit(list(value), same, "".join), fresh)
    if kind is str:
        return st.one_of(_sequence_edit(list(value), same, "".join), fresh)
    if kind in (list, tuple):
        return st.one_of(_sequence_edit(list(value), same, kind), fresh)
    return fresh


def _int_neighbours(value: int, negatives: bool) -> list[int]:
    found = {value - 1, value + 1, value * 2, value // 2, value + 2, value - 2, value * value if abs(value) < 1000 else value}
    if negatives:
        found.add(-value)
    return sorted(v for v in found if negatives or v >= 0) or [value]


def _sequence_edit(items: list[Any], others: list[Any], rebuild: Callable[[list[Any]], Any]) -> Strategy:
    """``items`` with one insert, delete, replace, duplicate, swap, reverse, sort, or splice with another
    seed's items (``others``), drawn from the pool of every seed's items, then ``rebuild``-t."""
    from hypothesis import strategies as st

    pool = [x for o in others for x in o] or items
    others = [list(o) for o in others]

    @st.composite
    def edited(draw: Callable[[Strategy], Any]) -> Any:
        edit = draw(st.sampled_from(_EDITS))
        return rebuild(edit(draw, items, pool, others) if items or edit in _EDITS_ON_EMPTY else items)

    return edited()


def _insert(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    from hypothesis import strategies as st

    at = draw(st.integers(0, len(items)))
    return [*items[:at], draw(st.sampled_from(pool)), *items[at:]] if pool else items


def _delete(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    from hypothesis import strategies as st

    at = draw(st.integers(0, len(items) - 1))
    return items[:at] + items[at + 1 :]


def _replace(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    from hypothesis import strategies as st

    at = draw(st.integers(0, len(items) - 1))
    return [*items[:at], draw(st.sampled_from(pool)), *items[at + 1 :]]


def _duplicate(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    from hypothesis import strategies as st

    at = draw(st.integers(0, len(items) - 1))
    return [*items[: at + 1], items[at], *items[at + 1 :]]


def _swap(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    from hypothesis import strategies as st

    i, j = draw(st.integers(0, len(items) - 1)), draw(st.integers(0, len(items) - 1))
    swapped = list(items)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    return swapped


def _splice(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    from hypothesis import strategies as st

    other = list(draw(st.sampled_from(others)))
    cut, cut_other = draw(st.integers(0, len(items))), draw(st.integers(0, len(other)))
    return items[:cut] + other[cut_other:]


_EDITS: tuple[Callable[..., list[Any]], ...] = (
    _insert,
    _delete,
    _replace,
    _duplicate,
    _swap,
    _splice,
    lambda draw, items, pool, others: items[::-1],
    lambda draw, items, pool, others: sorted_if_possible(items),
)
_EDITS_ON_EMPTY = (_insert, _splice)
