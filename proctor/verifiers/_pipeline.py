"""The default pipeline for a task, and pipelines named on the command line."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from proctor.errors import InputError
from proctor.models import Task
from proctor.sandboxes import Sandbox
from proctor.verifiers._base import Verifier, verifier_names
from proctor.verifiers._compose import Composite, Optional, cascade, optional
from proctor.verifiers._hack_scan import HackScanVerifier
from proctor.verifiers._properties import PropertiesVerifier
from proctor.verifiers._score import ScoreVerifier
from proctor.verifiers._smt import SmtVerifier
from proctor.verifiers._tests import TestsVerifier

DEFAULT_ORDER = ("hack_scan", "tests", "properties", "smt", "score")


def default_pipeline(task: Task, sandbox: Sandbox, *, seed: int | None = None) -> Composite:
    """What the task's fields allow, cheap first: hack scan, tests, properties, SMT (for a scored task:
    hack scan, tests, then its objective; for a repository task: ``diff_policy``, then ``repo_tests``).

    Properties run when there is a reference, SMT when there is a reference or an SMT spec;
    both are optional (their ``unknown`` does not block) unless the task asks for them
    (``metadata["require"]`` lists verifier names, and an SMT spec requires ``smt``). ``seed``:
    None for a fresh secret per verification, a number for inputs fixed by it and the code.
    """
    if task.metadata.get("kind") == "repo":  # a patch to a repository: what it touches, then the task's tests
        from proctor.verifiers._repo import DiffPolicyVerifier, RepoTestsVerifier

        return cascade(DiffPolicyVerifier(sandbox), RepoTestsVerifier(sandbox))
    required = set(task.metadata.get("require", [])) | ({"smt"} if task.smt else set())
    members: list[Verifier | Optional] = [HackScanVerifier()]
    if task.tests or task.cases:
        members.append(TestsVerifier(sandbox))
    if task.scoring is not None:  # its reference is a baseline to beat, not the one right answer to agree with
        return cascade(*members, ScoreVerifier(sandbox))
    if task.reference:
        members.append(_maybe_optional(PropertiesVerifier(sandbox, seed=seed), "properties", required))
    if task.reference or task.smt:
        members.append(_maybe_optional(SmtVerifier(sandbox, seed=seed), "smt", required))
    return cascade(*members)


def named_pipeline(
    names: Sequence[str], sandbox: Sandbox, *, optional_names: Collection[str] = (), seed: int | None = None
) -> Composite:
    """A cascade of the named verifiers, in the order given; those in ``optional_names`` may say ``unknown``."""
    members: list[Verifier | Optional] = []
    for name in names:
        if name not in DEFAULT_ORDER and name not in verifier_names():  # installed plugins are looked up only when needed
            raise InputError(f"unknown verifier {name!r} (known: {', '.join(verifier_names())})")
        members.append(_maybe_optional(_build(name, sandbox, seed), name, set(names) - set(optional_names)))
    if not members:
        raise InputError("--verifiers names no verifier")
    return cascade(*members)


def _build(name: str, sandbox: Sandbox, seed: int | None) -> Verifier:
    if name == "tests":
        return TestsVerifier(sandbox)
    if name == "properties":
        return PropertiesVerifier(sandbox, seed=seed)
    if name == "smt":
        return SmtVerifier(sandbox, seed=seed)
    if name == "hack_scan":
        return HackScanVerifier(reject=True)
    if name == "score":
        return ScoreVerifier(sandbox)
    from proctor.verifiers._base import verifier_factory

    return verifier_factory(name)(sandbox=sandbox)


def _maybe_optional(verifier: Verifier, name: str, required: set[str]) -> Verifier | Optional:
    return verifier if name in required else optional(verifier)
