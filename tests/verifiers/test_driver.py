"""The driver's evidence text: bounded as reprlib bounds it, quick for what tests pass."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.models import Task
from proctor.verifiers._driver import Proxy, _short, run_tests, short
from proctor.verifiers._remote import raised_exception

evidence_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=200) | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=16)
        | st.tuples(inner)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(evidence_values)
def test_short_evidence_text_is_reprlibs_whichever_path_makes_it(value):
    assert short(value) == _short.repr(value)


@pytest.mark.parametrize("value", [10**39 - 1, 10**39, -(10**39) + 1, "a" * 120, "a" * 121, "\x00" * 40, [1] * 12, [1] * 13, (1,)])
def test_short_evidence_text_at_reprlibs_limits(value):
    assert short(value) == _short.repr(value)


DRAWING_TASK = Task(
    id="drawing/1",
    prompt="def echo(x):\n    pass\n",
    entry_point="echo",
    tests="import random\nfrom random import randint\n\ndef check(candidate):\n"
    "    for _ in range(3):\n        x = random.random() + randint(0, 10**6)\n        assert candidate(x) == x\n",
)


def _drawn_inputs() -> list[tuple]:
    seen: list[tuple] = []

    def echo(args, kwargs):
        seen.append(args)
        return args[0]

    assert run_tests(DRAWING_TASK, Proxy("echo", echo)).passed
    return seen


def test_task_tests_draw_the_same_inputs_every_run_and_leave_the_global_random_alone():
    before = random.getstate()
    first = _drawn_inputs()
    random.seed(12345)  # what Hypothesis does to the global generator in another thread
    assert _drawn_inputs() == first
    random.setstate(before)
    _drawn_inputs()
    assert random.getstate() == before


BROKEN_INTERPRETER_TASK = Task(
    id="broken/1",
    prompt="def echo(x):\n    pass\n",
    entry_point="echo",
    tests="def check(candidate):\n    assert candidate(1) == 1\n    raise SystemError('AST constructor recursion depth mismatch')\n",
)


def test_a_system_error_in_the_tests_is_the_verifiers_error_not_the_candidates_failure():
    with pytest.raises(SystemError):  # left to the pipeline, which records an error verdict
        run_tests(BROKEN_INTERPRETER_TASK, Proxy("echo", lambda args, kwargs: args[0]))


def test_a_system_error_the_candidate_raised_fails_the_candidate():
    def raises(args, kwargs):
        raise raised_exception({"type": "SystemError", "message": "from the candidate"})

    outcome = run_tests(BROKEN_INTERPRETER_TASK, Proxy("echo", raises))
    assert not outcome.passed and "the candidate raised SystemError" in outcome.reason
