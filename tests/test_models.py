from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from proctor.models import Decision, Limits, Proposal, SelfReport, Task, TestCase, Verdict
from proctor.sandboxes import ExecResult, Job

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5), lambda children: st.lists(children, max_size=3), max_leaves=8
)

EXAMPLES = [
    Task(
        id="t/1",
        prompt="def f(x):",
        entry_point="f",
        tests="def check(c): assert c(1) == 2",
        cases=[TestCase(args=[1], expected=2)],
        reference="def f(x): return x + 1",
    ),
    Proposal(task_id="t/1", code="def f(x): return x + 1", proposer="scripted"),
    SelfReport(proposal_id="p", claimed="pass", confidence=0.9),
    Verdict(verifier="tests", version="sha256:ab", status="fail", detail="f(1) != 2", evidence={"input": [1]}),
    Decision(proposal_id="p", outcome="reject", regime="external", reason="tests failed"),
    Limits(wall_seconds=2.5),
    Job(command=["python", "main.py"], files={"main.py": b"\xff\x00binary"}, stdin=b"\x00"),
    ExecResult(backend="namespace", exit_code=None, signal=9, stdout=b"\xfe", wall_seconds=0.1, limit_hit="memory"),
]


@pytest.mark.parametrize("model", EXAMPLES, ids=lambda m: type(m).__name__)
def test_models_round_trip_through_json(model):
    assert type(model).model_validate_json(model.model_dump_json()) == model


@given(args=st.lists(json_values, max_size=4), expected=json_values)
def test_test_cases_round_trip_any_json_data(args, expected):
    case = TestCase(args=args, expected=expected)
    assert TestCase.model_validate_json(case.model_dump_json()) == case


def test_verdicts_other_than_pass_never_count_as_passed():
    assert [Verdict(verifier="v", version="1", status=s).passed for s in ("pass", "fail", "unknown", "error")] == [
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize("field", ["wall_seconds", "cpu_seconds", "memory_bytes", "processes"])
def test_limits_reject_non_positive_values(field):
    with pytest.raises(ValidationError, match=field):
        Limits(**{field: 0})


@pytest.mark.parametrize("path", ["/etc/passwd", "../escape", "a/../../b", ""])
def test_job_rejects_paths_outside_the_work_directory(path):
    with pytest.raises(ValidationError, match="relative path"):
        Job(command=["python"], files={path: b""})
