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
    task = Task(id="post", entry_point="f", smt={"params": {"n": "int"}, "requires": "n >= 0", "ensures": "result >= n"})
    assert _judge(task, "def f(n: int) -> int:\n    return n * n\n").status == "pass"
    strict = task.model_copy(update={"smt": {"params": {"n": "int"}, "requires": "n >= 0", "ensures": "result > n"}})
    found = _judge(strict, "def f(n: int) -> int:\n    return n * n\n")
    assert found.status == "fail" and found.evidence["counterexample"]["n"] in (0, 1)


@pytest.mark.parametrize(
    "code",
    [
        "def f(x, y):\n    return abs(sum([x, -y]))\n",
        "def f(x: int, y: int) -> int:\n    while x > y:\n        x -= 1\n    return y - x\n",
        "import os\nos.system('true')\ndef f(x: int, y: int) -> int:\n    return abs(x - y)\n",
        "def f(x: int, y: int) -> int:\n    return x & y\n",
        "def f(x: int, y: int) -> int:\n    return f(x - 1, y) if x > 0 else y\n",
    ],
    ids=["list", "while", "module-code", "bits-without-width", "unbounded-recursion"],
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


# ---------------------------------------------------------------- soundness against candidates that read the translator


def _reference(body: str, params: str = "n: int") -> Task:
    return Task(id="sound", entry_point="f", reference=f"def f({params}) -> int:\n{body}")


INCREMENT = _reference("    return n + 1\n")


def test_the_domain_comes_from_the_task_never_from_the_candidates_annotations():
    narrowed = "def f(n: bool) -> int:\n    return 2 if n else 1\n"  # n + 1 for booleans only
    found = _judge(INCREMENT, narrowed)
    assert found.status == "fail" and found.evidence["domain"] == {"n": "int"}, found.detail
    assert found.evidence["counterexample"]["n"] not in (0, 1)


@pytest.mark.parametrize(
    "code",
    [
        "def f(n: int) -> int:\n    if n > 0:\n        m = n\n    return m + 1\n",
        "def f(n: int) -> int:\n    if n != 5:\n        return n + 1\n",
        "def f(n: int) -> int:\n    for i in range(0):\n        k = 1\n    return n + k\n",
    ],
    ids=["assigned-on-one-branch", "falls-off-its-end", "assigned-in-an-empty-loop"],
)
def test_a_local_that_may_be_unassigned_or_a_missing_return_is_unknown(code):
    found = _judge(INCREMENT, code)
    assert found.status == "unknown" and "assigning it, fall off" in found.detail, found.detail


@pytest.mark.parametrize(
    "code",
    [
        "from builtins import max as abs\ndef f(n: int) -> int:\n    return abs(n, n) + 1\n",
        "def abs(v):\n    return v\ndef f(n: int) -> int:\n    return abs(n) + 1\n",
        "def g(v: int) -> int:\n    return v\nfrom operator import neg as g\ndef f(n: int) -> int:\n    return g(n) + 1\n",
        "def f(n: int) -> int:\n    max = 7\n    return n + 1 if n < max else max(n, 1)\n",
        "import functools\n@functools.lru_cache\ndef f(n: int) -> int:\n    return n + 1\n",
        "def swap(fn):\n    return lambda n: 0\n@swap\ndef f(n: int) -> int:\n    return n + 1\n",
        "from os import *\ndef f(n: int) -> int:\n    return n + 1\n",
        "import builtins\ndef f(n: int = builtins.setattr(builtins, 'abs', len)) -> int:\n    return n + 1\n",
        "import builtins\ndef f(n: builtins.setattr(builtins, 'int', str)) -> int:\n    return n + 1\n",
        "def f(n: int) -> int:\n    return n + 1\ndef f(n: int) -> int:\n    return n\n",
        "t = 0\ndef g(n: int) -> int:\n    for _ in range(0):\n        global t\n    return n\n"
        "def f(n: int) -> int:\n    return g(n) + 1\n",
        "def f(n: int) -> int:\n    if n == 7:\n        for range in range(1):\n            pass\n    return n + 1\n",
        "import operator as __builtins__\ndef f(n: int) -> int:\n    return max(n, n) + 1\n",
        "import no_such_module\ndef f(n: int) -> int:\n    return n + 1\n",
        "def f(n: Undefined) -> int:\n    return n + 1\n",
        "def f(n: int) -> int:\n    for _ in range(0):\n        yield n\n    return n + 1\n",
        "def f(n: int) -> int:\n    for i in range(100000000000000000000):\n        n = n\n    return n + 1\n",
        "def f(n: int) -> int:\n    t = n\n    for i in range(60):\n        for j in range(60):\n            for k in range(60):\n"
        "                t = t + 0\n    return t + 1\n",
    ],
    ids=[
        "import-rebinds-a-builtin",
        "def-rebinds-a-builtin",
        "import-rebinds-a-function",
        "local-shadows-a-builtin",
        "decorator",
        "decorator-swaps-the-function",
        "star-import",
        "default-runs-code",
        "annotation-runs-code",
        "defined-twice",
        "global-in-a-loop-that-never-runs",
        "a-local-named-range",
        "rebinding-__builtins__",
        "an-import-outside-the-standard-library",
        "an-annotation-naming-nothing",
        "yield-in-a-loop-that-never-runs",
        "a-range-beyond-2**63",
        "a-translation-too-large",
    ],
)
def test_whatever_the_model_would_misread_is_unknown_never_pass(code):
    found = _judge(INCREMENT, code)
    assert found.status == "unknown" and "outside the SMT subset" in found.detail, found.detail


def test_a_chained_comparison_short_circuits_as_python_does():
    reference = Task(id="chain", entry_point="f", reference="def f(x: int) -> bool:\n    return x > 0 and x < 100 // x\n")
    found = _judge(reference, "def f(x: int) -> bool:\n    return 0 < x < 100 // x\n")  # 100 // 0 is never evaluated
    assert found.status == "pass", found.detail


def test_a_bool_is_not_the_integer_it_equals():
    as_int = _reference("    return 1 if n > 0 else 0\n")
    assert _judge(as_int, "def f(n: int) -> int:\n    return n > 0\n").status == "fail"
    mixed = "def f(n: int) -> int:\n    if n > 0:\n        return True\n    return 0\n"
    found = _judge(as_int, mixed)
    assert found.status == "unknown" and "a bool on some paths" in found.detail


def test_a_loop_variable_bound_in_one_branch_keeps_its_old_value_in_the_other():
    code = "def f(n: int) -> int:\n    i = 5\n    if n > 0:\n        for i in range(3):\n            pass\n    return i\n"
    found = _judge(_reference("    return 2 if n > 0 else 5\n"), code)
    assert found.status == "pass", found.detail


def test_the_tasks_domain_bounds_the_proof_and_inputs_the_reference_rejects_are_outside_it():
    right = "a * a + b * b == c * c or a * a + c * c == b * b or b * b + c * c == a * a"
    sides = f"def f(a: int, b: int, c: int) -> bool:\n    return {right}\n"
    checks_lengths = (
        f"def f(a: int, b: int, c: int) -> bool:\n    if a <= 0 or b <= 0 or c <= 0:\n        return False\n    return {right}\n"
    )
    task = Task(id="triangle", entry_point="f", reference=sides)
    assert _judge(task, checks_lengths).status == "fail"  # (0, 0, 0) is a right triangle to the reference
    bounded = task.model_copy(update={"metadata": {"domain": "a > 0 and b > 0 and c > 0"}})
    assert _judge(bounded, checks_lengths).status == "pass"
    divides = Task(id="inverse", entry_point="f", reference="def f(n: int) -> int:\n    return 100 // n\n")
    assert _judge(divides, "def f(n: int) -> int:\n    return 100 // n if n != 0 else -1\n").status == "pass"


def test_an_answer_relation_replaces_exact_equality():
    task = Task(
        id="any-multiple",
        entry_point="f",
        reference="def f(n: int) -> int:\n    return 2 * n\n",
        metadata={"answer": "result % n == 0"},
    )
    task = task.model_copy(update={"smt": {"requires": "n > 0"}})
    assert _judge(task, "def f(n: int) -> int:\n    return 3 * n\n").status == "pass"
    assert _judge(task, "def f(n: int) -> int:\n    return 3 * n + 1\n").status == "fail"


# ---------------------------------------------------------------- the translator, checked against CPython


def test_the_translation_agrees_with_cpython_on_random_programs_in_the_subset():
    from hypothesis import HealthCheck, given, seed, settings

    from tests.verifiers.smt_programs import disagreement, programs

    @settings(max_examples=250, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(2026)
    @given(programs)
    def agrees(program):
        assert disagreement(program) is None, program

    agrees()


def test_with_bits_the_translation_agrees_with_cpython_on_random_programs_over_words():
    from hypothesis import HealthCheck, given, seed, settings

    from tests.verifiers.smt_programs import BITS, disagreement, word_programs

    @settings(max_examples=150, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(2026)
    @given(word_programs)
    def agrees(program):
        assert disagreement(program, BITS) is None, program

    agrees()


def test_the_differential_check_finds_a_translation_rule_broken_on_purpose(monkeypatch):
    from hypothesis import HealthCheck, given, seed, settings

    from proctor.verifiers._smt_subset import Translator
    from tests.verifiers.smt_programs import disagreement, programs

    def bind_everywhere(self, name, value, state):  # forgets that an assignment in a branch happens only there
        state.env[name] = value
        state.defined[name] = self.z3.BoolVal(True)

    monkeypatch.setattr(Translator, "bind", bind_everywhere)
    found = []

    @settings(max_examples=250, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(2026)
    @given(programs)
    def agrees(program):
        found.extend([disagreement(program)] if disagreement(program) else [])

    agrees()
    assert found, "the differential check did not notice a broken rule"


# ---------------------------------------------------------------- every solver answer checked by running the code


def test_a_proof_is_checked_by_running_the_code_and_a_contradiction_is_an_error(namespace_sandbox, monkeypatch):
    from proctor.verifiers._smt_subset import Translator

    parity = Task(id="parity", entry_point="f", reference="def f(n: int) -> int:\n    return 0\n")
    wrong = "def f(n: int) -> int:\n    return n % 2\n"
    checked = SmtVerifier(namespace_sandbox).verify(
        parity, Proposal(task_id=parity.id, code="def f(n: int) -> int:\n    return n - n\n")
    )
    assert checked.status == "pass" and checked.evidence["cross_checked"] >= 8
    real_binary = Translator.binary

    def broken_modulo(self, op, left, right, node, state):
        import ast

        return self.integer(0) if isinstance(op, ast.Mod) else real_binary(self, op, left, right, node, state)

    monkeypatch.setattr(Translator, "binary", broken_modulo)
    fooled = SmtVerifier(namespace_sandbox).verify(parity, Proposal(task_id=parity.id, code=wrong))
    assert fooled.status == "error" and "contradicted by running" in fooled.detail, fooled.detail
    assert "input" in fooled.evidence


def test_a_counterexample_is_reproduced_by_running_the_code(namespace_sandbox):
    found = SmtVerifier(namespace_sandbox).verify(
        INCREMENT, Proposal(task_id=INCREMENT.id, code="def f(n: int) -> int:\n    return n + 1 + (n == 3)\n")
    )
    assert found.status == "fail" and found.evidence["reproduced"] and found.evidence["counterexample"] == {"n": 3}


def test_code_that_does_not_compile_fails():
    for code in ("def f(n, n):\n    return n\n", "from __future__ import braces\ndef f(n: int) -> int:\n    return n + 1\n"):
        found = _judge(INCREMENT, code)
        assert found.status == "fail" and "does not compile" in found.detail, found.detail


def test_with_bits_the_arithmetic_is_still_pythons():
    word = Task(id="word", entry_point="f", reference="def f(x: int) -> int:\n    return x\n", smt={"bits": 32})
    wraps = "def f(x: int) -> int:\n    return 0 if x == 4294979641 else x\n"  # 12345 + 2**32: never a 32-bit word
    assert _judge(word, wraps).status == "pass"  # Python never sees x == 4294979641 for a 32-bit x
    sneaky = (
        "def f(x: int) -> int:\n    return 0 if x * 4 == 28 else x\n"  # true at 7 only in Python; a wrapping word would add 7 + 2**30
    )
    found = _judge(word, sneaky)
    assert found.status == "fail" and found.evidence["counterexample"] == {"x": 7}
    midpoint = Task(id="mid", entry_point="f", reference="def f(a: int, b: int) -> int:\n    return (a + b) // 2\n", smt={"bits": 32})
    assert _judge(midpoint, "def f(a: int, b: int) -> int:\n    return a + (b - a) // 2\n").status == "pass"
    grows = "def f(x: int) -> int:\n    return (x << 200) >> 200\n"  # Python's ints never overflow: the model's words would
    assert _judge(word, grows).status == "unknown"
