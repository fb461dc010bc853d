"""The ledger: an append-only, hash-chained, checkpointed SQLite record of what happened.

``Ledger`` appends events to a SHA-256 chain over RFC 8785 canonical JSON, in SQLite (WAL,
``synchronous=FULL``) with triggers that refuse edits; ``Recorder`` writes a run's events
(proposals, claims, verdicts, decisions) with idempotent ids; ``verify_ledger`` checks the
chain, contents, checkpoints and anchors and names the first problem; ``Auditor`` turns a
verified ledger into per-run findings (claim-vs-verdict matrix, false-accept rate, GV-gap,
accepted hacks). The Merkle functions implement RFC 6962 proofs for anchoring elsewhere.

Names load on first use (PEP 562): importing one (the canonical JSON rules, the Merkle proofs)
does not pay for the store's sqlite-utils (~100 ms: it pulls in numpy) and cryptography.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proctor.ledger._audit import Auditor, ProposalRecord, RunAudit
    from proctor.ledger._canonical import canonical, parse
    from proctor.ledger._chain import IntegrityReport, Problem
    from proctor.ledger._checkpoint import Checkpoint, generate_key, load_key, read_anchor, write_anchor
    from proctor.ledger._events import EVENT_KINDS, Recorder, package_versions
    from proctor.ledger._export import FORMATS, export
    from proctor.ledger._integrity import verify_ledger
    from proctor.ledger._merkle import (
        EMPTY_ROOT,
        consistency_proof,
        inclusion_proof,
        leaf_hash,
        node_hash,
        root,
        verify_consistency,
        verify_inclusion,
    )
    from proctor.ledger._store import Entry, Event, Ledger, content_digest

__all__ = [
    "EMPTY_ROOT",
    "EVENT_KINDS",
    "FORMATS",
    "Auditor",
    "Checkpoint",
    "Entry",
    "Event",
    "IntegrityReport",
    "Ledger",
    "Problem",
    "ProposalRecord",
    "Recorder",
    "RunAudit",
    "canonical",
    "consistency_proof",
    "content_digest",
    "export",
    "generate_key",
    "inclusion_proof",
    "leaf_hash",
    "load_key",
    "node_hash",
    "package_versions",
    "parse",
    "read_anchor",
    "root",
    "verify_consistency",
    "verify_inclusion",
    "verify_ledger",
    "write_anchor",
]

_MODULES = {
    "Auditor": "_audit",
    "ProposalRecord": "_audit",
    "RunAudit": "_audit",
    "canonical": "_canonical",
    "parse": "_canonical",
    "IntegrityReport": "_chain",
    "Problem": "_chain",
    "Checkpoint": "_checkpoint",
    "generate_key": "_checkpoint",
    "load_key": "_checkpoint",
    "read_anchor": "_checkpoint",
    "write_anchor": "_checkpoint",
    "EVENT_KINDS": "_events",
    "Recorder": "_events",
    "package_versions": "_events",
    "FORMATS": "_export",
    "export": "_export",
    "verify_ledger": "_integrity",
    "EMPTY_ROOT": "_merkle",
    "consistency_proof": "_merkle",
    "inclusion_proof": "_merkle",
    "leaf_hash": "_merkle",
    "node_hash": "_merkle",
    "root": "_merkle",
    "verify_consistency": "_merkle",
    "verify_inclusion": "_merkle",
    "Entry": "_store",
    "Event": "_store",
    "Ledger": "_store",
    "content_digest": "_store",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
