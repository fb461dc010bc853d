"""Ground truth for scenarios: the task as the loop sees it, the held-out oracle, and a verdict memo.

A scenario task may carry ``metadata.hidden`` (``tests`` and/or ``cases``): the loop's view
drops it, and the oracle's view judges with it instead of the visible checks. The oracle runs
in the loop's record node, so its verdict lands in the ledger (``oracle_verdict``) and never in
the loop's state, its feedback or its decision.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from proctor.models import Proposal, Task, Verdict
from proctor.sandboxes import Sandbox
from proctor.verifiers import Verifier, default_pipeline, named_pipeline

# In the oracle, these may say unknown (no strategy derivable, outside the subset) without blocking
# its verdict; in the loop's pipeline every named verifier must pass.
OPTIONAL_IN_ORACLE = ("properties", "smt")


def loop_view(task: Task) -> Task:
    """The task without its hidden checks: what the proposer and the loop's verifiers get."""
    if "hidden" not in task.metadata:
        return task
    return task.model_copy(update={"metadata": {k: v for k, v in task.metadata.items() if k != "hidden"}})


def oracle_view(task: Task) -> Task:
    """The task with its hidden checks in place of the visible ones (the same task when it has none)."""
    hidden = task.metadata.get("hidden")
    if not hidden:
        return task
    return Task.model_validate(
        {**task.model_dump(), "tests": hidden.get("tests"), "cases": hidden.get("cases", []), "metadata": loop_view(task).metadata}
    )


@dataclass
class VerdictMemo:
    """Verdicts by (verifier, version, task, code): a scenario proposes the same code many times.

    Verifiers are deterministic for a given task and code (property tests are seeded), so a
    remembered verdict is the one a fresh run would give; it is returned with the new
    proposal's id and its original duration. With ``shared`` (a directory private to one suite
    run), the workers of that run share what they verified instead of each verifying it again.
    A remembered verdict is always the one read back from its JSON, so which worker verified it,
    or whether it was shared at all, changes nothing downstream.
    """

    verdicts: dict[tuple[str, str, str, str], Verdict] = field(default_factory=dict)
    hits: int = 0
    shared: Path | None = None

    def wrap(self, verifier: Verifier) -> Verifier:
        return _Memoised(verifier, self)

    def recall(self, key: tuple[str, str, str, str], verify: Callable[[], Verdict]) -> Verdict:
        """The verdict remembered for ``key``, verifying (or waiting for another worker) on a miss."""
        known = self.verdicts.get(key)
        if known is None:
            known = self.verdicts[key] = self._find(key, verify)
        else:
            self.hits += 1
        return known

    def _find(self, key: tuple[str, str, str, str], verify: Callable[[], Verdict]) -> Verdict:
        if self.shared is None:
            return _through_json(verify())
        return _SharedVerdicts(self.shared).fetch("\0".join(key), verify)


class _Memoised:
    def __init__(self, verifier: Verifier, memo: VerdictMemo) -> None:
        self.inner, self.memo = verifier, memo
        self.id, self.version = verifier.id, verifier.version

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        key = (self.id, self.version, _digest(task.model_dump_json()), _digest(proposal.code))
        return _for_proposal(self.memo.recall(key, lambda: self.inner.verify(task, proposal)), proposal.id)


@dataclass(frozen=True)
class _SharedVerdicts:
    """Verdicts shared by the worker processes of one suite run: one JSON file per verdict.

    The first worker to claim a key (an exclusive claim file holding its pid) verifies; the
    others wait for the verdict file, which appears whole (written aside, then renamed), so no
    code is verified twice at the same time. A claim whose worker died or failed is taken over.
    Two workers taking over the same dead claim may both verify; verdicts are deterministic, so
    that costs time, never a different result.
    """

    directory: Path
    poll_seconds: float = 0.005

    def fetch(self, key: str, verify: Callable[[], Verdict]) -> Verdict:
        name = _digest(key)
        done, claim = self.directory / f"{name}.json", self.directory / f"{name}.claim"
        while True:
            if done.exists():
                return Verdict.model_validate_json(done.read_bytes())
            if _claim(claim):
                try:
                    if not done.exists():  # another worker's verdict may have landed just before our claim
                        _write_whole(done, verify().model_dump_json())
                finally:
                    claim.unlink(missing_ok=True)
                continue  # read back like any other worker's
            if not _claimant_alive(claim):
                claim.unlink(missing_ok=True)
                continue
            time.sleep(self.poll_seconds)


def _claim(path: Path) -> bool:
    """Claim ``path`` for this process; the claim appears with its pid in it, or not at all."""
    aside = _beside(path)
    aside.write_text(str(os.getpid()))
    try:
        os.link(aside, path)
    except FileExistsError:
        return False
    finally:
        aside.unlink()
    return True


def _claimant_alive(path: Path) -> bool:
    """Whether the worker that claimed ``path`` still runs."""
    try:
        pid = int(path.read_text())
    except FileNotFoundError:
        return False  # released: its verdict is there now, or its verifier failed
    try:
        os.kill(pid, 0)
    except OSError:  # gone, or the pid now belongs to another user's process
        return False
    return True


def _beside(path: Path) -> Path:
    """Where this process writes ``path``'s content before it appears whole under its name."""
    return path.with_name(f"{path.name}.{os.getpid()}")


def _write_whole(path: Path, text: str) -> None:
    aside = _beside(path)
    aside.write_text(text)
    aside.replace(path)


def _through_json(verdict: Verdict) -> Verdict:
    return Verdict.model_validate_json(verdict.model_dump_json())


def _for_proposal(verdict: Verdict, proposal_id: str) -> Verdict:
    """``verdict`` (and the member verdicts in its evidence) restamped with ``proposal_id``."""
    evidence = verdict.evidence
    if "verdicts" in evidence:
        members = [{**member, "proposal_id": proposal_id} for member in evidence["verdicts"]]
        evidence = {**evidence, "verdicts": members}
    return verdict.model_copy(update={"proposal_id": proposal_id, "evidence": evidence})


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class HeldOut:
    """The oracle: judges a proposal on the task's oracle view, whatever view it is handed."""

    def __init__(self, tasks: Iterable[Task], make: Callable[[Task], Verifier]) -> None:
        self.views = {task.id: oracle_view(task) for task in tasks}
        self.make = make

    def __call__(self, task: Task) -> Verifier:
        view = self.views.get(task.id, task)
        return _OnView(self.make(view), view)


class _OnView:
    def __init__(self, verifier: Verifier, view: Task) -> None:
        self.inner, self.view = verifier, view
        self.id, self.version = verifier.id, verifier.version

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        return self.inner.verify(self.view, proposal)


def pipeline(
    names: list[str] | None, sandbox: Sandbox, memo: VerdictMemo, optional: tuple[str, ...] = ()
) -> Callable[[Task], Verifier]:
    """A cascade of the verifiers named (the default pipeline when None), memoised; ``optional`` ones may say unknown.

    Properties draw inputs fixed by the candidate's code (``seed=0``), never a secret per verification:
    a scenario's results depend only on its suite and seeds, on any engine.
    """
    if names is None:
        return lambda task: memo.wrap(default_pipeline(task, sandbox, seed=0))
    named_pipeline(names, sandbox, optional_names=optional, seed=0)  # unknown names fail here, before any run
    return lambda task: memo.wrap(named_pipeline(names, sandbox, optional_names=optional, seed=0))
