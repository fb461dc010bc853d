"""Fakes and conformance checks for people who implement proctor's plugin protocols."""

from proctor.testing._attacks import ATTACKS, Attack, AttackOutcome, HostBait, run_attack_corpus
from proctor.testing._conformance import check_sandbox

__all__ = ["ATTACKS", "Attack", "AttackOutcome", "HostBait", "check_sandbox", "run_attack_corpus"]
