"""Repository tasks made from any local Python repository, by injecting faults its tests catch (as SWE-smith does).

For each library file (not a test, not protected), each AST mutant of it (``_mutants``) replaces it
in a copy of the repository, and the repository's tests run on that copy in the sandbox. A mutant
that breaks tests which passed on the original becomes a task: its tree is the task's base, the
broken tests are its fail-to-pass ids, the tests that still pass its pass-to-pass ids, the
repository's tests are the verifier's, and the diff back to the original is the reference fix
(``reference.diff``). Every id comes from running the tests, never from reading them. The files of
the failing tests are left out of the task's base: the proposer sees which tests fail, not what
they assert (as SWE-bench's are added by its test patch), so it cannot special-case their inputs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from proctor._syntax import parse_python
from proctor.errors import InputError
from proctor.measure._mutants import Mutant, mutants
from proctor.sandboxes import Sandbox
from proctor.tasks._repo import DEFAULT_PROTECTED, file_diff, read_tree, write_repo_task
from proctor.verifiers._repo import protected, run_pytest

PYTEST = ("python", "-m", "pytest")
TESTS = "tests"


@dataclass(frozen=True)
class Synthesized:
    """One task written: where, from which mutant, and the tests it breaks."""

    directory: Path
    file: str
    mutant: Mutant
    fail_to_pass: list[str]


def synthesize(
    repository: Path,
    out: Path,
    sandbox: Sandbox,
    *,
    test_command: list[str] | None = None,
    limit: int = 10,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Synthesized]:
    """Write up to ``limit`` repository tasks made from ``repository`` into ``out`` (one directory each).

    ``test_command`` is recorded in each task; it must run pytest (the only runner repository tasks
    have). The repository's tests live in its ``tests/`` (what a task's verifier tests are copied to).
    """
    command = list(test_command or [*PYTEST, "-q"])
    if tuple(command[:3]) != PYTEST and Path(command[0]).name not in ("pytest", "py.test"):
        raise InputError(f"--test-command must run pytest (got {' '.join(command)!r}): repository tasks run their tests with it")
    base = read_tree(repository)
    if not any(path.startswith(TESTS + "/") for path in base):
        raise InputError(f"{repository}: no {TESTS}/ directory of tests (a repository task's tests live there)")
    passing = _passing(sandbox, base)
    progress(f"{len(passing)} tests pass on {repository.name} as it is")
    made: list[Synthesized] = []
    for file, mutant in _candidates(base):
        if len(made) >= limit:
            break
        faulty = _localized(base[file].decode(), mutant)
        tree = {**base, file: faulty.encode()}
        outcomes, _ = run_pytest(sandbox, tree, [TESTS])
        broken = sorted(i for i in passing if outcomes.get(i) != "passed")
        if not broken:
            continue
        directory = out / f"{repository.name}-{len(made) + 1}"
        _write(directory, repository.name, tree, base, file, mutant, broken, sorted(set(passing) - set(broken)), command)
        made.append(Synthesized(directory, file, mutant, broken))
        progress(f"{directory.name}: {mutant.change} in {file} (line {mutant.line}) breaks {len(broken)} test(s)")
    return made


def _passing(sandbox: Sandbox, base: dict[str, bytes]) -> list[str]:
    outcomes, result = run_pytest(sandbox, base, [TESTS])
    passing = sorted(i for i, outcome in outcomes.items() if outcome == "passed")
    if not passing:
        raise InputError(f"no test passes on the repository as it is ({result.describe()}); tasks need tests that pass before a fault")
    return passing


def _candidates(base: dict[str, bytes]) -> Iterator[tuple[str, Mutant]]:
    """Every mutant of every library file, one file after another (tests and protected files untouched)."""
    for path, data in sorted(base.items()):
        if not path.endswith(".py") or protected(path, DEFAULT_PROTECTED) or Path(path).name.startswith("test_"):
            continue
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        try:
            found = mutants(source)
        except (SyntaxError, ValueError):
            continue
        for mutant in found:
            yield path, mutant


def _localized(original: str, mutant: Mutant) -> str:
    """The original file with only the top-level definition holding the fault replaced (a mutant is the whole
    module unparsed, which would restyle every line); the whole mutant when the fault is outside any."""
    tree, changed = parse_python(original), parse_python(mutant.code)
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        if not start <= mutant.line <= (node.end_lineno or 0):
            continue
        twin = next((n for n in changed.body if isinstance(n, type(node)) and n.name == node.name), None)
        segment = ast.get_source_segment(mutant.code, twin, padded=True) if twin else None
        if segment is None:
            break
        decorators = "".join(f"@{ast.unparse(d)}\n" for d in node.decorator_list)
        lines = original.splitlines(keepends=True)
        return "".join([*lines[: start - 1], decorators, segment, "\n", *lines[node.end_lineno or start :]])
    return mutant.code


def _write(
    directory: Path,
    name: str,
    tree: dict[str, bytes],
    base: dict[str, bytes],
    file: str,
    mutant: Mutant,
    broken: list[str],
    still: list[str],
    command: list[str],
) -> None:
    hidden = {i.partition("::")[0] for i in broken}  # the failing tests' files: the verifier's, never shown
    shown = {path: data for path, data in tree.items() if path not in hidden}
    tests = {path.removeprefix(TESTS + "/"): data for path, data in base.items() if path.startswith(TESTS + "/")}
    instruction = f"These tests fail and should pass: {', '.join(broken[:5])}{' …' if len(broken) > 5 else ''}. Fix the library."
    settings: dict[str, object] = {
        "id": f"{name}/{directory.name}",
        "kind": "repo",
        "instruction": instruction,
        "test_command": command,
        "fail_to_pass": broken,
        "pass_to_pass": still,
        "protected": DEFAULT_PROTECTED,
        "source": f"proctor tasks synthesize: {mutant.operator} at {file}:{mutant.line} ({mutant.change})",
    }
    write_repo_task(directory, settings, shown, tests, file_diff(file, tree[file].decode(), base[file].decode()))
