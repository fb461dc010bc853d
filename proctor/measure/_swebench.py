"""Repository tasks from SWE-bench instances whose repository is cloned locally.

An instance (SWE-bench's fields: ``instance_id``, ``repo``, ``base_commit``, ``patch``, ``test_patch``,
``FAIL_TO_PASS``, ``PASS_TO_PASS``) becomes a task directory: the tree at ``base_commit`` (read from the
local clone with dulwich; nothing runs git on the host) is the base, the files ``test_patch`` touches,
after it is applied (by ``git apply`` in the sandbox, as every patch is), are the verifier's tests and
protected, and ``patch`` is the reference fix. Only pytest ids are supported: SWE-bench's Django
instances name tests another way and are refused, one line each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proctor.errors import InputError, UnavailableError
from proctor.sandboxes import Sandbox
from proctor.tasks._repo import DEFAULT_PROTECTED, MAX_TREE_BYTES, write_repo_task
from proctor.verifiers._repo import applied

FIELDS = ("instance_id", "repo", "base_commit", "patch", "test_patch", "FAIL_TO_PASS", "PASS_TO_PASS")
_REGULAR, _EXECUTABLE = 0o100644, 0o100755  # tree entries kept: plain files (symlinks and submodules are not)


def read_instances(path: Path) -> list[dict[str, Any]]:
    """The instances in ``path``: a JSON list or object, or JSON Lines; InputError naming the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the instances: {exc}") from None
    try:
        whole = json.loads(text)
        records = whole if isinstance(whole, list) else [whole]
    except json.JSONDecodeError:
        try:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not JSON or JSON Lines: {exc}") from None
    for number, record in enumerate(records, 1):
        missing = [f for f in FIELDS if not isinstance(record, dict) or f not in record]
        if missing:
            raise InputError(f"{path}: instance {number} lacks {', '.join(missing)} (SWE-bench's fields: {', '.join(FIELDS)})")
    return records


def tasks_from_instances(
    path: Path,
    repos: Path,
    out: Path,
    sandbox: Sandbox,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Path]:
    """Write one repository task per instance in ``path`` into ``out``, each from its clone under ``repos``."""
    written = []
    for instance in read_instances(path):
        directory = out / instance["instance_id"].replace("/", "__")
        write_instance(instance, _clone(repos, instance["repo"]), directory, sandbox)
        written.append(directory)
        progress(f"{directory.name}: base {instance['base_commit'][:12]}, {len(_ids(instance, 'FAIL_TO_PASS'))} fail-to-pass")
    return written


def write_instance(instance: dict[str, Any], clone: Path, directory: Path, sandbox: Sandbox) -> None:
    """One instance as a task directory (see the module's docstring)."""
    name = instance["instance_id"]
    fail, keep = _ids(instance, "FAIL_TO_PASS"), _ids(instance, "PASS_TO_PASS")
    base = tree_at(clone, instance["base_commit"], name)
    try:
        changes, with_tests = applied(instance["test_patch"], base, sandbox)
    except InputError as exc:
        raise InputError(f"{name}: its test_patch: {exc}") from None
    tests = {c.path: with_tests[c.path] for c in changes if c.path in with_tests}
    settings: dict[str, object] = {
        "id": name,
        "kind": "repo",
        "instruction": str(instance.get("problem_statement", "")),
        "test_command": ["python", "-m", "pytest", "-q"],
        "fail_to_pass": fail,
        "pass_to_pass": keep,
        "protected": [*DEFAULT_PROTECTED, *sorted(c.path for c in changes)],
        "tests_at": "",
        "source": f"SWE-bench instance {name} ({instance['repo']} at {instance['base_commit']})",
    }
    write_repo_task(directory, settings, base, tests, instance["patch"])


def _ids(instance: dict[str, Any], field: str) -> list[str]:
    value = instance[field]
    ids = json.loads(value) if isinstance(value, str) else value  # SWE-bench stores them as JSON text
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InputError(f"{instance['instance_id']}: {field} must be a list of test ids")
    strange = next((i for i in ids if "::" not in i), None)
    if strange is not None:
        raise InputError(
            f"{instance['instance_id']}: {field} holds {strange!r}, not a pytest id (path::name); only pytest repositories"
        )
    return ids


def _clone(repos: Path, repo: str) -> Path:
    """The local clone of ``owner/name``: ``repos/owner__name`` (SWE-bench's spelling), ``repos/owner/name`` or ``repos/name``."""
    owner, _, name = repo.partition("/")
    for candidate in (repos / f"{owner}__{name}", repos / owner / name, repos / (name or owner)):
        if (candidate / ".git").exists() or (candidate / "objects").is_dir():
            return candidate
    raise InputError(
        f"no local clone of {repo} under {repos} (looked for {owner}__{name}, {repo}, {name or owner}); git clone it there"
    )


def tree_at(clone: Path, commit: str, name: str = "") -> dict[str, bytes]:
    """The files of ``commit`` in ``clone``, by path, read with dulwich (plain files only; no .git)."""
    try:
        from dulwich.errors import NotGitRepository
        from dulwich.object_store import iter_tree_contents
        from dulwich.objects import Commit
        from dulwich.repo import Repo
    except ImportError:
        raise UnavailableError("reading a clone's commits needs dulwich: pip install 'proctor[repo]'") from None

    try:
        with Repo(str(clone)) as repository:
            try:
                found = repository[commit.encode()]
            except (KeyError, ValueError):
                found = None
            if not isinstance(found, Commit):
                raise InputError(f"{name or clone}: commit {commit!r} is not in {clone}; git fetch it there")
            tree = found.tree
            files: dict[str, bytes] = {}
            total = 0
            for entry in iter_tree_contents(repository.object_store, tree):
                if entry.mode not in (_REGULAR, _EXECUTABLE):
                    continue
                data = repository[entry.sha].as_raw_string()
                total += len(data)
                if total > MAX_TREE_BYTES:
                    raise InputError(f"{name or clone}: the tree at {commit[:12]} holds more than {MAX_TREE_BYTES >> 20} MiB of files")
                files[entry.path.decode("utf-8", "surrogateescape")] = data
            return files
    except NotGitRepository:
        raise InputError(f"{clone}: not a git repository") from None
