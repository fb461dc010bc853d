"""Fakes and conformance checks for people who implement proctor's plugin protocols."""

from proctor.testing._adaptive import ADAPTIVE, DISTANCE_TASK, Adaptive, adaptive_task, check_adaptive
from proctor.testing._attacks import ATTACKS, Attack, AttackOutcome, HostBait, run_attack_corpus
from proctor.testing._channel import CHANNEL_ATTACKS, ChannelAttack, ChannelOutcome, check_channel
from proctor.testing._conformance import check_sandbox
from proctor.testing._hacks import HACK_TASK, HACKS, HONEST, check_verifier

__all__ = [
    "ADAPTIVE",
    "ATTACKS",
    "CHANNEL_ATTACKS",
    "DISTANCE_TASK",
    "HACKS",
    "HACK_TASK",
    "HONEST",
    "Adaptive",
    "Attack",
    "AttackOutcome",
    "ChannelAttack",
    "ChannelOutcome",
    "HostBait",
    "adaptive_task",
    "check_adaptive",
    "check_channel",
    "check_sandbox",
    "check_verifier",
    "run_attack_corpus",
]
