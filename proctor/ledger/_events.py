"""The events a run records, and ``Recorder``, which writes them with idempotent ids.

Kinds: ``run_start`` (configuration, package and verifier versions, seeds), ``task``,
``proposal``, ``self_report`` (the proposer's claim and confidence), ``verdict`` (an external
verifier's), ``oracle_verdict`` (scenarios' held-out ground truth, never shown to the loop),
``decision``, ``approval``, ``run_end``. Ids are derived from the run and what the event is
about (``<run>:proposal:<proposal id>``), so a run resumed after a crash that records the same
thing again leaves the ledger unchanged. Code, task bodies and large evidence are stored once,
by digest, and referred to from ``data["contents"]``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from proctor.ledger._canonical import canonical
from proctor.ledger._store import Entry, Event, Ledger, content_digest
from proctor.models import Decision, Proposal, SelfReport, Task, Verdict

EVENT_KINDS = (
    "run_start",
    "task",
    "proposal",
    "self_report",
    "verdict",
    "oracle_verdict",
    "decision",
    "approval",
    "run_end",
    "measurement",  # proctor measure's report: outside any run
)
LARGE_EVIDENCE_BYTES = 4096
_PACKAGES = ("proctor", "pydantic", "hypothesis", "z3-solver", "langgraph", "docker")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a verdict can depend on."""
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


class Recorder:
    """Records one run's events in a ledger.

    Every method returns the entries it wrote (or found already written: ids are stable, so
    recording the same thing twice is harmless). ``cycle`` records a proposal, its claim, its
    verdicts and the decision in one transaction, so a crash never leaves half a cycle.
    """

    def __init__(self, ledger: Ledger, run: str | None = None) -> None:
        self.ledger = ledger
        self.run = run or uuid.uuid4().hex
        self._pending: tuple[Mapping[str, Any], list[Mapping[str, str]], Mapping[str, Any] | None] | None = None

    def start_on_first_record(
        self, config: Mapping[str, Any], *, verifiers: Iterable[Mapping[str, str]] = (), seeds: Mapping[str, Any] | None = None
    ) -> None:
        """Record the run's start just before its first other record: a run that fails before anything happens
        (an unreachable proposer, no sandbox) leaves no open run behind."""
        self._pending = (config, list(verifiers), seeds)

    def started(self) -> None:
        """Record the pending start now, if one waits (see ``start_on_first_record``)."""
        if self._pending is not None:
            self.start(self._pending[0])

    def start(
        self, config: Mapping[str, Any], *, verifiers: Iterable[Mapping[str, str]] = (), seeds: Mapping[str, Any] | None = None
    ) -> Entry:
        """Record the run's start; a run already started keeps its first record (returned), and one waiting
        to start on its first record (``start_on_first_record``) starts with what it was given there."""
        if self._pending is not None:
            config, verifiers, seeds = self._pending
            self._pending = None
        if (entry := self.recorded("run_start")) is not None:
            return entry
        data = {
            "config": dict(config),
            "packages": package_versions(),
            "verifiers": [dict(v) for v in verifiers],
            "seeds": dict(seeds or {}),
        }
        return self.ledger.extend([self._event("run_start", data, "run_start")])[0]

    def task(self, task: Task) -> Entry:
        self.started()
        if (entry := self.recorded(f"task:{task.id}")) is not None:
            return entry
        return self.ledger.extend([self._task(task)])[0]

    def recorded(self, key: str) -> Entry | None:
        """This run's entry for ``key`` (``run_start``, ``run_end``, ``task:<id>``, ...), if recorded."""
        return self.ledger.get(f"{self.run}:{key}")

    def cycle(
        self,
        proposal: Proposal,
        claim: SelfReport | None,
        verdicts: Iterable[Verdict],
        decision: Decision | None,
        *,
        oracle: Iterable[Verdict] = (),
    ) -> list[Entry]:
        self.started()
        events = [self._proposal(proposal)]
        if claim is not None:
            events.append(self._event("self_report", claim.model_dump(mode="json"), f"self_report:{claim.proposal_id}"))
        events += [self._verdict(v, "verdict", proposal.id) for v in verdicts]
        events += [self._verdict(v, "oracle_verdict", proposal.id) for v in oracle]
        if decision is not None:
            events.append(self._event("decision", decision.model_dump(mode="json"), f"decision:{decision.proposal_id}"))
        return self.ledger.extend(events)

    def approval(self, proposal_id: str, *, approved: bool, by: str, note: str = "", warnings: Sequence[str] = ()) -> Entry:
        """Record a human's answer; ``warnings`` are what the approver was shown as a reason to look closer."""
        self.started()
        data: dict[str, Any] = {"proposal_id": proposal_id, "approved": approved, "by": by, "note": note}
        if warnings:
            data["warnings"] = list(warnings)
        return self.ledger.extend([self._event("approval", data, f"approval:{proposal_id}")])[0]

    def end(self, summary: Mapping[str, Any]) -> Entry:
        """Record the run's end and checkpoint the ledger there."""
        self.started()
        entry = self.ledger.extend([self._event("run_end", dict(summary), "run_end")])[0]
        self.ledger.checkpoint()
        return entry

    # -- events ----------------------------------------------------------------------------

    def _event(self, kind: str, data: dict[str, Any], key: str, contents: tuple[str, ...] = ()) -> Event:
        return Event(kind, data, self.run, f"{self.run}:{key}", contents)

    def _task(self, task: Task) -> Event:
        body = task.model_dump_json()
        data: dict[str, Any] = {"task_id": task.id, "entry_point": task.entry_point, "contents": {"task": content_digest(body)}}
        if task.scoring is not None:  # what an audit needs to read scores: their range and which way is better
            data["scoring"] = {"low": task.scoring.low, "high": task.scoring.high, "goal": task.scoring.goal}
        return self._event("task", data, f"task:{task.id}", (body,))

    def _proposal(self, proposal: Proposal) -> Event:
        data = proposal.model_dump(mode="json", exclude={"code"})
        data["contents"] = {"code": content_digest(proposal.code)}
        return self._event("proposal", data, f"proposal:{proposal.id}", (proposal.code,))

    def _verdict(self, verdict: Verdict, kind: str, proposal_id: str) -> Event:
        data = verdict.model_dump(mode="json")
        data["proposal_id"] = verdict.proposal_id or proposal_id
        key = f"{kind}:{data['proposal_id']}:{verdict.verifier}"
        try:
            evidence = canonical(data["evidence"]).decode()
        except ValueError as exc:  # NaN or the like: keep the verdict, say why its evidence is not here
            data["evidence"] = {"unrecordable": str(exc), "repr": repr(verdict.evidence)[:LARGE_EVIDENCE_BYTES]}
            return self._event(kind, data, key)
        if len(evidence) <= LARGE_EVIDENCE_BYTES:
            return self._event(kind, data, key)
        data["evidence"] = None
        data["contents"] = {"evidence": content_digest(evidence)}
        return self._event(kind, data, key, (evidence,))
