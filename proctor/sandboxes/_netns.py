"""Channels made where they tell a job nothing: socket pairs created in another network namespace.

A socket answers ioctls and binds in the network namespace it was created in, not its holder's:
made in the verifier's, a job's fd 3 would list the host's interfaces, and a bind on it would put
a name in the host's abstract socket space for the job's life. ``setns`` and ``unshare`` move only
the calling thread, so each runs in a short thread of its own.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)
T = TypeVar("T")


def pair_in(namespace: str) -> tuple[socket.socket, socket.socket]:
    """A connected stream pair made in the network namespace at ``namespace`` (a ``/proc/…/ns/net`` path)."""

    def make() -> tuple[socket.socket, socket.socket]:
        fd = os.open(namespace, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(_LIBC.setns(fd, CLONE_NEWNET))
        finally:
            os.close(fd)
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    return _in_thread(make)


def private_namespace() -> int:
    """A new network namespace (offline: a loopback that is down), held open by the descriptor returned."""

    def make() -> int:
        _check(_LIBC.unshare(CLONE_NEWNET))
        return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)

    return _in_thread(make)


def _check(result: int) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _in_thread(work: Callable[[], T]) -> T:
    made: list[T | BaseException] = []

    def run() -> None:
        try:
            made.append(work())
        except BaseException as exc:  # noqa: BLE001  (handed to the caller's thread)
            made.append(exc)

    thread = threading.Thread(target=run, name="proctor-netns")
    thread.start()  # the namespace change ends with the thread
    thread.join()
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]
