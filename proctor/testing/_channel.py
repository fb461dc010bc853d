"""Candidates that attack the trusted driver through the channel (fd 3) instead of answering.

Each one takes the channel over while its module loads: it speaks the wire protocol itself
(``proctor_wire``'s framing, written out here as the adversary would), says it loaded, and answers
the first call with something built to make the driver work hard, wait, or keep what it sent: sets
and dicts whose items all hash alike, a frame of millions of empty lists, nesting past any
recursion limit, a reply trickled a byte at a time, file descriptors passed along. A sound driver
answers each with ``fail`` naming the problem, within the call's limit plus a margin, whatever the
candidate does next. ``check_channel`` runs them through a ``verify(task, proposal)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from proctor.models import Proposal, Task, Verdict
from proctor.testing._adaptive import DISTANCE_TASK

MARGIN_SECONDS = 10.0  # beyond the verifier's own call limit: start-up, decoding refused, teardown

# Takes fd 3 over at import: send one frame of raw JSON bytes, read one, never return to the stub.
_TAKE_OVER = """
import os, socket, struct, time
channel = socket.socket(fileno=3)

def send(body, fds=()):
    frame = struct.pack(">I", len(body)) + body
    if fds:
        channel.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))])
    else:
        channel.sendall(frame)

def receive():
    (size,) = struct.unpack(">I", channel.recv(4, socket.MSG_WAITALL))
    return channel.recv(size, socket.MSG_WAITALL)

send(b'{"loaded":true}')
receive()  # the driver's first call
"""
_HANG = "\ntime.sleep(600)\n"


@dataclass(frozen=True)
class ChannelAttack:
    """One candidate attacking the driver, and the phrases its ``fail`` may give (one must appear)."""

    name: str
    attack: str  # code run after the first call arrived (``send``, ``receive``, ``channel`` in scope)
    why: tuple[str, ...]

    @property
    def code(self) -> str:
        return _TAKE_OVER + self.attack + _HANG


@dataclass(frozen=True)
class ChannelOutcome:
    name: str
    contained: bool
    detail: str
    seconds: float


CHANNEL_ATTACKS: tuple[ChannelAttack, ...] = (
    ChannelAttack(
        "a set of 100,000 ints that all hash alike",
        'send(b\'{"value":{"s":[\' + ",".join(str(i * (2**61 - 1)) for i in range(100_000)).encode() + b"]}}")',
        ("share a hash",),
    ),
    ChannelAttack(
        "a dict of 100,000 keys that all hash alike",
        'send(b\'{"value":{"d":[\' + ",".join(f"[{i * (2**61 - 1)},0]" for i in range(100_000)).encode() + b"]}}")',
        ("share a hash",),
    ),
    ChannelAttack(
        "a frozenset of tuples that all hash alike",
        'send(b\'{"value":{"z":[\' + ",".join(f\'{{"t":[{i * (2**61 - 1)}]}}\' for i in range(50_000)).encode() + b"]}}")',
        ("share a hash",),
    ),
    ChannelAttack(
        "a legal-sized frame of five million empty lists",
        "send(b'{\"value\":[' + b'[],' * 4_999_999 + b'[]]}')",  # built by one copy: in any machine's call limit
        ("values (limit",),
    ),
    ChannelAttack(
        "a frame that claims 60 MB",
        "channel.sendall(struct.pack('>I', 60 * 1024 * 1024) + b'{' * 65536)",
        ("bytes (limit",),
    ),
    ChannelAttack(
        "nesting 100,000 lists deep",
        "send(b'{\"value\":' + b'[' * 100_000 + b']' * 100_000 + b'}')",
        ("garbage on the channel",),
    ),
    ChannelAttack(
        "a reply trickled one byte every half second",
        """
reply = b'{"value":4}'
channel.sendall(struct.pack(">I", len(reply)))
for byte in reply:
    channel.sendall(bytes([byte]))
    time.sleep(0.5)
""",
        ("call 1 did not finish within", "too slow on"),  # tests' call limit; properties' time per input
    ),
    ChannelAttack(
        "the answer sent with its own pipe's descriptors",
        "read_end, write_end = os.pipe()\nsend(b'{\"value\":4}', fds=(read_end, write_end, 1))",
        ("file descriptors",),
    ),
)


def check_channel(
    verify: Callable[[Task, Proposal], Verdict], attacks: tuple[ChannelAttack, ...] = CHANNEL_ATTACKS, limit: float = 5.0
) -> list[ChannelOutcome]:
    """Run each attack as an answer to ``DISTANCE_TASK``; contained when the verdict is ``fail`` for the
    stated reason within ``limit`` (the verifier's call limit) plus ``MARGIN_SECONDS``."""
    outcomes = []
    for attack in attacks:
        started = time.monotonic()
        verdict = verify(DISTANCE_TASK, Proposal(task_id=DISTANCE_TASK.id, code=attack.code, proposer="corpus:channel"))
        seconds = time.monotonic() - started
        stated = any(why in verdict.detail for why in attack.why)
        contained = verdict.status == "fail" and stated and seconds <= limit + MARGIN_SECONDS
        detail = f"{verdict.status} in {seconds:.1f} s: {verdict.detail[:300]}"
        outcomes.append(ChannelOutcome(attack.name, contained, detail, seconds))
    return outcomes
