"""Watch a running job from outside: drain its output under a cap, enforce its deadline.

Shared by the backends that read a job's output through pipes (namespace, local).
"""

from __future__ import annotations

import os
import select
import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from proctor.sandboxes._base import LimitName

POLL_SECONDS = 0.02
GRACE_SECONDS = 5.0
DRAIN_SECONDS = 1.0  # once the job has ended: time to read what its pipes still hold


@dataclass
class Stream:
    """One captured output stream, kept up to ``limit`` bytes."""

    limit: int
    data: bytearray = field(default_factory=bytearray)
    total: int = 0

    def take(self, chunk: bytes) -> bool:
        """Keep what fits; return False once the stream has gone over its limit."""
        self.total += len(chunk)
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self.total <= self.limit

    @property
    def truncated(self) -> bool:
        return self.total > self.limit


@dataclass
class Watch:
    """How to watch one job: its pipes, its deadline, how to stop it and check its limits.

    ``extra`` is another readable file descriptor (a control socket) with a handler that
    returns False when that source is finished, which means the job has ended: its pipes are
    then drained for at most ``DRAIN_SECONDS`` (a write end the job parked elsewhere, such as in
    its channel, must not keep the watch going). ``channel`` is the job's channel, if any: the
    job is killed once the caller shuts its end down.
    """

    pipes: dict[str, int]
    deadline: float
    output_bytes: int
    kill: Callable[[], None]
    over_limit: Callable[[], LimitName | None] = lambda: None
    extra: tuple[int, Callable[[], bool]] | None = None
    channel: socket.socket | None = None


def _hang_up_watch(channel: socket.socket | None) -> select.poll | None:
    """A poller that reports when the caller shuts down its end of the job's channel.

    The selector cannot watch the channel: it is readable whenever the caller writes to the job,
    and only the job may read it. RDHUP fires on the caller's shutdown alone.
    """
    if channel is None:
        return None
    poller = select.poll()
    poller.register(channel.fileno(), select.POLLRDHUP)
    return poller


def supervise(watch: Watch) -> tuple[dict[str, Stream], LimitName | None]:
    """Run until every pipe and the extra source are closed; kill the job on any limit.

    Returns the captured streams and the limit that stopped the job, if any. After a kill it
    keeps draining for a grace period, then gives up on pipes still held open.
    """
    streams = {name: Stream(watch.output_bytes) for name in watch.pipes}
    selector = selectors.DefaultSelector()
    for name, fd in watch.pipes.items():
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, name)
    if watch.extra:
        selector.register(watch.extra[0], selectors.EVENT_READ, None)
    hang_up = _hang_up_watch(watch.channel)
    hit: LimitName | None = None
    ended = False  # the extra source said the job is over
    stop_at = watch.deadline
    try:
        while selector.get_map():
            now = time.monotonic()
            if now >= stop_at:
                if hit is not None or ended:
                    break  # killed or over, and the pipes still did not close: stop waiting
                hit = "wall"
                watch.kill()
                stop_at = now + GRACE_SECONDS
            for key, _ in selector.select(min(POLL_SECONDS, max(stop_at - now, 0.0))):
                if key.data is None:
                    assert watch.extra is not None
                    if not watch.extra[1]():
                        selector.unregister(key.fd)
                        ended, stop_at = True, min(stop_at, time.monotonic() + DRAIN_SECONDS)
                elif not _read(key, streams, selector) and hit is None:
                    hit = "output"
                    watch.kill()
                    stop_at = time.monotonic() + GRACE_SECONDS
            if hit is None and (hit := watch.over_limit()) is not None:
                watch.kill()
                stop_at = time.monotonic() + GRACE_SECONDS
            if hang_up is not None and hang_up.poll(0):
                watch.kill()  # the caller is done with the job: a channel's life is the job's life
                hang_up = None
    finally:
        selector.close()
    return streams, hit


def _read(key: selectors.SelectorKey, streams: dict[str, Stream], selector: selectors.BaseSelector) -> bool:
    """Read one ready pipe; return False when its stream went over its cap."""
    try:
        chunk = os.read(key.fd, 1 << 16)
    except BlockingIOError:
        return True
    if not chunk:
        selector.unregister(key.fd)
        return True
    return streams[key.data].take(chunk)
