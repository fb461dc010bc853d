"""Where the properties verifier's inputs come from: drawn from the tests' shapes, seeded, made smaller."""

from __future__ import annotations

import random

from proctor.verifiers._inputs import Sampler, first_inputs, simpler, size, smaller_inputs

SEEDS = [(3, "ab", [1, 2]), (10, "xyz", [4, -5, 6])]


def _draws(seed: int, count: int = 400) -> list[tuple]:
    chosen, sampler = random.Random(seed), Sampler(SEEDS)
    return [sampler.draw(chosen) for _ in range(count)]


def test_the_same_seed_draws_the_same_inputs_and_another_seed_others():
    assert _draws(1) == _draws(1)
    assert _draws(1) != _draws(2)
    assert first_inputs(SEEDS, 7) == first_inputs(SEEDS, 7) != first_inputs(SEEDS, 8)


def test_draws_keep_each_positions_type_and_sign_and_reach_beyond_the_tests():
    drawn = _draws(0)
    assert all(len(args) == 3 and type(args[0]) is int and type(args[1]) is str and type(args[2]) is list for args in drawn)
    assert all(args[0] >= 0 for args in drawn)  # the tests pass no negative first argument: neither do the draws
    ints = {args[0] for args in drawn}
    assert {0, 1, 2} <= ints and max(ints) > 10  # the classic edges, and past the tests' largest
    assert any(x < 0 for args in drawn for x in args[2])  # list items may be negative: the tests pass one
    assert any(len(args[1]) > 3 for args in drawn) and any(c.isupper() or c == "é" for args in drawn for c in args[1])
    assert any(args[2] == [] for args in drawn) and any(args[2] == sorted(args[2]) and len(args[2]) > 3 for args in drawn)


def test_simpler_values_are_of_the_same_type_and_smaller():
    assert simpler(10) == [0, 1, 5, 9] and simpler(-6) == [0, 1, -3, -5]
    assert simpler(True) == [False] and simpler(False) == []
    assert simpler("abc")[:3] == ["", "a", "bc"] and simpler((1, 2))[:3] == [(), (1,), (2,)]
    assert {} in simpler({"a": 1}) and [0, 2] in simpler([3, 2])


def test_every_smaller_input_is_smaller():
    args = (12, "hello", [5, -3, 8], {"k": 2.5})
    found = smaller_inputs(args)
    assert found and all(size(other) < size(args) for other in found)
    assert (0, "hello", [5, -3, 8], {"k": 2.5}) in found and (12, "", [5, -3, 8], {"k": 2.5}) in found


def test_infinities_and_nan_in_the_tests_do_not_break_drawing():
    chosen, sampler = random.Random(0), Sampler([(float("inf"),), (float("nan"),), (2.5,)])
    assert all(type(sampler.draw(chosen)[0]) is float for _ in range(200))
    assert simpler(float("inf")) == [0.0, 1.0] and simpler(float("nan")) == [0.0, 1.0]
