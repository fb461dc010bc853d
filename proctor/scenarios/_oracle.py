"""Ground truth for scenarios: the task as the loop sees it, the held-out oracle, and a verdict memo.

A scenario task may carry ``metadata.hidden`` (``tests`` and/or ``cases``): the loop's view
drops it, and the oracle's view judges with it instead of the visible checks. The oracle runs
in the loop's record node, so its verdict lands in the ledger (``oracle_verdict``) and never in
the loop's state, its feedback or its decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

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
    proposal's id and its original duration.
    """

    verdicts: dict[tuple[str, str, str, str], Verdict] = field(default_factory=dict)
    hits: int = 0

    def wrap(self, verifier: Verifier) -> Verifier:
        return _Memoised(verifier, self)


class _Memoised:
    def __init__(self, verifier: Verifier, memo: VerdictMemo) -> None:
        self.inner, self.memo = verifier, memo
        self.id, self.version = verifier.id, verifier.version

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        key = (self.id, self.version, _digest(task.model_dump_json()), _digest(proposal.code))
        known = self.memo.verdicts.get(key)
        if known is None:
            known = self.memo.verdicts[key] = self.inner.verify(task, proposal)
        else:
            self.memo.hits += 1
        return _for_proposal(known, proposal.id)


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
    """A cascade of the verifiers named (the default pipeline when None), memoised; ``optional`` ones may say unknown."""
    if names is None:
        return lambda task: memo.wrap(default_pipeline(task, sandbox))
    named_pipeline(names, sandbox, optional_names=optional)  # unknown names fail here, before any run
    return lambda task: memo.wrap(named_pipeline(names, sandbox, optional_names=optional))
