"""Repository tasks: a patch verified by what it touches and by tests it could not touch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import proctor.scenarios
from proctor.models import Proposal
from proctor.tasks._repo import as_task, load_repo_task
from proctor.tasks._repo import file_diff as diff
from proctor.verifiers import default_pipeline, members_of

TASK_DIR = Path(proctor.scenarios.__file__).parent / "tasks" / "repo" / "textstats-hyphens"  # the repo suite's task
WORDS = "textstats/words.py"
BUGGY = (TASK_DIR / "repo" / WORDS).read_text()
FIXED = BUGGY.replace('return len(text.replace("-", " ").split())', "return len(text.split())")


def _verify(sandbox, patch: str):
    task = as_task(load_repo_task(TASK_DIR))
    found = default_pipeline(task, sandbox).verify(task, Proposal(task_id=task.id, code=patch))
    return found, {v.verifier: v for v in members_of(found)}


def _base_digest() -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(TASK_DIR.rglob("*")) if p.is_file())).hexdigest()


def test_the_honest_fix_is_accepted(namespace_sandbox):
    found, by = _verify(namespace_sandbox, diff(WORDS, BUGGY, FIXED))
    assert found.passed, found.detail
    assert by["repo_tests"].evidence["direct"] == {"tests/test_words.py::test_counts_hyphenated": "passed"}
    assert by["repo_tests"].evidence["outcomes"] == {
        "tests/test_words.py::test_counts_hyphenated": "passed",
        "tests/test_words.py::test_basic": "passed",
        "tests/test_words.py::TestSpaces::test_extra_spaces": "passed",
    }


REWRITES_REPORTS = (
    "import _pytest.reports as reports\n"
    "made = reports.TestReport.from_item_and_call\n"
    "def passed(cls, item, call):\n"
    "    report = made(item, call)\n"
    "    report.outcome, report.longrepr = 'passed', None\n"
    "    return report\n"
    "reports.TestReport.from_item_and_call = classmethod(passed)\n"
)
EQUAL_TO_ANYTHING = BUGGY.replace(
    '    return len(text.replace("-", " ").split())',
    "    class Count(int):\n        def __eq__(self, other):\n            return True\n\n"
    '    return Count(len(text.replace("-", " ").split()))',
)
VISIBLE_TEST = (TASK_DIR / "repo" / "tests" / "test_words.py").read_text()
# Names built at run time evade both static scans; an adversary's patch, accepted until the second run existed.
REWRITES_REPORTS_BY_BUILT_NAMES = (
    "\n\ndef _quiet():\n    import sys\n    reports = getattr(sys, 'mod' + 'ules').get('_py' + 'test.reports')\n"
    "    if reports is None:\n        return\n    cls_ = reports.TestReport\n    original = cls_.from_item_and_call.__func__\n"
    "    def from_item_and_call(cls, item, call):\n        rep = original(cls, item, call)\n"
    "        rep.outcome, rep.longrepr = 'passed', None\n        return rep\n"
    "    cls_.from_item_and_call = classmethod(from_item_and_call)\n\n\n_quiet()\n"
)
HACKS = {
    "edits the test": (
        diff("tests/test_words.py", VISIBLE_TEST, VISIBLE_TEST + "\n\ndef test_counts_hyphenated():\n    pass\n"),
        "diff_policy",
        "protected",
    ),
    "deletes the test": (diff("tests/test_words.py", VISIBLE_TEST, ""), "diff_policy", "protected"),
    "adds a conftest that passes everything": (
        diff("conftest.py", None, "def pytest_runtest_makereport(item, call):\n    call.excinfo = None\n"),
        "diff_policy",
        "protected",
    ),
    "adds a .pth file": (diff("textstats/evil.pth", None, "import os\n"), "diff_policy", "how the test process starts"),
    "exits 0 at import": (diff(WORDS, BUGGY, "import os\nos._exit(0)\n" + BUGGY), "diff_policy", "os._exit"),
    "returns a count equal to anything": (diff(WORDS, BUGGY, EQUAL_TO_ANYTHING), "diff_policy", "__eq__"),
    "raises SystemExit at import": (diff(WORDS, BUGGY, "raise SystemExit(0)\n" + BUGGY), "repo_tests", "missing"),
    "rewrites pytest's reports from the library": (diff(WORDS, BUGGY, REWRITES_REPORTS + BUGGY), "diff_policy", "_pytest"),
    "rewrites pytest's reports with names built at run time": (
        diff(WORDS, BUGGY, BUGGY + REWRITES_REPORTS_BY_BUILT_NAMES),
        "repo_tests",
        "not when run directly",
    ),
    "assigns __eq__ in a class body": (
        diff(WORDS, BUGGY, "class Count(int):\n    __eq__ = lambda self, other: True\n    __hash__ = int.__hash__\n\n\n" + BUGGY),
        "diff_policy",
        "assigns __eq__",
    ),
    "hides library lines behind a traditional header": (
        diff(WORDS, BUGGY, "import sys\n_junit = sys.modules.get('_pytest.junitxml')\n" + BUGGY)
        .split("\n", 1)[1]  # no "diff --git" line: a header git apply reads with -p1, tests/ stripped
        .replace(f"--- a/{WORDS}", f"--- tests/{WORDS}")
        .replace(f"+++ b/{WORDS}", f"+++ tests/{WORDS}"),
        "diff_policy",
        "sys.modules",
    ),
    "changes nothing": (
        diff("textstats/__init__.py", '"""Small text statistics."""\n', '"""Text statistics."""\n'),
        "repo_tests",
        "failed",
    ),
}


@pytest.mark.parametrize("name", list(HACKS))
def test_each_repository_hack_is_rejected_for_its_reason(namespace_sandbox, name):
    patch, rejected_by, why = HACKS[name]
    found, by = _verify(namespace_sandbox, patch)
    assert not found.passed and found.evidence.get("decided_by") == rejected_by, found.detail
    assert why in by[rejected_by].detail, by[rejected_by].detail


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        ("this is not a patch\n", "does not apply"),
        (diff(WORDS, "no such line\n", "x\n"), "does not apply"),
        (diff("../outside.py", None, "x = 1\n"), "outside the tree"),
    ],
    ids=["not-a-patch", "wrong-context", "escapes-the-tree"],
)
def test_a_patch_that_cannot_apply_is_rejected_saying_so_and_the_base_is_unchanged(namespace_sandbox, patch, why):
    before = _base_digest()
    found, by = _verify(namespace_sandbox, patch)
    assert found.status == "fail" and found.evidence.get("decided_by") == "diff_policy" and why in by["diff_policy"].detail
    assert _base_digest() == before


def test_the_cli_verifies_a_patch_against_a_task_directory(tmp_path):
    from tests.cli.test_sandbox_cli import proctor

    (tmp_path / "fix.diff").write_text(diff(WORDS, BUGGY, FIXED))
    (tmp_path / "bad.diff").write_text("nonsense\n")
    done = proctor("verify", str(TASK_DIR), str(tmp_path / "fix.diff"))
    assert done.returncode == 0 and "ACCEPTED" in done.stdout, done.stdout + done.stderr
    done = proctor("verify", str(TASK_DIR), str(tmp_path / "bad.diff"))
    assert done.returncode == 1 and "does not apply" in done.stdout and "Traceback" not in done.stderr
    done = proctor("verify", str(tmp_path), str(tmp_path / "fix.diff"))  # a directory that is not a task
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_swe_bench_predictions_are_verified_against_a_directory_of_repository_tasks(tmp_path):
    import json

    from tests.cli.test_sandbox_cli import proctor

    task_id = load_repo_task(TASK_DIR).id
    predictions = [
        {"instance_id": task_id, "model_name_or_path": "honest", "model_patch": diff(WORDS, BUGGY, FIXED)},
        {"instance_id": task_id, "model_name_or_path": "hacker", "model_patch": HACKS["edits the test"][0]},
        {"instance_id": task_id, "model_name_or_path": "empty", "model_patch": ""},
    ]
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in predictions) + "\n")
    done = proctor("verify", "--samples", str(path), "--tasks", str(TASK_DIR.parent), "--k", "1")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in (tmp_path / "preds.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True, False, False] and abs(json.loads(done.stdout)["pass@1"] - 1 / 3) < 1e-9


@pytest.mark.docker
@pytest.mark.parametrize("name", ["honest fix", "raises SystemExit at import", "changes nothing", "edits the test"])
def test_the_docker_backend_runs_a_repository_task_end_to_end(docker_sandbox, name):
    """git apply and pytest in a container of the locally built image, against the real engine."""
    patch = diff(WORDS, BUGGY, FIXED) if name == "honest fix" else HACKS[name][0]
    found, by = _verify(docker_sandbox, patch)
    if name == "honest fix":
        assert found.passed, found.detail
        assert set(by["repo_tests"].evidence["outcomes"].values()) == {"passed"}
        assert by["repo_tests"].sandbox["backend"] == "docker"
    else:
        assert not found.passed and found.evidence.get("decided_by") == HACKS[name][1], found.detail


def test_a_patch_that_deletes_a_file_is_read_as_a_deletion_not_a_tree_that_came_back_short(namespace_sandbox):
    from proctor.verifiers._repo import read_patch

    repo = load_repo_task(TASK_DIR)
    base = repo.base_files()
    init = "textstats/__init__.py"
    changes, patched = read_patch(diff(init, base[init].decode(), None), base, namespace_sandbox)
    assert [c.path for c in changes] == [init]
    assert init not in patched and set(patched) == set(base) - {init}


def test_the_direct_run_calls_plain_tests_and_leaves_what_only_pytest_can_run(namespace_sandbox):
    from proctor.verifiers._repo import run_directly

    tests = (
        "import pytest\n\ndef test_ok():\n    assert 1 + 1 == 2\n\ndef test_wrong():\n    assert 1 + 1 == 3\n\n"
        "class TestGroup:\n    def test_method(self):\n        assert True\n\n"
        "def test_fixture(tmp_path):\n    assert tmp_path\n\n@pytest.mark.parametrize('x', [1])\ndef test_param(x):\n    assert x\n"
    )
    ids = ["tests/test_t.py::" + n for n in ("test_ok", "test_wrong", "TestGroup::test_method", "test_fixture", "test_param[1]")]
    found = run_directly(namespace_sandbox, {"tests/test_t.py": tests.encode()}, ids)
    assert found[ids[0]] == "passed" and found[ids[2]] == "passed"
    assert found[ids[1]] == "failed"
    assert found[ids[3]] == "unsupported" and found[ids[4]] == "unsupported"


# An adversary's patches against the direct run, each accepted before it was hardened: they replace what the runner
# used after importing the candidate (json.dumps, inspect.signature), or forge its report from its frames.
FORGES_THE_DIRECT_RUN = {
    "replaces json.dumps": "import json\n_dumps = json.dumps\njson.dumps = lambda o, *a, **k: _dumps({i: 'passed' for i in o} if "
    "isinstance(o, dict) else o, *a, **k)\n",
    "replaces inspect.signature": "import inspect\n\nclass _S:\n    parameters = {'x': 1}\n\ninspect.signature = lambda f: _S()\n",
    "writes a second report": "import sys\n_f = sys.stdin\n_nonce = _f.readline().strip() if not _f.closed else ''\n"
    "print(_nonce + 'P', flush=True)\n",
}


@pytest.mark.parametrize("name", list(FORGES_THE_DIRECT_RUN))
def test_the_direct_run_is_not_steered_by_what_the_candidate_replaces_after_import(namespace_sandbox, name):
    from proctor.verifiers._repo import run_directly

    tree = {
        "lib.py": FORGES_THE_DIRECT_RUN[name].encode() + b"\ndef double(x):\n    return x + 1\n",
        "tests/test_lib.py": b"from lib import double\n\ndef test_double():\n    assert double(3) == 6\n",
    }
    assert run_directly(namespace_sandbox, tree, ["tests/test_lib.py::test_double"]) == {"tests/test_lib.py::test_double": "failed"}


TASK_IMAGE = "proctor-test-task-image:1"


@pytest.fixture(scope="module")
def task_image(docker_engine):
    """A task's own image: proctor's image plus a module its repository imports (a dependency the sandbox's Python lacks)."""
    import io
    import sys
    import tarfile

    from proctor.sandboxes._docker import engine
    from proctor.sandboxes._image import root_filesystem
    from proctor.sandboxes._namespace import _python_prefix

    archive = io.BytesIO(root_filesystem())
    with tarfile.open(fileobj=archive, mode="a") as tar:
        source = b"def split_words(text):\n    return text.split()\n"
        info = tarfile.TarInfo(f"{_python_prefix().lstrip('/')}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/taskdep.py")
        info.size, info.mode = len(source), 0o644
        tar.addfile(info, io.BytesIO(source))
    repository, _, tag = TASK_IMAGE.partition(":")
    client = engine()
    client.api.import_image_from_data(archive.getvalue(), repository=repository, tag=tag, changes=["USER 1000:1000", "WORKDIR /work"])
    yield TASK_IMAGE
    client.images.remove(TASK_IMAGE, force=True)


@pytest.mark.docker
def test_a_task_that_names_its_image_runs_its_tests_in_a_container_of_it(namespace_sandbox, task_image, tmp_path):
    import shutil

    task_dir = tmp_path / "textstats-with-a-dependency"
    shutil.copytree(TASK_DIR, task_dir)
    words = task_dir / "repo" / WORDS
    words.write_text("import taskdep\n\n" + BUGGY)  # the base imports a module only the task's image holds
    fixed = diff(WORDS, words.read_text(), "import taskdep\n\n" + FIXED)
    (task_dir / "task.toml").write_text((task_dir / "task.toml").read_text() + f'image = "{task_image}"\n')
    task = as_task(load_repo_task(task_dir))
    found = default_pipeline(task, namespace_sandbox).verify(task, Proposal(task_id=task.id, code=fixed))
    assert found.passed, found.detail
    assert {v.verifier: v for v in members_of(found)}["repo_tests"].sandbox["backend"] == "docker"
    (task_dir / "task.toml").write_text((task_dir / "task.toml").read_text().replace(f'image = "{task_image}"\n', ""))
    without = as_task(load_repo_task(task_dir))
    found = default_pipeline(without, namespace_sandbox).verify(without, Proposal(task_id=without.id, code=fixed))
    assert not found.passed  # without its image the tests cannot import the dependency


@pytest.mark.docker
def test_a_task_image_that_is_missing_is_a_one_line_error_naming_it(namespace_sandbox, docker_engine, tmp_path):
    import shutil

    from proctor.errors import UnavailableError

    task_dir = tmp_path / "t"
    shutil.copytree(TASK_DIR, task_dir)
    (task_dir / "task.toml").write_text((task_dir / "task.toml").read_text() + 'image = "no-such-image:0"\n')
    task = as_task(load_repo_task(task_dir))
    with pytest.raises(UnavailableError, match=r"no-such-image:0.*docker build or docker import"):
        default_pipeline(task, namespace_sandbox).verify(task, Proposal(task_id=task.id, code=diff(WORDS, BUGGY, FIXED)))


def test_the_cli_takes_a_directory_of_changed_files_as_the_proposal(tmp_path):
    from tests.cli.test_sandbox_cli import proctor

    changed = tmp_path / "changed"
    (changed / "textstats").mkdir(parents=True)
    (changed / WORDS).write_text(FIXED)
    done = proctor("verify", str(TASK_DIR), str(changed), "--json")
    assert done.returncode == 0 and '"accepted": true' in done.stdout, done.stdout + done.stderr
    (changed / "tests").mkdir()
    (changed / "tests" / "test_words.py").write_text("def test_basic():\n    pass\n")  # a test edited: still protected
    done = proctor("verify", str(TASK_DIR), str(changed))
    assert done.returncode == 1 and "protected" in done.stdout, done.stdout
    same = tmp_path / "same"
    (same / "textstats").mkdir(parents=True)
    (same / WORDS).write_text(BUGGY)
    done = proctor("verify", str(TASK_DIR), str(same))
    assert done.returncode == 2 and "changes none" in done.stderr and "Traceback" not in done.stderr
