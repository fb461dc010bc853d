"""`proctor tasks synthesize`: repository tasks made by faults a repository's own tests catch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from proctor.measure import synthesize
from proctor.models import Proposal
from proctor.tasks._repo import as_task, load_repo_task
from proctor.verifiers import default_pipeline

REPOSITORY = Path(__file__).parent / "data" / "mini_repo"


def test_synthesized_tasks_accept_their_reference_fix_and_reject_the_unfixed_state(namespace_sandbox, tmp_path):
    made = synthesize(REPOSITORY, tmp_path / "tasks", namespace_sandbox, limit=2)
    assert len(made) == 2
    for synthesized in made:
        repo = load_repo_task(synthesized.directory)
        task = as_task(repo)
        assert repo.fail_to_pass == synthesized.fail_to_pass and task.reference
        assert set(repo.fail_to_pass).isdisjoint(repo.pass_to_pass)
        shown = {path for path in repo.base_files() if path.startswith("tests/")}
        assert shown.isdisjoint(i.partition("::")[0] for i in repo.fail_to_pass)  # what the failing tests assert is not shown
        faulty = (synthesized.directory / "repo" / synthesized.file).read_text()
        assert faulty != (REPOSITORY / synthesized.file).read_text()  # the fault is in the base
        removed = [line for line in task.reference.splitlines() if line.startswith("-") and not line.startswith("---")]
        assert len(removed) == 1  # one line changed, the rest of the file as it was
        pipeline = default_pipeline(task, namespace_sandbox)
        fixed = pipeline.verify(task, Proposal(task_id=task.id, code=task.reference))
        assert fixed.passed, fixed.detail
        unfixed = pipeline.verify(task, Proposal(task_id=task.id, code=_no_op(synthesized.file)))
        assert not unfixed.passed and "do not pass" in unfixed.detail, unfixed.detail


def _no_op(file: str) -> str:
    """A patch that adds a file no test reads: it leaves the fault in ``file`` in place."""
    return "diff --git a/NOTES.md b/NOTES.md\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES.md\n@@ -0,0 +1 @@\n+looked at it\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proctor", "tasks", "synthesize", *args], capture_output=True, text=True)


def test_the_cli_writes_tasks_and_refuses_bad_input_in_one_line(tmp_path):
    done = _cli(str(REPOSITORY), "-o", str(tmp_path / "out"), "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert "1 task(s)" in done.stdout and (tmp_path / "out" / "mini_repo-1" / "task.toml").is_file()
    for args, why in (
        ([str(tmp_path), "-o", str(tmp_path / "x")], "no tests/ directory"),
        ([str(REPOSITORY), "-o", str(tmp_path / "y"), "--test-command", "make check"], "must run pytest"),
    ):
        refused = _cli(*args)
        assert refused.returncode == 2 and why in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr


def test_synthesize_never_writes_over_a_task_already_there(namespace_sandbox, tmp_path):
    from proctor.errors import InputError

    (tmp_path / "mini_repo-1").mkdir()
    with pytest.raises(InputError, match="exists already"):
        synthesize(REPOSITORY, tmp_path, namespace_sandbox, limit=1)
