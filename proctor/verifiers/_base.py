"""The Verifier protocol, version digests, timing, and the verifier registry."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from proctor.errors import InputError
from proctor.models import Proposal, Task, Verdict, VerdictStatus

_ENTRY_POINT_GROUP = "proctor.verifiers"


@runtime_checkable
class Verifier(Protocol):
    """Judges one proposal for one task, independently of the proposer.

    ``id`` names the verifier; ``version`` is a digest of its code and configuration, so a
    ledger can say exactly what judged. ``verify`` returns a Verdict for any candidate, however
    broken or hostile; it raises only when the verification machinery itself cannot work
    (``UnavailableError``), and never reports ``pass`` for a check it could not complete.
    """

    id: str
    version: str

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        """Judge ``proposal`` against ``task``."""
        ...


def digest(*sources: str | Path, config: Any = None) -> str:
    """A short SHA-256 over source files (or text) and a JSON-able configuration."""
    hasher = hashlib.sha256()
    for source in sources:
        hasher.update(Path(source).read_bytes() if isinstance(source, Path) else source.encode())
        hasher.update(b"\0")
    hasher.update(json.dumps(config, sort_keys=True, default=str).encode())
    return hasher.hexdigest()[:16]


def module_file(name: str) -> Path:
    """The source file of a module in this package, for version digests."""
    return Path(__file__).with_name(name)


class Timer:
    """Measures a verifier's duration for its verdict."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def verdict(
    verifier: Verifier, proposal: Proposal, status: VerdictStatus, detail: str, timer: Timer, sandbox: Any = None, **evidence: Any
) -> Verdict:
    """Build ``verifier``'s verdict on ``proposal``; ``detail`` is kept to one line; ``sandbox`` is what ran
    the candidate (an ``ExecResult`` or its provenance dict), if anything did."""
    return Verdict(
        verifier=verifier.id,
        version=verifier.version,
        status=status,
        detail=" ".join(detail.split())[:500],
        evidence=evidence,
        duration_seconds=timer.seconds,
        proposal_id=proposal.id,
        sandbox=provenance(sandbox),
    )


def provenance(ran: Any) -> dict[str, Any] | None:
    """``{"backend", "isolated", "enforcement"}`` of an ``ExecResult`` (a dict passes through; None stays None)."""
    if ran is None or isinstance(ran, dict):
        return ran
    return {"backend": ran.backend, "isolated": ran.isolated, "enforcement": list(ran.enforcement)}


def sandbox_name(sandbox: Any) -> str:
    """The backend's registered name, for version digests: a verdict made elsewhere is another verdict."""
    return str(getattr(sandbox, "name", type(sandbox).__name__))


_V = TypeVar("_V", bound=Callable[..., Verifier])
_REGISTRY: dict[str, Callable[..., Verifier]] = {}


def register_verifier(name: str) -> Callable[[_V], _V]:
    """Register a verifier factory under ``name`` (also loadable via the ``proctor.verifiers`` group)."""

    def decorate(factory: _V) -> _V:
        _REGISTRY[name] = factory
        return factory

    return decorate


def _load_builtins() -> None:
    from proctor.verifiers import _hack_scan, _properties, _repo, _score, _smt, _tests  # noqa: F401  (registration)


def verifier_factory(name: str) -> Callable[..., Verifier]:
    """The factory registered as ``name``, loading plugins lazily."""
    _load_builtins()
    if name not in _REGISTRY:
        for ep in entry_points(group=_ENTRY_POINT_GROUP, name=name):
            _REGISTRY[name] = ep.load()
    if name not in _REGISTRY:
        raise InputError(f"unknown verifier {name!r} (known: {', '.join(verifier_names())})")
    return _REGISTRY[name]


def verifier_names() -> list[str]:
    """Names of the built-in and installed verifiers."""
    _load_builtins()
    return sorted(set(_REGISTRY) | {ep.name for ep in entry_points(group=_ENTRY_POINT_GROUP)})
