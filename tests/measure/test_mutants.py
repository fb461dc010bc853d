"""Each mutation operator makes exactly the edits it names; rewrites change the text, never the behaviour."""

from __future__ import annotations

import pytest

from proctor.measure import OPERATORS, mutants, rewrites


def _made(source: str, operator: str) -> list[str]:
    return [m.code for m in mutants(source) if m.operator == operator]


def _f(body: str) -> str:
    return "def f(a, b):\n" + "".join(f"    {line}\n" for line in body.splitlines())


@pytest.mark.parametrize(
    ("operator", "source", "expected"),
    [
        ("comparison", _f("return a < b"), [_f("return a <= b")]),
        ("comparison", _f("return a is None"), [_f("return a is not None")]),
        ("arithmetic", _f("return a + b * 2"), [_f("return a - b * 2"), _f("return a + b // 2")]),
        ("arithmetic", _f("a += b\nreturn a"), [_f("a -= b\nreturn a")]),
        ("constant", _f("return a + 2"), [_f("return a + 3"), _f("return a + 1")]),
        ("bound", _f("return sum(range(a))"), [_f("return sum(range(a + 1))"), _f("return sum(range(a - 1))")]),
        (
            "bound",
            _f("return a[1:b]"),
            [_f("return a[1 + 1:b]"), _f("return a[1 - 1:b]"), _f("return a[1:b + 1]"), _f("return a[1:b - 1]")],
        ),
        ("branches", _f("if a:\n    return 1\nelse:\n    return 2"), [_f("if a:\n    return 2\nelse:\n    return 1")]),
        ("branches", _f("return 1 if a else 2"), [_f("return 2 if a else 1")]),
        ("negation", _f("return not a"), [_f("return a")]),
        ("negation", _f("while a:\n    a -= 1\nreturn a"), [_f("while not a:\n    a -= 1\nreturn a")]),
        ("boolean", _f("return a and b"), [_f("return a or b")]),
        ("min/max", _f("return max(a, b)"), [_f("return min(a, b)")]),
        ("min/max", _f("return all(a)"), [_f("return any(a)")]),
        ("statement", _f('"""Doc."""\na += 1\nreturn a'), [_f('"""Doc."""\npass\nreturn a'), _f('"""Doc."""\na += 1\npass')]),
        ("return", _f("return a * b"), [_f("return None")]),
    ],
)
def test_each_operator_makes_exactly_its_edits(operator, source, expected):
    assert _made(source, operator) == expected


def test_docstrings_are_never_mutated_and_no_mutant_repeats_or_equals_the_reference():
    source = _f('"""1 < 2 and 3 + 4 if max(5) else 6"""\nreturn a')
    made = mutants(source)
    assert all('"""1 < 2 and 3 + 4 if max(5) else 6"""' in m.code for m in made)
    assert len({m.code for m in made}) == len(made) and source not in {m.code for m in made}


def test_every_operator_has_a_test_above():
    tested = {"comparison", "arithmetic", "constant", "bound", "branches", "negation", "boolean", "min/max", "statement", "return"}
    assert {name for name, _ in OPERATORS} == tested


def test_rewrites_change_the_text_and_keep_the_names_callers_use():
    source = "def f(xs, n):\n    total = 0\n    for i in range(n):\n        if i < n:\n            total += xs[i]\n    return total\n"
    made = {r.kind: r.code for r in rewrites(source, "f")}
    assert set(made) == {"renamed locals", "flipped comparisons", "helper extracted"}
    namespace: dict = {}
    for code in made.values():
        exec(code, namespace)  # the reference's own code, rewritten: trusted
        assert namespace["f"]([1, 2, 3], 2) == 3 and namespace["f"](xs=[4, 5], n=1) == 4
    assert "total_" in made["renamed locals"] and "n > i" in made["flipped comparisons"]


LOOPS = """def f(xs, n):
    out = []
    for x in xs:
        if x > n:
            out.append(x * 2)
    lo = n - 1
    hi = n + 1
    evens = [y for y in xs if y % 2 == 0]
    return (out, lo, hi, evens)
"""


def test_loops_comprehensions_and_independent_statements_are_rewritten_exactly():
    made = {r.kind: r.code for r in rewrites(LOOPS, "f")}
    loop = "    out = []\n    for x in xs:\n        if x > n:\n            out.append(x * 2)\n"
    assert made["loop as comprehension"] == LOOPS.replace(loop, "    out = [x * 2 for x in xs if x > n]\n")
    assert made["comprehension as loop"] == LOOPS.replace(
        "    evens = [y for y in xs if y % 2 == 0]\n",
        "    evens = []\n    for y in xs:\n        if y % 2 == 0:\n            evens.append(y)\n",
    )
    swapped = LOOPS.replace("    lo = n - 1\n    hi = n + 1\n", "    hi = n + 1\n    lo = n - 1\n")
    assert made["independent statements reordered"] == swapped
    namespace: dict = {}
    for code in made.values():
        exec(code, namespace)  # the test's own code, rewritten: trusted
        assert namespace["f"]([1, 4, 6], 3) == ([8, 12], 2, 4, [4, 6])


def test_rewrites_that_would_change_behaviour_are_not_made():
    leaks = "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    return (out, x)\n"  # x is read after the loop
    dependent = "def f(n):\n    a = n + 1\n    b = a * 2\n    return b\n"
    calls = "def f(xs):\n    a = xs.pop()\n    b = xs.pop()\n    return a - b\n"  # the order of effects matters
    kinds = {r.kind for source in (leaks, dependent, calls) for r in rewrites(source, "f")}
    assert not kinds & {"loop as comprehension", "independent statements reordered"}
