"""A patch to a repository task: what it touches (``diff_policy``) and what the task's tests say of it (``repo_tests``).

The patch is a unified diff, read and applied by ``git apply`` in the sandbox, to a fresh copy of the
trusted base outside any repository (so no history to read). Paths that escape the tree, binary changes and
symlinks are refused. ``repo_tests`` then restores every protected path from the trusted base,
copies the verifier's own tests over the tree, and runs pytest in the sandbox on exactly the
task's fail-to-pass and pass-to-pass ids, with pytest itself shipped into the job (the sandbox's
Python has only its standard library). Every id must be reported passed: a missing, skipped,
errored or xfailed one fails.

Test code and the candidate's code share the test process, so a patch could in principle rewrite
pytest's reporting from inside (that is why ``diff_policy`` refuses plugins, ``conftest.py``,
``sitecustomize``, ``.pth`` files and configuration, the runner writes its report to a name the
job learns only on stdin, and leaves with ``os._exit`` before any exit handler of the candidate's
runs); what remains is said in docs/architecture.md.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import hashlib
import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from proctor.errors import InputError, UnavailableError
from proctor.models import Limits, Proposal, Task, Verdict, VerdictStatus
from proctor.sandboxes import PYTHON, Job, Sandbox
from proctor.tasks._repo import repo_of
from proctor.verifiers._base import Timer, digest, module_file, provenance, register_verifier, sandbox_name, verdict

FORBIDDEN_NAMES = {"conftest.py", "sitecustomize.py", "usercustomize.py", "setup.py", "setup.cfg", "pyproject.toml", "tox.ini"}
FORBIDDEN_NAMES |= {"pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml"}  # every file pytest 9 reads its configuration from
FORBIDDEN_DIRECTORIES = (".dist-info", ".egg-info")  # installed-package metadata: entry points pytest would load as plugins
FORBIDDEN_SUFFIXES = (".pth",)
PYTEST_PACKAGES = ("pytest", "_pytest", "py", "pluggy", "iniconfig", "packaging", "pygments")
PYGMENTS_LEXERS = {"__init__.py", "_mapping.py", "python.py", "diff.py"}
SITE = "_proctor_site"
RUNNER = "_proctor_run_tests.py"
REPO_LIMITS = Limits(wall_seconds=120.0, cpu_seconds=60.0)
PATCH_LIMITS = Limits(wall_seconds=30.0, cpu_seconds=20.0, file_size_bytes=32 * 2**20, disk_bytes=256 * 2**20, output_bytes=32 * 2**20)
GIT = "/usr/bin/git"
GIT_ENV = {"GIT_DIR": "/nonexistent", "HOME": "/tmp", "GIT_CONFIG_NOSYSTEM": "1"}  # no repository, no config to read
PATCH = ".proctor.patch"

RUNNER_SOURCE = """
import os, sys
exit, flush = os._exit, sys.stdout.flush  # held before any of the candidate's code can replace them
report = sys.stdin.readline().strip()  # learnt before any of the candidate's code is imported
tree = os.getcwd()
sys.path[:] = [os.path.join(tree, "_proctor_site")] + [p for p in sys.path if p not in (tree, "")] + [tree]
import pytest
code = pytest.main(["-p", "no:cacheprovider", "-o", "junit_family=xunit1", "--import-mode=importlib",
                    "--junitxml", report, *sys.argv[1:]])
flush()
exit(0 if code in (0, 1) else 3)  # no exit handler of the candidate's runs after the report
"""


PLAIN_RUNNER = "_proctor_run_directly.py"
PLAIN_RUNNER_SOURCE = """
import ast, importlib.util, json, os, sys

def plain(source, names):
    # From the trusted test file's syntax, before any of the candidate's code runs: a test pytest alone
    # can run (fixtures, parametrized, marked) is left to pytest.
    scope = ast.parse(source).body
    for name in names:
        found = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name]
        if not found or found[0].decorator_list:
            return False
        scope = found[0].body
    test = found[0]
    return isinstance(test, ast.FunctionDef) and len(test.args.args) == (1 if len(names) > 1 else 0) and not (
        test.args.vararg or test.args.kwarg or test.args.kwonlyargs)

