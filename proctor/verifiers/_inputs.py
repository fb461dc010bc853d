"""Inputs beyond a task's tests, inside what its tests imply: where the ``properties`` verifier's inputs come from.

The tests' own inputs are the seeds. Inputs grow from them, as EvalPlus grows HumanEval+ from HumanEval:

- *probes* (``probes``), asked first: one argument at a time becomes 0, 1, 2, a small square, -1, an
  empty, one-item, very long or all-negative sequence, a string with a capital, a mark or a non-ASCII
  letter; and every int scaled alike by a large factor;
- *first questions* (``first_inputs``), fresh values drawn from the verification's seed, so the first
  call a candidate sees is not one it could predict;
- *mutants* of a seed (``Sampler.mutant``; type-aware: an int moved by one, doubled, halved, negated,
  squared, or every int scaled alike; a string or list with an item inserted, deleted, replaced,
  duplicated or swapped, reversed, sorted, or spliced with another seed; strings with spaces edited
  word by word too);
- *fresh* values of the same shapes (``Sampler.fresh``): each argument position drawn by the types the
  tests pass there, over twice their range with the classic edge values (0, 1, 2, primes, squares and
  their neighbours, powers of two, products of primes above 20), text over a wider alphabet
  (``wider_alphabet``), and lists drawn whole from one regime (all negative, all positive, few distinct
  values, sorted).

Zero, empty strings and empty collections are always tried; negative numbers only where the tests pass
some (``Shape``). Everything else a docstring rules out is the task's ``domain`` to state, and an
input on which the reference raises or times out is skipped.

Every draw comes from one ``random.Random`` seeded by the verification (a secret, or a digest of a
fixed seed and the candidate): a few microseconds an input, where Hypothesis's engine spent
milliseconds on the same regimes. A counterexample is made smaller by ``smaller_inputs``.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

SCALES = (2, 10, 1000, 10**6 + 3, 10**9 + 7)
MAX_INT_RANGE = 10**6  # fresh ints stay within this of the tests' own (a reference may loop up to its input)


PROBE_INTS = (0, 1, 2, 3, 4, 5, 7, 9, 10, 16, 25, 561, 2047, -1, -2, -3, -10)  # 561, 2047: the pseudoprimes
LONG = 1500  # a long probe's length: recursion limits and quadratic blow-ups show there, not at the tests' lengths


def first_inputs(seen: Sequence[tuple[Any, ...]], seed: int, count: int = 3) -> list[tuple[Any, ...]]:
    """A few fresh inputs drawn from the verification's seed, asked before any other: the probes are
    fixed, so a candidate could know a verifier's first question and behave only when it sees it;
    these it cannot predict."""
    chosen, sampler = random.Random(seed), Sampler(seen)
    return [sampler.fresh(chosen) for _ in range(count)]


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


Draw = Callable[[random.Random], Any]


class Sampler:
    """Argument tuples grown from ``seen`` (the tests' inputs, all of one arity): half mutants of a seed,
    half fresh values of the seeds' shapes, position by position."""

    def __init__(self, seen: Sequence[tuple[Any, ...]]) -> None:
        self.seeds = [tuple(args) for args in seen]
        columns = [[args[i] for args in self.seeds] for i in range(len(self.seeds[0]))]
        self.positions = [like(column) for column in columns]
        self.shapes = [Shape.of(column) for column in columns]
        self.columns = columns

    def draw(self, chosen: random.Random) -> tuple[Any, ...]:
        return self.mutant(chosen) if chosen.random() < 0.5 else self.fresh(chosen)

    def fresh(self, chosen: random.Random) -> tuple[Any, ...]:
        return tuple(draw(chosen) for draw in self.positions)

    def mutant(self, chosen: random.Random) -> tuple[Any, ...]:
        """A seed with one to three of its arguments mutated (the others kept, so related arguments stay
        related); a mutation its position's shape does not admit is dropped."""
        args = list(chosen.choice(self.seeds))
        for _ in range(chosen.randint(1, 3)):
            i = chosen.randrange(len(args))
            changed = _mutation(args[i], self.columns[i], self.positions[i], chosen)
            if self.shapes[i].admits(changed):
                args[i] = changed
        if chosen.randrange(4) == 0:  # now and then, every int scaled alike: gcd(k·a, k·b) needs both large at once
            factor = chosen.choice(SCALES)
            args = [a * factor if type(a) is int else a for a in args]
        return tuple(args)


def like(values: Sequence[Any], nested: bool = False) -> Draw:
    """Values shaped like ``values``: for each type among them, that type over a wider range. ``nested``:
    the values are items inside the arguments, where an empty container the tests pass may hold things."""
    by_type: dict[type, list[Any]] = {}
    for value in values:
        by_type.setdefault(type(value), []).append(value)
    return _one_of([_like_type(kind, members, nested) for kind, members in by_type.items()])


def _one_of(draws: list[Draw]) -> Draw:
    if len(draws) == 1:
        return draws[0]
    return lambda chosen: chosen.choice(draws)(chosen)


def _like_type(kind: type, values: list[Any], nested: bool = False) -> Draw:
    if kind is bool:
        return lambda chosen: chosen.random() < 0.5
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
        longest = max(len(v) for v in values) + 2
        return lambda chosen: chosen.randbytes(_size(chosen, longest))
    return lambda chosen: chosen.choice(values)


def _size(chosen: random.Random, most: int) -> int:
    """A length up to ``most``: empty, one, short and the longest as often as anything in between."""
    pick = chosen.randrange(6)
    if pick == 0:
        return 0
    if pick == 1:
        return min(1, most)
    if pick == 2:
        return most
    if pick == 3:
        return chosen.randint(0, min(4, most))
    return chosen.randint(0, most)


def integers_like(values: list[int]) -> Draw:
    """Edge values and a range wider than the tests' (twice as far), negatives only where the tests have some."""
    low, high = _int_bounds(values)
    edges = sorted(
        {e for e in (*_edge_ints(), *values, low, high) if low <= e <= high}
        | {v + d for v in values for d in (-1, 1) if low <= v + d <= high}
    )
    return lambda chosen: chosen.choice(edges) if chosen.random() < 0.5 else chosen.randint(low, high)


def _int_bounds(values: list[int]) -> tuple[int, int]:
    """Twice as far as the tests go (at least 10 further), from 0 if they never pass a negative."""
    smallest, largest = min(values), max(values)
    low = max(min(2 * smallest, smallest - 10), smallest - MAX_INT_RANGE) if smallest < 0 else 0
    high = min(max(2 * largest, largest + 10, 20), largest + MAX_INT_RANGE)
    return low, high


@functools.cache
def pseudoprimes() -> tuple[int, ...]:
    """The composites below 9,000 a Fermat test to base 2 calls prime (341, 561, …; 561, 1105, 1729 and others to
    every base; 2047, 3277 and others also for Miller-Rabin to base 2): a primality shortcut is wrong exactly there."""
    return tuple(n for n in range(3, 9000, 2) if pow(2, n - 1, n) == 1 and any(n % d == 0 for d in range(3, math.isqrt(n) + 1, 2)))


@functools.cache
def _edge_ints() -> tuple[int, ...]:
    """Made on first use, not at import (a few milliseconds every command would pay)."""
    primes = [n for n in range(2, 200) if all(n % d for d in range(2, math.isqrt(n) + 1))]
    squares = [k * k for k in range(2, 60)]
    powers = [2**k for k in range(0, 31)]
    products = [p * q for p, q in itertools.pairwise(primes[8:])]  # no factor below 23
    mersennes = [2**k - 1 for k in range(2, 32)]
    edges = {0, 1, 2, 3, *primes, *powers, *products, *mersennes, *pseudoprimes()}
    edges |= {s + d for s in squares for d in (-1, 0, 1)}
    return tuple(sorted(edges | {-e for e in edges}))


def floats_like(values: list[float]) -> Draw:
    """Floats over a range wider than the tests', integral floats among them, and the usual edges."""
    finite = [v for v in values if math.isfinite(v)] or [0.0]  # an infinity or NaN the tests pass bounds nothing
    smallest, largest = min(finite), max(finite)
    low = min(2 * smallest, smallest - 10) if smallest < 0 else 0.0
    high = max(2 * largest, largest + 10)
    shape = Shape.of(values)
    edges = sorted({e for e in (0.0, 0.5, 1.0, 1.5, 2.0, -0.5, -1.0, -1.5, *values) if low <= e <= high and shape.admits(e)})

    def draw(chosen: random.Random) -> float:
        pick = chosen.randrange(3)
        if pick == 0:
            return chosen.choice(edges)
        if pick == 1:
            return float(chosen.randint(math.ceil(low), math.floor(high)))
        return chosen.uniform(low, high)

    return draw


def text_like(values: list[str]) -> Draw:
    """Text over the tests' alphabet widened a little (``wider_alphabet``), up to a little longer than their longest."""
    alphabet = wider_alphabet(values)
    longest = max(len(v) for v in values) + 4
    return lambda chosen: "".join(chosen.choices(alphabet, k=_size(chosen, longest)))


def wider_alphabet(values: list[str]) -> list[str]:
    """The tests' characters, their letters in the other case, a space, two digits, a mark and a non-ASCII letter:
    a function that ignores case or punctuation it should not, or reads bytes for characters, is caught where
    the tests only use lowercase ASCII letters."""
    seen = set("".join(values))
    return sorted(seen | {c.swapcase() for c in seen if c.isalpha() and len(c.swapcase()) == 1} | set(" 07!éÉ"))


def collections_like(kind: type, values: list[Any], nested: bool = False) -> Draw:
    """Lists (tuples, sets) of items like the tests' items, each drawn whole from one regime, sorted half the time."""
    sizes = [len(v) for v in values]
    items = [item for v in values for item in v]
    if kind is tuple and len(set(sizes)) == 1 and sizes[0]:  # a record of fixed shape
        fields = [like([v[i] for v in values], nested=True) for i in range(sizes[0])]
        return lambda chosen: tuple(field(chosen) for field in fields)
    if not items:  # an empty item the tests pass ("any python values") may as well hold some
        return (lambda chosen: kind(_small_value(chosen) for _ in range(_size(chosen, 3)))) if nested else (lambda chosen: kind())
    longest = max(max(sizes) + 4, 8)
    regimes = _item_regimes(items)

    def draw(chosen: random.Random) -> Any:
        if chosen.randrange(len(regimes) + 1) == len(regimes):  # few distinct values, repeated: ties, duplicates, runs
            pool = [regimes[0](chosen) for _ in range(chosen.randint(1, 3))]
            drawn = [chosen.choice(pool) for _ in range(max(1, _size(chosen, longest)))]
        else:
            item = chosen.choice(regimes)
            drawn = [item(chosen) for _ in range(_size(chosen, longest))]
        return kind(sorted_if_possible(drawn) if chosen.random() < 0.5 else drawn)

    return draw


def _item_regimes(items: list[Any]) -> list[Draw]:
    """Ways to draw every item of one list: like all the tests' items, or only the negative or the
    positive ones where the tests mix signs (a running maximum started at 0 fails only on the first)."""
    regimes = [like(items, nested=True)]
    numbers = [i for i in items if type(i) in (int, float)]
    if numbers and len(numbers) == len(items) and min(numbers) < 0 < max(numbers):
        if all(type(i) is int for i in numbers):
            low, high = _int_bounds(numbers)
            regimes += [lambda chosen: chosen.randint(low, -1), lambda chosen: chosen.randint(1, high)]
        else:
            least, most = min(2 * min(numbers), -1.0), max(2 * max(numbers), 1.0)
            regimes += [lambda chosen: chosen.uniform(least, -1e-3), lambda chosen: chosen.uniform(1e-3, most)]
    return regimes


def dicts_like(values: list[dict[Any, Any]], nested: bool = False) -> Draw:
    keys = [k for v in values for k in v]
    if not keys:
        if not nested:
            return lambda chosen: {}
        return lambda chosen: {_small_text(chosen): _small_value(chosen) for _ in range(_size(chosen, 2))}
    key, item = like(keys, nested=True), like([x for v in values for x in v.values()], nested=True)
    most = max(len(v) for v in values) + 3
    return lambda chosen: {key(chosen): item(chosen) for _ in range(_size(chosen, most))}


def _small_value(chosen: random.Random) -> Any:
    """What an empty container inside the arguments may hold: small ints, None, short text."""
    return chosen.choice((chosen.randint(-3, 10), None, _small_text(chosen)))


def _small_text(chosen: random.Random) -> str:
    return "".join(chosen.choices("ab", k=chosen.randint(0, 2)))


def sorted_if_possible(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return values


# ---------------------------------------------------------------- mutants of the tests' inputs


def _mutation(value: Any, others: list[Any], fresh: Draw, chosen: random.Random) -> Any:
    """What ``value`` may become: a small change of its own type, a splice with another seed, or fresh."""
    kind = type(value)
    if kind is bool:
        return not value
    if chosen.randrange(3) == 0:
        return fresh(chosen)
    if kind is int:
        squared = value if abs(value) >= 1000 else value * value
        return chosen.choice((value - 1, value + 1, value * 2, value // 2, value + 2, value - 2, -value, squared))
    if kind is float:
        rounded = float(round(value)) if math.isfinite(value) else value
        return chosen.choice((value + 1, value - 1, value * 2, value / 2, rounded, -value))
    same = [o for o in others if type(o) is kind] or [value]
    if kind is str:
        if " " in value and chosen.random() < 0.5:  # words: edit whole words as well as characters
            return " ".join(_edit(value.split(" "), [o.split(" ") for o in same], chosen))
        characters = [list(o) for o in same] + [wider_alphabet(same)]  # edits may draw any character of the wider alphabet
        return "".join(_edit(list(value), characters, chosen))
    if kind in (list, tuple):
        return kind(_edit(list(value), [list(o) for o in same], chosen))
    return fresh(chosen)


def _edit(items: list[Any], others: list[list[Any]], chosen: random.Random) -> list[Any]:
    """``items`` with one insert, delete, replace, duplicate, swap, reverse, sort, or splice with another
    seed's items (``others``), new items drawn from the pool of every seed's items."""
    pool = [x for o in others for x in o] or items
    edit = chosen.choice(_EDITS if items else ("insert", "splice"))
    at = chosen.randrange(len(items) + (edit == "insert")) if items or edit == "insert" else 0
    if edit == "insert":
        return [*items[:at], chosen.choice(pool), *items[at:]] if pool else items
    if edit == "delete":
        return items[:at] + items[at + 1 :]
    if edit == "replace":
        return [*items[:at], chosen.choice(pool), *items[at + 1 :]]
    if edit == "duplicate":
        return [*items[: at + 1], items[at], *items[at + 1 :]]
    if edit == "swap":
        other = chosen.randrange(len(items))
        swapped = list(items)
        swapped[at], swapped[other] = swapped[other], swapped[at]
        return swapped
    if edit == "splice":
        spliced = chosen.choice(others)
        return items[: chosen.randint(0, len(items))] + spliced[chosen.randint(0, len(spliced)) :]
    return items[::-1] if edit == "reverse" else sorted_if_possible(items)


_EDITS = ("insert", "delete", "replace", "duplicate", "swap", "splice", "reverse", "sort")


# ---------------------------------------------------------------- smaller counterexamples


def smaller_inputs(args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Inputs like ``args`` with one argument made simpler (``simpler``), each smaller by ``size``: what a
    greedy shrink tries, in order, to turn a counterexample into one a person can read."""
    found = []
    for i, value in enumerate(args):
        for simple in simpler(value):
            candidate = (*args[:i], simple, *args[i + 1 :])
            if size(candidate) < size(args):
                found.append(candidate)
    return found


def simpler(value: Any) -> list[Any]:
    """Simpler values of the same type: toward zero, empty, halves, one item fewer, an item made simpler."""
    kind = type(value)
    if kind is bool:
        return [False] if value else []
    if kind is int:
        return list(dict.fromkeys((0, 1, int(value / 2), value - 1 if value > 0 else value + 1)))
    if kind is float:
        return list(dict.fromkeys((0.0, 1.0, float(int(value)), value / 2) if math.isfinite(value) else (0.0, 1.0)))
    if kind is dict:
        return [{}] + [{k: v for k, v in value.items() if k != key} for key in list(value)[:SHRINK_ITEMS]]
    if kind not in (str, list, tuple, set, frozenset):
        return []
    items = list(value)
    rebuild: Any = "".join if kind is str else kind
    half = len(items) // 2
    found = [items[:0], items[:half], items[half:]] + [items[:i] + items[i + 1 :] for i in range(min(len(items), SHRINK_ITEMS))]
    if kind is not str:
        found += [[*items[:i], s, *items[i + 1 :]] for i in range(min(len(items), SHRINK_ITEMS)) for s in simpler(items[i])[:2]]
    return [rebuild(f) for f in found]


SHRINK_ITEMS = 24  # the items of a long sequence tried one by one; its halves are tried first


def size(args: Any) -> tuple[int, float]:
    """How big an input looks: its text's length, then the size of its numbers (a finite order for each length)."""
    return len(repr(args)), _magnitude(args)


def _magnitude(value: Any) -> float:
    if type(value) in (int, float):
        return float(min(abs(value), 10**300))
    if type(value) in (list, tuple, set, frozenset):
        return sum(_magnitude(v) for v in value)
    if type(value) is dict:
        return sum(_magnitude(k) + _magnitude(v) for k, v in value.items())
    return 0.0


def at_least_as_big(args: tuple[Any, ...], other: tuple[Any, ...]) -> bool:
    """Whether ``args`` is at least as big as ``other`` wherever size can be told: numbers by magnitude,
    strings and collections by length (what usually sets a reference's cost)."""
    compared = False
    for a, b in zip(args, other, strict=False):
        if type(a) in (int, float) and type(b) in (int, float):
            if abs(a) < abs(b):
                return False
            compared = True
        elif type(a) is type(b) and type(a) in (str, bytes, list, tuple, set, frozenset, dict):
            if len(a) < len(b):
                return False
            compared = True
    return compared and len(args) == len(other)
