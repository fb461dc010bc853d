"""Inputs beyond a task's tests, inside what its tests imply: the ``properties`` verifier's strategies.

The tests' own inputs are the seeds. Inputs grow from them, as EvalPlus grows HumanEval+ from HumanEval:

- *probes* (``probes``), asked first as Hypothesis's explicit examples: one argument at a time becomes
  0, 1, 2, a small square, -1, an empty, one-item, very long or all-negative sequence, a string with a
  capital, a mark or a non-ASCII letter; and every int scaled alike by a large factor;
- *first questions* (``first_inputs``), drawn by Python's own generator from the verification's seed,
  so the first call a candidate sees is not one it could predict;
- *mutants* of a seed (type-aware: an int moved by one, doubled, halved, negated, squared, or every int
  scaled alike; a string or list with an item inserted, deleted, replaced, duplicated or swapped,
  reversed, sorted, or spliced with another seed; strings with spaces edited word by word too);
- *fresh* values of the same shapes: each argument position drawn by the types the tests pass there,
  over twice their range with the classic edge values (0, 1, 2, primes, squares and their neighbours,
  powers of two, products of primes above 20), text over a wider alphabet (``wider_alphabet``), and
  lists drawn whole from one regime (all negative, all positive, few distinct values, sorted).

Zero, empty strings and empty collections are always tried; negative numbers only where the tests pass
some (``Shape``). Everything else a docstring rules out is the task's ``domain`` to state, and an
input on which the reference raises or times out is skipped.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from proctor._syntax import parse_lock

Strategy = Any  # hypothesis.strategies.SearchStrategy, imported lazily with hypothesis itself

SCALES = (2, 10, 1000, 10**6 + 3, 10**9 + 7)
MAX_INT_RANGE = 10**6  # fresh ints stay within this of the tests' own (a reference may loop up to its input)


def beyond(seen: Sequence[tuple[Any, ...]]) -> Strategy:
    """Argument tuples grown from ``seen`` (the tests' inputs, all of one arity): mutants and fresh values."""
    from hypothesis import strategies as st

    arity = len(seen[0])
    positions = [like([args[i] for args in seen]) for i in range(arity)]
    shapes = [Shape.of([args[i] for args in seen]) for i in range(arity)]
    return st.one_of(_mutants(list(seen), positions, shapes), st.tuples(*positions))


PROBE_INTS = (0, 1, 2, 3, 4, 5, 7, 9, 10, 16, 25, -1, -2, -3, -10)
LONG = 1500  # a long probe's length: recursion limits and quadratic blow-ups show there, not at the tests' lengths


def first_inputs(seen: Sequence[tuple[Any, ...]], seed: int, count: int = 3) -> list[tuple[Any, ...]]:
    """A few inputs drawn with Python's own generator from the verification's seed, asked before any other.

    Hypothesis starts from its simplest input and the probes are fixed, so a candidate could know the
    verifier's first question and behave only when it sees it; these it cannot predict.
    """
    chosen = random.Random(seed)
    arity = len(seen[0])
    return [tuple(_random_value([args[i] for args in seen], chosen) for i in range(arity)) for _ in range(count)]


def _random_value(values: list[Any], chosen: random.Random) -> Any:
    kind = type(chosen.choice(values))
    same = [v for v in values if type(v) is kind]
    if kind is bool:
        return chosen.random() < 0.5
    if kind is int:
        return chosen.randint(*_int_bounds(same))
    if kind is float:
        return chosen.uniform(min(0.0, 2 * min(same)), max(2 * max(same), 10.0))
    longest = max((len(v) for v in same), default=0) if kind in (str, list, tuple) else 0
    if kind is str:
        alphabet = wider_alphabet(same)
        return "".join(chosen.choice(alphabet) for _ in range(chosen.randint(0, longest + 4)))
    if kind in (list, tuple):
        if kind is tuple and len({len(v) for v in same}) == 1:  # a record of fixed shape
            return tuple(_random_value([v[i] for v in same], chosen) for i in range(len(same[0])))
        items = [x for v in same for x in v]
        return kind(_random_value(items, chosen) for _ in range(chosen.randint(0, longest + 4))) if items else kind()
    return chosen.choice(same)


PROBE_FLOATS = (0.0, 0.5, 1.0, 2.5, -0.5, -1.0)


def probes(seen: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The classic boundary values, each tried once (Hypothesis's explicit examples) in the tests' inputs:
    one argument at a time becomes 0, 1, 2, a small square, -1, an empty, one-item, very long or all-negative
    sequence, a string with a capital, a mark or a non-ASCII letter, where its position's shape admits it; and
    every int of the first input scaled alike by a large factor. Random inputs may miss ``is_prime(2)``; these
    never do."""
    first = seen[0]
    found: list[tuple[Any, ...]] = []
    for i in range(len(first)):
        values = [args[i] for args in seen]
        shape = Shape.of(values)
        base = max(seen, key=lambda args: len(args[i]) if type(args[i]) in (str, list, tuple) else 0)  # the fullest seed there
        for probe in _probes_of(base[i], values):
            if shape.admits(probe) and probe != base[i] and type(probe) is type(base[i]):
                found.append((*base[:i], probe, *base[i + 1 :]))
    for factor in (1000, SCALES[-1]):
        scaled = tuple(a * factor if type(a) is int else a for a in first)
        if scaled != first:
            found.append(scaled)
    return found


def _probes_of(value: Any, values: list[Any]) -> list[Any]:
    kind = type(value)
    if kind is int:
        return list(PROBE_INTS)
    if kind is float:
        return list(PROBE_FLOATS)
    if kind is bool:
        return [not value]
    if kind not in (str, list, tuple):
        return []
    items = list(value)
    rebuild: Any = "".join if kind is str else kind
    found = [rebuild([]), rebuild(items[:1]), rebuild(items[::-1]), rebuild(sorted_if_possible(items))]
    if kind is str:
        middle = len(value) // 2  # a non-ASCII letter in the middle keeps a palindrome one
        found += [value[:1].swapcase() + value[1:], value + "!", "é", value[:middle] + "é" + value[middle + (len(value) % 2) :]]
    if items:
        found.append(rebuild(items * (LONG // len(items) + 1)))
    every_item = [x for v in values if type(v) is kind for x in v]
    if items and all(type(x) is int for x in items) and Shape.of(every_item).negatives:
        found.append(rebuild([-abs(x) or -1 for x in items]))  # every item negative, where the tests pass negative items
    return found


@dataclass(frozen=True)
class Shape:
    """What the tests' values at one position imply about the spec there: whether negative numbers belong.

    Zero and empty strings and collections always do, as the classic edge values they are; where a
    docstring rules them out, the task's ``domain`` says so.
    """

    negatives: bool

    @classmethod
    def of(cls, values: Sequence[Any]) -> Shape:
        return cls(negatives=any(v < 0 for v in values if type(v) in (int, float)))

    def admits(self, value: Any) -> bool:
        return type(value) not in (int, float) or value >= 0 or self.negatives


def like(values: Sequence[Any], nested: bool = False) -> Strategy:
    """Values shaped like ``values``: for each type among them, that type over a wider range. ``nested``:
    the values are items inside the arguments, where an empty container the tests pass may hold things."""
    from hypothesis import strategies as st

    by_type: dict[type, list[Any]] = {}
    for value in values:
        by_type.setdefault(type(value), []).append(value)
    return st.one_of(*(_like_type(kind, members, nested) for kind, members in by_type.items()))


def _like_type(kind: type, values: list[Any], nested: bool = False) -> Strategy:
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
        return collections_like(kind, values, nested)
    if kind is dict:
        return dicts_like(values, nested)
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
    """Twice as far as the tests go (at least 10 further), from 0 if they never pass a negative."""
    smallest, largest = min(values), max(values)
    low = max(min(2 * smallest, smallest - 10), smallest - MAX_INT_RANGE) if smallest < 0 else 0
    high = min(max(2 * largest, largest + 10, 20), largest + MAX_INT_RANGE)
    return low, high


def _edge_ints() -> tuple[int, ...]:
    primes = [n for n in range(2, 200) if all(n % d for d in range(2, math.isqrt(n) + 1))]
    squares = [k * k for k in range(2, 60)]
    powers = [2**k for k in range(0, 31)]
    products = [p * q for p, q in itertools.pairwise(primes[8:])]  # no factor below 23
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
    return st.one_of(st.sampled_from(edges), integral, anywhere)


def text_like(values: list[str]) -> Strategy:
    """Text over the tests' alphabet widened a little (``wider_alphabet``), up to a little longer than their longest."""
    from hypothesis import strategies as st

    alphabet = wider_alphabet(values)
    longest = max(len(v) for v in values)
    return st.text(alphabet=alphabet, max_size=longest + 4)


def wider_alphabet(values: list[str]) -> list[str]:
    """The tests' characters, their letters in the other case, a space, a digit, a mark and a non-ASCII letter:
    a function that ignores case or punctuation it should not, or reads bytes for characters, is caught where
    the tests only use lowercase ASCII letters."""
    seen = set("".join(values))
    return sorted(seen | {c.swapcase() for c in seen if c.isalpha() and len(c.swapcase()) == 1} | set(" 7!éÉ"))


def collections_like(kind: type, values: list[Any], nested: bool = False) -> Strategy:
    """Lists (tuples, sets) of items like the tests' items, each drawn whole from one regime."""
    from hypothesis import strategies as st

    sizes = [len(v) for v in values]
    items = [item for v in values for item in v]
    if kind is tuple and len(set(sizes)) == 1 and sizes[0]:
        return st.tuples(*(like([v[i] for v in values], nested=True) for i in range(sizes[0])))  # a record of fixed shape
    if not items:  # an empty item the tests pass ("any python values") may as well hold some
        return st.one_of(st.just(kind()), st.lists(_small_values(), max_size=3).map(kind)) if nested else st.just(kind())
    longest = max(max(sizes) + 4, 8)
    lists = st.one_of(*(st.lists(item, max_size=longest) for item in _item_regimes(items)), _few_distinct(items, longest))
    lists = st.one_of(lists, lists.map(sorted_if_possible))
    return lists if kind is list else lists.map(kind)


def _item_regimes(items: list[Any]) -> list[Strategy]:
    """Ways to draw every item of one list: like all the tests' items, or only the negative or the
    positive ones where the tests mix signs (a running maximum started at 0 fails only on the first)."""
    from hypothesis import strategies as st

    regimes = [like(items, nested=True)]
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

    pool = st.lists(like(items, nested=True), min_size=1, max_size=3)
    return pool.flatmap(functools.partial(_repeated, longest=longest))


def _repeated(chosen: list[Any], longest: int) -> Strategy:
    from hypothesis import strategies as st

    return st.lists(st.sampled_from(chosen), min_size=1, max_size=longest)


def dicts_like(values: list[dict[Any, Any]], nested: bool = False) -> Strategy:
    from hypothesis import strategies as st

    keys = [k for v in values for k in v]
    if not keys:
        return (
            st.one_of(st.just({}), st.dictionaries(st.text("ab", max_size=2), _small_values(), max_size=2)) if nested else st.just({})
        )
    items = [x for v in values for x in v.values()]
    return st.dictionaries(like(keys, nested=True), like(items, nested=True), max_size=max(len(v) for v in values) + 3)


def _small_values() -> Strategy:
    """What an empty container inside the arguments may hold: small ints, None, short text."""
    from hypothesis import strategies as st

    return st.one_of(st.integers(-3, 10), st.none(), st.text("ab", max_size=2))


def sorted_if_possible(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return values


# ---------------------------------------------------------------- mutants of the tests' inputs


def _mutants(seeds: list[tuple[Any, ...]], positions: list[Strategy], shapes: list[Shape]) -> Strategy:
    """A seed with one to three of its arguments mutated (the others kept, so related arguments stay related);
    a mutation its position's shape does not admit is dropped (cheaper than Hypothesis filtering and redrawing)."""
    return _composites()[0](seeds, positions, shapes)


def _draw_mutant(
    draw: Callable[[Strategy], Any], seeds: list[tuple[Any, ...]], positions: list[Strategy], shapes: list[Shape]
) -> tuple[Any, ...]:
    from hypothesis import strategies as st

    args = list(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(args) - 1))
        changed = draw(_mutations(args[i], [s[i] for s in seeds], positions[i]))
        if shapes[i].admits(changed):
            args[i] = changed
    if draw(st.integers(0, 3)) == 0:  # now and then, every int scaled alike: gcd(k·a, k·b) needs both large at once
        factor = draw(st.sampled_from(SCALES))
        args = [a * factor if type(a) is int else a for a in args]
    return tuple(args)


@functools.cache
def _composites() -> tuple[Any, Any]:
    """The composite strategies, decorated once: ``st.composite`` parses the function's source, which
    CPython 3.11 before 3.11.8 cannot do in two threads at once (see ``proctor._syntax``)."""
    from hypothesis import strategies as st

    with parse_lock():
        return st.composite(_draw_mutant), st.composite(_draw_edited)


def _mutations(value: Any, others: list[Any], fresh: Strategy) -> Strategy:
    """What ``value`` may become: a small change of its own type, a splice with another seed, or fresh."""
    from hypothesis import strategies as st

    kind = type(value)
    if kind is bool:
        return st.just(not value)
    if kind is int:
        moved = {
            value - 1,
            value + 1,
            value * 2,
            value // 2,
            value + 2,
            value - 2,
            -value,
            value * value if abs(value) < 1000 else value,
        }
        return st.one_of(st.sampled_from(sorted(moved)), fresh)
    if kind is float:
        return st.one_of(st.sampled_from([value + 1, value - 1, value * 2, value / 2, float(round(value)), -value]), fresh)
    same = [o for o in others if type(o) is kind] or [value]
    if kind is str:
        characters = [list(o) for o in same] + [wider_alphabet(same)]  # edits may draw any character of the wider alphabet
        edits = [_sequence_edit(list(value), characters, "".join)]
        if " " in value:  # words: edit whole words as well as characters
            edits.append(_sequence_edit(value.split(" "), [o.split(" ") for o in same], " ".join))
        return st.one_of(*edits, fresh)
    if kind in (list, tuple):
        return st.one_of(_sequence_edit(list(value), same, kind), fresh)
    return fresh


def _sequence_edit(items: list[Any], others: list[Any], rebuild: Callable[[list[Any]], Any]) -> Strategy:
    """``items`` with one insert, delete, replace, duplicate, swap, reverse, sort, or splice with another
    seed's items (``others``), drawn from the pool of every seed's items, then ``rebuild``-t."""
    pool = [x for o in others for x in o] or items
    return _composites()[1](items, pool, [list(o) for o in others], rebuild)


def _draw_edited(
    draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any], rebuild: Callable[[list[Any]], Any]
) -> Any:
    from hypothesis import strategies as st

    edit = draw(st.sampled_from(_EDITS))
    return rebuild(edit(draw, items, pool, others) if items or edit in _EDITS_ON_EMPTY else items)


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


def _reverse(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    return items[::-1]


def _sort(draw: Callable[[Strategy], Any], items: list[Any], pool: list[Any], others: list[Any]) -> list[Any]:
    return sorted_if_possible(items)


_EDITS: tuple[Callable[..., list[Any]], ...] = (
    _insert,
    _delete,
    _replace,
    _duplicate,
    _swap,
    _splice,
    _reverse,
    _sort,
)
_EDITS_ON_EMPTY = (_insert, _splice)
