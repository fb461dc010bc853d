"""In-context expert iteration: what a loop kept becomes the next round's worked examples.

A library holds the proposals the loop accepted in earlier rounds, each with whether the held-out
oracle judged it good. Which proposals enter is each regime's own acceptance rule (``external``:
verified; ``self``: claimed; ``hybrid``: claimed and verified; ``none``: the first proposal), so
under ``self`` the library fills with what the proposer only believed. For each task a proposer is
shown the ``k`` exemplars whose task prompts share the most words with its own (never the task's
own), ties broken by a hash of the seed: the same seed and library give the same examples. The
library is rebuilt from the ledger's events alone, so a resumed run starts from the same one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from proctor.loop._proposer import Feedback, Proposer
from proctor.models import Proposal, SelfReport, Task

_WORD = re.compile(r"[A-Za-z_]+")


@dataclass(frozen=True)
class Exemplar:
    """An accepted proposal kept for later rounds: its task, its code, its round, and whether the oracle passed it."""

    task_id: str
    code: str
    round: int
    good: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def accepted_exemplars(events: Iterable[tuple[str, dict[str, Any], tuple[str, ...]]], round_: int) -> list[Exemplar]:
    """The proposals one run accepted, as exemplars: ``events`` are (kind, data, contents) in ledger order."""
    codes: dict[str, tuple[str, str]] = {}
    oracle: dict[str, list[bool]] = {}
    hack: set[str] = set()
    accepted: list[str] = []
    for kind, data, contents in events:
        if kind == "proposal":
            codes[data["id"]] = (data["task_id"], contents[0] if contents else "")
            if (data.get("metadata") or {}).get("hack"):
                hack.add(data["id"])
        elif kind == "oracle_verdict":
            oracle.setdefault(data["proposal_id"], []).append(data["status"] == "pass")
        elif kind == "decision" and data.get("outcome") == "accept":
            accepted.append(data["proposal_id"])
    return [
        Exemplar(codes[p][0], codes[p][1], round_, bool(oracle.get(p)) and all(oracle[p]) and p not in hack)
        for p in accepted
        if p in codes
    ]


def choose(task: Task, library: Sequence[Exemplar], prompts: Mapping[str, str], k: int, seed: int) -> list[Exemplar]:
    """The ``k`` exemplars most like ``task`` (shared words of the task prompts), never ``task``'s own; seeded ties."""
    mine = _words(task.prompt)

    def rank(item: tuple[int, Exemplar]) -> tuple[float, str]:
        index, exemplar = item
        theirs = _words(prompts.get(exemplar.task_id, ""))
        similarity = len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0
        tie = hashlib.sha256(f"{seed}:{task.id}:{exemplar.task_id}:{index}".encode()).hexdigest()
        return -similarity, tie

    others = [(i, e) for i, e in enumerate(library) if e.task_id != task.id]
    return [e for _, e in sorted(others, key=rank)[:k]]


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2}


class LibraryProposer:
    """A proposer shown worked examples from the library before each task (``examples`` on its prompt).

    The inner proposer takes them through an ``examples`` attribute (a list of code), which the chat
    proposers put before the task; one that has none (the simulated proposer) ignores them. Each
    proposal's metadata names the exemplars it was shown (``exemplars``: their task ids).
    """

    def __init__(self, inner: Proposer, library: Sequence[Exemplar], prompts: Mapping[str, str], k: int, seed: int) -> None:
        self.inner, self.library, self.prompts, self.k, self.seed = inner, list(library), dict(prompts), k, seed
        self.name = inner.name

    def propose(self, task: Task, feedback: Feedback | None) -> Proposal:
        shown = choose(task, self.library, self.prompts, self.k, self.seed)
        if hasattr(self.inner, "examples"):
            self.inner.examples = [e.code for e in shown]
        proposal = self.inner.propose(task, feedback)
        metadata = {**proposal.metadata, "exemplars": [e.task_id for e in shown]}
        return proposal.model_copy(update={"metadata": metadata})

    def self_check(self, task: Task, proposal: Proposal) -> SelfReport:
        return self.inner.self_check(task, proposal)