def main(write=os.write, exit=os._exit, out=os.dup(1), readline=sys.stdin.readline, join=os.path.join, attribute=getattr,
         locate=importlib.util.spec_from_file_location, make=importlib.util.module_from_spec):
    # Everything the run and its report need is bound here, before the candidate's code is imported: locals it
    # cannot rebind (its code shares this process, so this raises the bar; it does not make the process trusted).
    nonce, ids = readline().strip(), json.loads(readline())
    tree = os.getcwd()
    runnable = []
    for test_id in ids:
        path, *names = test_id.split("::")
        try:
            with open(join(tree, path), encoding="utf-8") as handle:
                runnable.append(bool(names) and "[" not in test_id and plain(handle.read(), names))
        except (OSError, SyntaxError, ValueError):
            runnable.append(False)
    sys.path[:] = [join(tree, "_proctor_site")] + [p for p in sys.path if p not in (tree, "")] + [tree]
    modules, letters = {}, []
    for test_id, run in zip(ids, runnable):
        if not run:
            letters.append("U")
            continue
        path, *names = test_id.split("::")
        letter = "F"
        try:
            if path not in modules:
                spec = locate("proctor_direct_%d" % len(modules), join(tree, path))
                modules[path] = make(spec)
                spec.loader.exec_module(modules[path])
            target = modules[path]
            for name in names[:-1]:
                target = attribute(target, name)()  # a test class, as pytest makes one per test
            attribute(target, names[-1])()
            letter = "P"
        except BaseException:
            pass
        letters.append(letter)
    write(out, (nonce + "".join(letters) + "\\n").encode())
    exit(0)

