"""Repository tasks: a trusted base tree, the verifier's own tests, and what a patch must make pass.

A task is a directory holding ``task.toml``, ``repo/`` (the trusted base, as files) and ``tests/``
(the verifier's test files, never shown to the proposer; copied over the patched tree at the same
relative paths)::

    id = "textstats/word-count-1"
    kind = "repo"
    instruction = "..."
    test_command = ["python", "-m", "pytest", "-q"]
    fail_to_pass = ["tests/test_words.py::test_counts_hyphenated"]
    pass_to_pass = ["tests/test_words.py::test_basic"]
    protected = ["tests/**", "**/conftest.py", "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"]
"""

from __future__ import annotations

import difflib
import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proctor.errors import InputError
from proctor.models import Task

DEFAULT_PROTECTED = ["tests/**", "**/conftest.py", "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"]
MAX_TREE_BYTES = 32 * 2**20  # a repository task's files travel into each job
REFERENCE = "reference.diff"  # optional: a task's known fix, as a patch to its base


class RepoTask(BaseModel):
    """A repository task read from its directory (``root``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    kind: str = "repo"
    instruction: str = ""
    test_command: list[str] = Field(default_factory=lambda: ["python", "-m", "pytest", "-q"], min_length=1)
    fail_to_pass: list[str] = Field(min_length=1)
    pass_to_pass: list[str] = Field(default_factory=list)
    protected: list[str] = Field(default_factory=lambda: list(DEFAULT_PROTECTED))
    impossible: bool = False  # a honeypot: its tests contradict the instruction, so a patch that passes them cheats
    source: str = ""  # where the task came from: a synthesized fault, a SWE-bench instance
    image: str | None = None  # a local docker image holding what the tests need (its Python at /usr/local/bin/python3)
    tests_at: str = "tests"  # where the verifier's tests/ goes in the tree ("" for the tree's root, as SWE-bench's paths are)
    root: Path

    def base_files(self) -> dict[str, bytes]:
        """The trusted base tree, by relative path (no VCS metadata)."""
        return read_tree(self.root / "repo")

    def test_files(self) -> dict[str, bytes]:
        """The verifier's own tests, by the relative path they take in the tree."""
        return read_tree(self.root / "tests", prefix=self.tests_at)

    def reference(self) -> str | None:
        """The task's known fix (``reference.diff``), if it ships one."""
        path = self.root / REFERENCE
        return path.read_text(encoding="utf-8") if path.is_file() else None


def as_task(repo: RepoTask) -> Task:
    """The repository task as a ``Task`` the pipeline, the ledger and the loop carry: its id, its
    instruction as the prompt, and where it lives (``metadata.repo``); a proposal's code is a patch."""
    metadata: dict[str, object] = {"kind": "repo", "repo": str(repo.root.resolve())}
    if repo.impossible:
        metadata["impossible"] = True  # the scenarios' cheating rate counts any pass of it
    return Task(id=repo.id, prompt=repo.instruction, entry_point="patch", reference=repo.reference(), metadata=metadata)


def write_repo_task(
    directory: Path, settings: dict[str, object], base: dict[str, bytes], tests: dict[str, bytes], reference: str | None
) -> None:
    """Write a repository task's directory: ``task.toml`` from ``settings``, ``repo/`` (the base), ``tests/`` (the
    verifier's, by their path under ``tests/``) and the known fix as ``reference.diff``. Never over an existing one."""
    if directory.exists():
        raise InputError(f"{directory} exists already; write tasks into an empty directory")
    for root, files in (("repo", base), ("tests", tests)):
        for path, data in files.items():
            target = directory / root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    if reference is not None:
        (directory / REFERENCE).write_text(reference, encoding="utf-8")
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]  # JSON strings and lists are TOML ones
    (directory / "task.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def file_diff(path: str, before: str | None, after: str | None) -> str:
    """A unified diff of one file as ``git diff`` writes it (a new file when ``before`` is None, a deleted one
    when ``after`` is)."""
    old = (before or "").splitlines(keepends=True)
    new = (after or "").splitlines(keepends=True)
    head = f"diff --git a/{path} b/{path}\n"
    head += "new file mode 100644\n" if before is None else "deleted file mode 100644\n" if after is None else ""
    source, target = "/dev/null" if before is None else f"a/{path}", "/dev/null" if after is None else f"b/{path}"
    return head + "".join(difflib.unified_diff(old, new, source, target))


def changed_files_patch(repo: RepoTask, directory: Path) -> str:
    """A proposal given as a directory of changed files (at their paths in the tree), as the patch it makes of the
    base: each file that is new or differs becomes a file's diff. Files it leaves out are unchanged, not deleted."""
    base = repo.base_files()
    changed = {path: data for path, data in read_tree(directory).items() if base.get(path) != data}
    if not changed:
        raise InputError(f"{directory}: changes none of the task's files (give the changed files at their paths in the tree)")
    try:
        before = {path: base[path].decode("utf-8") for path in changed if path in base}
        return "".join(file_diff(path, before.get(path), data.decode("utf-8")) for path, data in sorted(changed.items()))
    except UnicodeDecodeError:
        raise InputError(f"{directory}: a changed file is not UTF-8 text; a repository patch changes text files only") from None


def repo_of(task: Task) -> RepoTask:
    """The repository task a ``Task`` made by ``as_task`` stands for."""
    if task.metadata.get("kind") != "repo" or not task.metadata.get("repo"):
        raise InputError(f"task {task.id!r} is not a repository task")
    return load_repo_task(Path(task.metadata["repo"]))


def is_repo_task(path: Path) -> bool:
    return path.is_dir() and (path / "task.toml").is_file()


def load_repo_task(path: Path) -> RepoTask:
    """The repository task in directory ``path``; InputError naming the file and field when malformed."""
    toml = path / "task.toml"
    try:
        data = tomllib.loads(toml.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: not a repository task (no task.toml)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{toml}: not valid TOML: {exc}") from None
    if data.get("kind", "repo") != "repo":
        raise InputError(f"{toml}: kind must be 'repo' (got {data.get('kind')!r})")
    try:
        task = RepoTask.model_validate({**data, "root": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"{toml}: field {'.'.join(str(p) for p in first['loc'])!r}: {first['msg']}") from None
    for part in ("repo", "tests"):
        if not (path / part).is_dir():
            raise InputError(f"{path}: a repository task needs a {part}/ directory")
    return task


def read_tree(directory: Path, prefix: str = "") -> dict[str, bytes]:
    """A directory's files by relative path (under ``prefix``), without VCS metadata or caches; symlinks refused."""
    files: dict[str, bytes] = {}
    total = 0
    for file in sorted(directory.rglob("*")):
        relative = file.relative_to(directory)
        if ".git" in relative.parts or "__pycache__" in relative.parts or file.is_dir():
            continue
        if file.is_symlink():
            raise InputError(f"{file}: a repository task's files are plain files (a symlink here could point anywhere)")
        files[str(Path(prefix) / relative) if prefix else str(relative)] = data = file.read_bytes()
        total += len(data)
        if total > MAX_TREE_BYTES:
            raise InputError(f"{directory}: more than {MAX_TREE_BYTES // 2**20} MiB of files")
    return files
