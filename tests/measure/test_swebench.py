"""SWE-bench instances whose repository is cloned locally become repository tasks (`proctor tasks swebench`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dulwich", reason="the repo extra is not installed (pip install 'proctor[repo]')")

import proctor.scenarios
from proctor.errors import InputError
from proctor.measure import tasks_from_instances
from proctor.models import Proposal
from proctor.tasks._repo import as_task, file_diff, load_repo_task
from proctor.verifiers import default_pipeline

DATA = Path(proctor.scenarios.__file__).parent / "tasks" / "repo" / "textstats-hyphens"
WORDS = "textstats/words.py"
TESTS = "tests/test_words.py"


def _clone(where: Path) -> tuple[str, str]:
    """A local git repository holding the textstats base, then its fix: (base commit, fix commit)."""
    from dulwich import porcelain

    shutil.copytree(DATA / "repo", where)
    porcelain.init(str(where))
    paths = [str(p.relative_to(where)) for p in where.rglob("*.py")]
    who = b"proctor tests <tests@proctor.invalid>"
    porcelain.add(str(where), paths=[str(where / p) for p in paths])
    base = porcelain.commit(str(where), message=b"base", author=who, committer=who).decode()
    words = (where / WORDS).read_text()
    (where / WORDS).write_text(_fixed(words))
    porcelain.add(str(where), paths=[str(where / WORDS)])
    fix = porcelain.commit(str(where), message=b"the fix, later in history", author=who, committer=who).decode()
    return base, fix


def _fixed(words: str) -> str:
    return words.replace('return len(text.replace("-", " ").split())', "return len(text.split())")


def _instance(base: str) -> dict:
    words = (DATA / "repo" / WORDS).read_text()
    visible = (DATA / "repo" / TESTS).read_text()
    hidden = (DATA / "tests" / "test_words.py").read_text()
    return {
        "instance_id": "textstats__textstats-1",
        "repo": "textstats/textstats",
        "base_commit": base,
        "patch": file_diff(WORDS, words, _fixed(words)),
        "test_patch": file_diff(TESTS, visible, hidden),
        "problem_statement": "word_count counts 'well-known' as two words; a hyphenated word is one word.",
        "FAIL_TO_PASS": json.dumps(["tests/test_words.py::test_counts_hyphenated"]),
        "PASS_TO_PASS": json.dumps(["tests/test_words.py::test_basic"]),
    }


def test_an_instance_becomes_a_task_that_accepts_its_patch_and_rejects_its_base(namespace_sandbox, tmp_path):
    base, _ = _clone(tmp_path / "repos" / "textstats__textstats")
    instances = tmp_path / "instances.jsonl"
    instances.write_text(json.dumps(_instance(base)) + "\n")
    (directory,) = tasks_from_instances(instances, tmp_path / "repos", tmp_path / "tasks", namespace_sandbox)
    repo = load_repo_task(directory)
    assert repo.base_files()[WORDS] == (DATA / "repo" / WORDS).read_bytes()  # the tree at base_commit, not the later fix
    assert set(repo.test_files()) == {TESTS} and TESTS in repo.protected
    assert not any(".git" in path for path in repo.base_files())
    task = as_task(repo)
    pipeline = default_pipeline(task, namespace_sandbox)
    assert pipeline.verify(task, Proposal(task_id=task.id, code=task.reference)).passed
    nothing = file_diff("NOTES.md", None, "later\n")
    assert not pipeline.verify(task, Proposal(task_id=task.id, code=nothing)).passed


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"base_commit": "0" * 40}, "is not in"),
        ({"repo": "someone/else"}, "no local clone"),
        ({"FAIL_TO_PASS": json.dumps(["test_x (module.Case)"])}, "not a pytest id"),
        ({"test_patch": "not a patch\n"}, "its test_patch"),
    ],
    ids=["unknown-commit", "no-clone", "django-ids", "bad-test-patch"],
)
def test_a_bad_instance_is_one_line_naming_it(namespace_sandbox, tmp_path, change, why):
    base, _ = _clone(tmp_path / "repos" / "textstats__textstats")
    instances = tmp_path / "instances.json"
    instances.write_text(json.dumps([{**_instance(base), **change}]))
    with pytest.raises(InputError, match=why):
        tasks_from_instances(instances, tmp_path / "repos", tmp_path / "tasks", namespace_sandbox)


def test_the_cli_writes_tasks_and_names_a_file_without_swe_bench_fields(tmp_path):
    base, _ = _clone(tmp_path / "repos" / "textstats__textstats")
    (tmp_path / "i.jsonl").write_text(json.dumps(_instance(base)) + "\n")
    command = [sys.executable, "-m", "proctor", "tasks", "swebench"]
    done = subprocess.run(
        [*command, str(tmp_path / "i.jsonl"), "--repos", str(tmp_path / "repos"), "-o", str(tmp_path / "t")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "1 task(s)" in done.stdout, done.stderr
    (tmp_path / "bad.json").write_text(json.dumps({"instance_id": "x"}))
    refused = subprocess.run(
        [*command, str(tmp_path / "bad.json"), "--repos", str(tmp_path), "-o", str(tmp_path / "u")], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "lacks repo" in refused.stderr and "Traceback" not in refused.stderr


def test_without_dulwich_reading_a_clone_is_one_line_naming_the_extra(monkeypatch, tmp_path):
    from proctor.errors import UnavailableError
    from proctor.measure._swebench import tree_at

    monkeypatch.setitem(sys.modules, "dulwich.repo", None)  # as if the repo extra were not installed
    with pytest.raises(UnavailableError, match=r"pip install 'proctor\[repo\]'"):
        tree_at(tmp_path, "0" * 40)
