"""Task sources: HumanEval from the package's data, and user files whose errors name file, task and field."""

from __future__ import annotations

import json

import pytest

from proctor.errors import InputError
from proctor.tasks import humaneval_tasks, load_task_file, resolve_task, resolve_tasks

HUMANEVAL_STYLE = {
    "task_id": "mine/1",
    "prompt": "def inc(x: int) -> int:\n",
    "entry_point": "inc",
    "test": "def check(candidate):\n    assert candidate(1) == 2\n",
    "canonical_solution": "    return x + 1\n",
}


def test_humaneval_has_164_tasks_with_references():
    tasks = humaneval_tasks()
    assert len(tasks) == 164
    assert tasks["HumanEval/13"].entry_point == "greatest_common_divisor"
    assert all(t.reference and t.reference.startswith(t.prompt) for t in tasks.values())


def test_json_jsonl_and_toml_files_load_in_humaneval_and_proctor_fields(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(HUMANEVAL_STYLE))
    (tmp_path / "many.jsonl").write_text(
        json.dumps(HUMANEVAL_STYLE) + "\n\n" + json.dumps({**HUMANEVAL_STYLE, "task_id": "mine/2"}) + "\n"
    )
    (tmp_path / "t.toml").write_text(
        '[[tasks]]\nid = "toml/1"\nentry_point = "inc"\nreference = "def inc(x):\\n    return x + 1\\n"\n'
        "cases = [{ args = [1], expected = 2 }, { args = [5], expected = 6 }]\n"
        '[tasks.smt]\nrequires = "x >= 0"\n'
    )
    one = load_task_file(tmp_path / "one.json")["mine/1"]
    assert one.tests and one.reference == "def inc(x: int) -> int:\n    return x + 1\n"
    assert list(load_task_file(tmp_path / "many.jsonl")) == ["mine/1", "mine/2"]
    toml = load_task_file(tmp_path / "t.toml")["toml/1"]
    assert [c.expected for c in toml.cases] == [2, 6] and toml.smt == {"requires": "x >= 0"}
    assert resolve_task(f"{tmp_path / 'many.jsonl'}#mine/2").id == "mine/2"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", json.dumps({**HUMANEVAL_STYLE, "entry_point": 3}), "bad.jsonl: task 'mine/1': field 'entry_point'"),
        ("bad.jsonl", json.dumps({"prompt": "x"}), "bad.jsonl: task #1: field 'id'"),
        ("bad.jsonl", "{not json", "bad.jsonl: line 1 is not valid JSON"),
        (
            "bad.json",
            json.dumps([HUMANEVAL_STYLE, {**HUMANEVAL_STYLE, "cases": [{"args": 1}]}]),
            "task 'mine/1': field 'cases.0.args'",
        ),
        ("bad.json", json.dumps([HUMANEVAL_STYLE, HUMANEVAL_STYLE]), "task 'mine/1' appears twice"),
        ("bad.toml", "[[tasks]\n", "bad.toml: not valid TOML"),
        ("bad.yaml", "x: 1", "unknown task file type '.yaml'"),
        ("bad.json", "[]", "holds no tasks"),
    ],
    ids=["wrong-type", "missing-id", "not-json", "nested-field", "duplicate", "not-toml", "unknown-type", "empty"],
)
def test_a_malformed_file_names_the_file_the_task_and_the_field(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_task_file(tmp_path / name)


def test_references_to_missing_things_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no task 'HumanEval/999'"):
        resolve_tasks("humaneval:HumanEval/999")
    with pytest.raises(InputError, match="no such task file"):
        resolve_tasks(str(tmp_path / "missing.json"))
    (tmp_path / "two.jsonl").write_text(json.dumps(HUMANEVAL_STYLE) + "\n" + json.dumps({**HUMANEVAL_STYLE, "task_id": "b"}))
    with pytest.raises(InputError, match="holds 2 tasks; name one"):
        resolve_task(str(tmp_path / "two.jsonl"))
