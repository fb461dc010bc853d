"""The ledger: an append-only, hash-chained, checkpointed SQLite record of what happened.

``Ledger`` appends events to a SHA-256 chain over RFC 8785 canonical JSON, in SQLite (WAL,
``synchronous=FULL``) with triggers that refuse edits; ``Recorder`` writes a run's events
(proposals, claims, verdicts, decisions) with idempotent ids; ``verify_ledger`` checks the
chain, contents, checkpoints and anchors and names the first problem; ``Auditor`` turns a
verified ledger into per-run findings (claim-vs-verdict matrix, false-accept rate, GV-gap,
accepted hacks). The Merkle functions implement RFC 6962 proofs for anchoring elsewhere.
"""

from proctor.ledger._audit import Auditor, ProposalRecord, RunAudit
from proctor.ledger._canonical import canonical, parse
from proctor.ledger._checkpoint import Checkpoint, generate_key, load_key, read_anchor, write_anchor
from proctor.ledger._events import EVENT_KINDS, Recorder, package_versions
from proctor.ledger._export import FORMATS, export
from proctor.ledger._integrity import IntegrityReport, Problem, verify_ledger
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
