"""Independent verifiers of proposals, and their composition.

Each verifier reports its id and a version digest, and returns a Verdict (``pass``, ``fail``,
``unknown`` or ``error``) with evidence. ``default_pipeline(task, sandbox)`` is what a task's
fields allow, as a cascade: hack scan, tests, properties, SMT, a scored task's objective. Third-party verifiers register
under the ``proctor.verifiers`` entry-point group.
"""

from proctor.verifiers._base import Verifier, register_verifier, verifier_names
from proctor.verifiers._compose import Composite, all_of, any_of, cascade, members_of, optional, quorum
from proctor.verifiers._hack_scan import HackScanVerifier
from proctor.verifiers._pipeline import default_pipeline, named_pipeline
from proctor.verifiers._properties import PropertiesVerifier
from proctor.verifiers._score import ScoreVerifier
from proctor.verifiers._smt import SmtVerifier
from proctor.verifiers._tests import TestsVerifier

__all__ = [
    "Composite",
    "HackScanVerifier",
    "PropertiesVerifier",
    "ScoreVerifier",
    "SmtVerifier",
    "TestsVerifier",
    "Verifier",
    "all_of",
    "any_of",
    "cascade",
    "default_pipeline",
    "members_of",
    "named_pipeline",
    "optional",
    "quorum",
    "register_verifier",
    "verifier_names",
]
