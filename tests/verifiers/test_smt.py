"""The smt verifier: proofs, counterexamples that really fail, and unknown outside the subset."""

from __future__ import annotations

import pytest

from proctor.models import Proposal, Task
from proctor.verifiers import SmtVerifier

DISTANCE = Task(
    id="distance", entry_point="f", reference="def f(x: int, y: int) -> int:\n    if x > y:\n        return x - y\n    return y - x\n"
)
LOWEST_BIT_CLEARED = Task(id="clear", entry_point="f", reference="def f(x: int) -> int:\n    return x & (x - 1)\n", smt={"bits": 32})


def _run(source, *args):
    namespace: dict = {}
    exec(source, namespace)
    try:
        return namespace["f"](*args)
    except ZeroDivisionError:
        return "raises ZeroDivisionError"


def _judge(task, code):
    return SmtVerifier().verify(task, Proposal(task_id=task.id, code=code))


@pytest.mark.parametrize(
    "code",
    [
        "def f(x: int, y: int) -> int:\n    return abs(x - y)\n",
        "def f(x: int, y: int) -> int:\n    return max(x, y) - min(x, y)\n",
        "def f(x: int, y: int) -> int:\n    d = x - y\n    return d if d >= 0 else -d\n",
        "def g(a: int) -> int:\n    return -a if a < 0 else a\ndef f(x: int, y: int) -> int:\n    return g(y - x)\n",
        "def f(x: int, y: int) -> int:\n    t = 0\n    for i in range(4):\n        t += x - y\n    return abs(t) // 4\n",
    ],
    ids=["abs", "max-min", "conditional", "helper-call", "bounded-loop"],
)
def test_equivalent_candidates_are_proved(code):
    found = _judge(DISTANCE, code)
    assert found.status == "pass" and found.evidence["proved"], found.detail


@pytest.mark.parametrize(
    "code",
    [
        "def f(x: int, y: int) -> int:\n    return x - y\n",
        "def f(x: int, y: int) -> int:\n    return abs(x - y) + (1 if x == 123456 else 0)\n",
        "def f(x: int, y: int) -> int:\n    return abs(x - y) // (x - 7) * (x - 7) if x != 7 else 0\n",
        "def f(x: int, y: int) -> int:\n    return 100 // (x - y) if x < y else x - y\n",
    ],
    ids=["sign-bug", "planted-special-case", "rounding", "division-by-zero"],
)
def test_a_bug_yields_a_counterexample_that_really_fails(code):
    found = _judge(DISTANCE, code)
    assert found.status == "fail", found.detail
    inputs = found.evidence["counterexample"]
    got, expected = _run(code, inputs["x"], inputs["y"]), _run(DISTANCE.reference, inputs["x"], inputs["y"])
    assert got != expected
    assert (got, expected) == (found.evidence["candidate"], found.evidence["reference"])


def test_bit_tricks_are_proved_and_refuted_over_fixed_width_words():
    assert _judge(LOWEST_BIT_CLEARED, "def f(x: int) -> int:\n    return x - (x & -x)\n").status == "pass"
    found = _judge(LOWEST_BIT_CLEARED, "def f(x: int) -> int:\n    return x ^ (x & -x) if x != 12 else 0\n")
    assert found.status == "fail" and found.evidence["counterexample"] == {"x": 12}


def test_postconditions_are_proved_or_refuted():
    task = Task(id="post", entry_point="f", smt={"requires": "n >= 0", "ensures": "result >= n"})
    assert _judge(task, "def f(n: int) -> int:\n    return n * n\n").status == "pass"
    strict = task.model_copy(update={"smt": {"requires": "n >= 0", "ensures": "result > n"}})
    found = _judge(strict, "def f(n: int) -> int:\n    return n * n\n")
    assert found.status == "fail" and found.evidence["counterexample"]["n"] in (0, 1)


@pytest.mark.parametrize(
    "code",
    [
        "def f(x, y):\n    return abs(sum([x, -y]))\n",
        "def f(x: int, y: int) -> int:\n    while x > y:\n        x -= 1\n    return y - x\n",
        "def f(x: float, y: float) -> float:\n    return abs(x - y)\n",
        "import os\nos.system('true')\ndef f(x: int, y: int) -> int:\n    return abs(x - y)\n",
        "def f(x: int, y: int) -> int:\n    return x & y\n",
        "def f(x: int, y: int) -> int:\n    return f(x - 1, y) if x > 0 else y\n",
    ],
    ids=["list", "while", "float", "module-code", "bits-without-width", "unbounded-recursion"],
)
def test_code_outside_the_subset_is_unknown_never_pass(code):
    found = _judge(DISTANCE, code)
    assert found.status == "unknown" and "outside the SMT subset" in found.detail, found.detail


def test_a_solver_timeout_is_unknown():
    task = Task(
        id="hard",
        entry_point="f",
        reference="def f(x: int, y: int, z: int) -> int:\n    return x * x * x + y * y * y + z * z * z\n",
        smt={"timeout_ms": 1, "requires": "x > 0 and y > 0 and z > 0"},
    )
    code = "def f(x: int, y: int, z: int) -> int:\n    return x ** 3 + y ** 3 + z ** 3 + (1 if x * y * z == 1729 * 1729 else 0)\n"
    found = _judge(task, code)
    assert found.status == "unknown" and "gave up" in found.detail