main()
"""


@dataclass(frozen=True)
class Change:
    """One path a patch touches, as ``git apply --numstat`` reads it."""

    path: str
    binary: bool


def read_patch(patch: str, base: dict[str, bytes], sandbox: Sandbox) -> tuple[list[Change], dict[str, bytes]]:
    """What ``patch`` touches and the tree it makes of ``base``; InputError (one line) when it cannot apply.

    ``git apply`` reads and applies the patch in the sandbox, on a copy of the base outside any
    repository: the patch is the proposer's, and so is whatever it might do to a parser.
    """
    if not Path(GIT).exists():
        raise UnavailableError(f"repository tasks apply patches with git, and {GIT} is missing: apt-get install git")
    files = {**base, PATCH: patch.encode()}
    changes = _changes(_git(sandbox, files, "--numstat", "-z").decode("utf-8", "replace"))
    summary = _git(sandbox, files, "--summary").decode("utf-8", "replace")
    if "mode 120000" in summary:
        raise InputError("the patch makes a symlink; a repository patch changes plain files only")
    # each deletion reads " delete mode 100644 PATH"
    deleted = {line.split(" ", 4)[4] for line in summary.splitlines() if line.startswith(" delete mode ")}
    expected = (set(base) | {c.path for c in changes}) - deleted
    job = Job(command=[GIT, "apply", "--whitespace=nowarn", PATCH], files=files, env=GIT_ENV, collect=sorted(expected))
    applied = sandbox.run(job, PATCH_LIMITS)
    _check_git(applied)
    lost = sorted(expected - set(applied.files))
    if lost:  # a file past the job's limits is not brought back: never test a tree with a hole in it
        raise InputError(f"the patched tree could not be read back whole (too large?): {', '.join(lost[:3])}")
    return changes, dict(applied.files)


_APPLIED: OrderedDict[tuple[str, str], tuple[list[Change], dict[str, bytes]]] = OrderedDict()
_APPLIED_LOCK = threading.Lock()


def applied(patch: str, base: dict[str, bytes], sandbox: Sandbox) -> tuple[list[Change], dict[str, bytes]]:
    """``read_patch``, remembered for the last few (patch, base) pairs: ``diff_policy`` and ``repo_tests`` judge
    one tree, applied once (three sandbox jobs) rather than once each."""
    tree = hashlib.sha256()
    for path, data in sorted(base.items()):
        tree.update(f"{path}\0{len(data)}\0".encode() + data)
    key = (hashlib.sha256(patch.encode()).hexdigest(), tree.hexdigest())
    with _APPLIED_LOCK:
        if key in _APPLIED:
            return _APPLIED[key]
    made = read_patch(patch, base, sandbox)
    with _APPLIED_LOCK:
        _APPLIED[key] = made
        while len(_APPLIED) > 8:
            _APPLIED.popitem(last=False)
    return made


def _git(sandbox: Sandbox, files: dict[str, bytes], *options: str) -> bytes:
    result = sandbox.run(Job(command=[GIT, "apply", *options, PATCH], files=files, env=GIT_ENV), PATCH_LIMITS)
    _check_git(result)
    return result.stdout


def _check_git(result: Any) -> None:
    if not result.ok:
        reason = (result.stderr.decode("utf-8", "replace").strip().splitlines() or [result.describe()])[0]
        if result.exit_code == 127:  # the sandbox has no git (a docker image built before it held one)
            raise UnavailableError(f"the sandbox cannot run git ({reason[:200]}); a docker image: rebuild it, proctor sandbox build")
        raise InputError(f"the patch does not apply to the task's base: {reason[:300]}")


def _changes(numstat: str) -> list[Change]:
    fields = numstat.split("\0")
    found, i = [], 0
    while i < len(fields) and fields[i]:
        added, deleted, path = fields[i].split("\t", 2)
        if not path:  # a rename: the two paths follow
            found += [Change(fields[i + 1], added == "-"), Change(fields[i + 2], added == "-")]
            i += 3
            continue
        found.append(Change(path, added == "-" and deleted == "-"))
        i += 1
    for change in found:
        parts = PurePosixPath(change.path).parts
        if change.path.startswith("/") or ".." in parts or ".git" in parts:
            raise InputError(f"the patch reaches outside the tree: {change.path!r}")
    return found


def protected(path: str, patterns: list[str]) -> bool:
    """Whether ``path`` matches one of ``patterns`` (``**`` spans directories, a leading ``**/`` also the root)."""
    return any(fnmatch.fnmatchcase(path, p) or (p.startswith("**/") and fnmatch.fnmatchcase(path, p[3:])) for p in patterns)


REACHES = re.compile(
    r"\b(_pytest|pytest|unittest|sys\.modules|builtins|__builtins__|__import__|importlib|os\._exit|sys\.exit|atexit"
    r"|sys\.stdin|junit|_getframe|settrace|setprofile|gc\.get_objects|get_referrers|inspect\.stack|ctypes)\b"
)
"""What library code has no business with, and code that rewrites a test run from inside needs: the test
framework, the import machinery, the process's exit, its stdin (where the report's name arrives), other frames."""


def reaches_into_the_test_process(base: dict[str, bytes], patched: dict[str, bytes]) -> list[tuple[str, str]]:
    """(path, what) for each line the patch adds outside the tests (code or data a module could ``exec``) that
    names something in ``REACHES``: a static check (names built at run time slip past it; docs/architecture.md).

    The added lines are read by comparing each file of the applied tree with the base, at the paths ``git apply``
    wrote, never from the patch's own headers (a traditional ``+++ tests/...`` header that ``-p1`` strips
    would otherwise hide library lines as test lines)."""
    found: list[tuple[str, str]] = []
    for path, data in sorted(patched.items()):
        if path.startswith("tests/") or data == base.get(path):
            continue
        for line in _added_lines(base.get(path, b""), data):
            if not line.lstrip().startswith("#"):  # not a comment line
                found += [(path, f"code reaching into the test process ({m.group(0)})") for m in REACHES.finditer(line)]
    return found[:10]


def _added_lines(before: bytes, after: bytes) -> list[str]:
    old = before.decode("utf-8", "replace").splitlines()
    new = after.decode("utf-8", "replace").splitlines()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [line for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace") for line in new[j1:j2]]


def new_signs_of_gaming(base: dict[str, bytes], patched: dict[str, bytes]) -> list[tuple[str, str]]:
    """``hack_scan``'s strong signs (exits, tracers, frames, objects equal to anything, rebound builtins) that
    the patch adds to a Python file outside the tests: the same rule as for a function, over every changed file."""
    from collections import Counter

    found: list[tuple[str, str]] = []
    for path, data in sorted(patched.items()):
        if not path.endswith(".py") or path.startswith("tests/") or data == base.get(path):
            continue
        after = _strong_signs(data)
        if after is None:
            found.append((path, "not valid Python"))
            continue
        added = Counter(after) - Counter(_strong_signs(base.get(path, b"")) or [])
        found += [(path, sign) for sign in added]
    return found[:10]


def _strong_signs(source: bytes) -> list[str] | None:
    from proctor._syntax import parse_python
    from proctor.verifiers._hack_scan import scan

    try:
        tree = parse_python(source.decode("utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    return [
        s["sign"].split(": ", 1)[-1] if s["sign"].startswith("line") else s["sign"] for s in scan(tree) if s["strength"] == "strong"
    ]


@register_verifier("diff_policy")
class DiffPolicyVerifier:
    """Refuses a patch that touches what the task protects, or adds what rewires the test process."""

    id = "diff_policy"

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.version = digest(module_file("_repo.py"), config={"forbidden": sorted(FORBIDDEN_NAMES), "suffixes": FORBIDDEN_SUFFIXES})

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        repo = repo_of(task)
        base = repo.base_files()
        try:
            changes, patched = applied(proposal.code, base, self.sandbox)
        except InputError as exc:  # the proposer's patch: its fault, a rejection
            return verdict(self, proposal, "fail", str(exc), timer)
        reasons = [f"{c.path}: a binary change" for c in changes if c.binary]
        reasons += [f"{c.path}: protected by the task" for c in changes if protected(c.path, repo.protected)]
        reasons += [
            f"{c.path}: changes how the test process starts or is configured"
            for c in changes
            if PurePosixPath(c.path).name in FORBIDDEN_NAMES
            or c.path.endswith(FORBIDDEN_SUFFIXES)
            or any(part.endswith(FORBIDDEN_DIRECTORIES) for part in PurePosixPath(c.path).parts)
        ]
        reasons += [f"{path}: {why}" for path, why in reaches_into_the_test_process(base, patched)]
        reasons += [f"{path}: {why}" for path, why in new_signs_of_gaming(base, patched)]
        if reasons:
            detail = f"the patch touches what it may not: {'; '.join(reasons[:5])}"
            return verdict(self, proposal, "fail", detail, timer, paths=reasons)
        return verdict(self, proposal, "pass", f"the patch touches {len(changes)} paths, none protected", timer)


_IMAGE_SANDBOXES: dict[str, Sandbox] = {}
_IMAGES_LOCK = threading.Lock()


@register_verifier("repo_tests")
class RepoTestsVerifier:
    """Runs the task's fail-to-pass and pass-to-pass tests on the patched tree, in the sandbox (or, for a task
    that names a docker ``image`` holding what its tests need, in a container of that image; the patch is
    still read and applied in the sandbox)."""

    id = "repo_tests"

    def __init__(self, sandbox: Sandbox, limits: Limits = REPO_LIMITS) -> None:
        self.sandbox, self.limits = sandbox, limits
        self.version = digest(module_file("_repo.py"), config={"limits": limits.model_dump(), "sandbox": sandbox_name(sandbox)})

    def _sandbox_for(self, image: str | None) -> Sandbox:
        if image is None:
            return self.sandbox
        with _IMAGES_LOCK:  # one docker sandbox per image for the process: each holds an engine client
            if image not in _IMAGE_SANDBOXES:
                from proctor.sandboxes._docker import DockerSandbox

                _IMAGE_SANDBOXES[image] = DockerSandbox(image=image)
            return _IMAGE_SANDBOXES[image]

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        repo = repo_of(task)
        base = repo.base_files()
        try:
            _, patched = applied(proposal.code, base, self.sandbox)
        except InputError as exc:
            return verdict(self, proposal, "fail", str(exc), timer)
        tree = {path: data for path, data in patched.items() if not protected(path, repo.protected)}
        tree.update({path: data for path, data in base.items() if protected(path, repo.protected)})  # the trusted ones
        tree.update(repo.test_files())
        ids = [*repo.fail_to_pass, *repo.pass_to_pass]
        runs_in = self._sandbox_for(repo.image)
        outcomes, result = run_pytest(runs_in, tree, ids, self.limits)
        wrong = {i: outcomes.get(i, "missing") for i in ids if outcomes.get(i) != "passed"}
        evidence: dict[str, Any] = {"outcomes": {i: outcomes.get(i, "missing") for i in ids}, "run": result.describe()}
        if wrong:
            listed = ", ".join(f"{i} {o}" for i, o in list(wrong.items())[:4])
            detail = f"{len(wrong)} of the task's {len(ids)} tests do not pass: {listed}"
            return verdict(self, proposal, "fail", detail, timer, **evidence).model_copy(update={"sandbox": provenance(result)})
        direct = run_directly(runs_in, tree, repo.fail_to_pass, self.limits)
        evidence["direct"] = direct
        disagree = {i: o for i, o in direct.items() if o not in ("passed", "unsupported")}
        status: VerdictStatus = "fail" if disagree else "pass"
        ran = sum(outcome == "passed" for outcome in direct.values())
        detail = f"all {len(ids)} of the task's tests pass" + (f" ({ran} also when run directly)" if ran else "")
        if disagree:
            listed = ", ".join(f"{i} {o}" for i, o in list(disagree.items())[:2])
            detail = f"the tests pass under pytest but not when run directly, outside its reporting: {listed}"
        return verdict(self, proposal, status, detail, timer, **evidence).model_copy(update={"sandbox": provenance(result)})


def run_pytest(sandbox: Sandbox, tree: dict[str, bytes], args: list[str], limits: Limits = REPO_LIMITS) -> tuple[dict[str, str], Any]:
    """pytest on ``tree`` in the sandbox, given ``args`` (test ids or paths): each test id's outcome, and the job's result.

    pytest is shipped into the job; plugin autoload is off; the JUnit report goes to a name the job
    learns on stdin before any of the tree's code is imported.
    """
    report = f".proctor-report-{secrets.token_hex(8)}.xml"
    job = Job(
        command=[PYTHON, RUNNER, *args],
        files={**tree, **_pytest_files(), RUNNER: RUNNER_SOURCE.encode()},
        stdin=f"{report}\n".encode(),
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # no plugin from an entry point anywhere in the tree
        collect=[report],
    )
    result = sandbox.run(job, limits)
    return junit_outcomes(result.files.get(report)), result


def run_directly(sandbox: Sandbox, tree: dict[str, bytes], ids: list[str], limits: Limits = REPO_LIMITS) -> dict[str, str]:
    """The second, independent run: each test id called directly, in a fresh job, with no pytest reporting to rewrite.

    Which tests it can run (no fixtures, parameters, decorators) is read from the trusted test files' syntax
    before any of the candidate's code is imported; the runner binds what its report needs as locals first,
    and reports once, a letter per id (P passed, F failed, U only pytest can run it) behind a nonce learnt on
    stdin. No report, or more than one, reads as every id failed.
    """
    nonce = secrets.token_hex(16)
    job = Job(
        command=[PYTHON, PLAIN_RUNNER],
        files={**tree, **_pytest_files(), PLAIN_RUNNER: PLAIN_RUNNER_SOURCE.encode()},
        stdin=f"{nonce}\n{json.dumps(ids)}\n".encode(),
    )
    result = sandbox.run(job, limits)
    reports = [line[len(nonce) :] for line in result.stdout.decode("utf-8", "replace").splitlines() if line.startswith(nonce)]
    if len(reports) != 1 or len(reports[0]) != len(ids) or set(reports[0]) - set("PFU"):
        why = "no report" if not reports else "a report forged or repeated"
        return {i: f"failed: {why} ({result.describe()})" for i in ids}
    return {i: {"P": "passed", "F": "failed", "U": "unsupported"}[letter] for i, letter in zip(ids, reports[0], strict=True)}


def junit_outcomes(report: bytes | None) -> dict[str, str]:
    """Each test id's outcome (passed, failed, error, skipped) from pytest's xunit1 JUnit report."""
    import xml.etree.ElementTree as ElementTree

    if not report or b"<!DOCTYPE" in report or b"<!ENTITY" in report:  # pytest never writes either
        return {}
    try:
        root = ElementTree.fromstring(report)
    except ElementTree.ParseError:
        return {}
    outcomes = {}
    for case in root.iter("testcase"):
        file, name, classname = case.get("file", ""), case.get("name", ""), case.get("classname", "")
        module = file[:-3].replace("/", ".") if file.endswith(".py") else ""
        inner = classname[len(module) + 1 :].replace(".", "::") if module and classname.startswith(module + ".") else ""
        node = f"{file}::{inner}::{name}" if inner else f"{file}::{name}"
        kinds = {child.tag for child in case}
        outcomes[node] = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed").replace("failure", "failed")
    return outcomes


@functools.cache
def _pytest_files() -> dict[str, bytes]:
    """pytest and what it imports, as source files under ``_proctor_site/`` (the sandbox's Python has the stdlib
    only). Of pygments, which pytest imports for highlighting, only the modules it uses: the lexers are 8 MB."""
    import importlib.util

    files: dict[str, bytes] = {}
    for name in PYTEST_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise InputError(f"repository tasks run pytest, but {name} is not installed here: pip install 'proctor[repo]'")
        origin = Path(spec.origin)
        if origin.name != "__init__.py":
            files[f"{SITE}/{origin.name}"] = origin.read_bytes()
            continue
        for file in origin.parent.rglob("*.py"):
            relative = file.relative_to(origin.parent)
            if name == "pygments" and relative.parts[0] == "lexers" and relative.name not in PYGMENTS_LEXERS:
                continue
            files[f"{SITE}/{name}/{relative}"] = file.read_bytes()
    return files
