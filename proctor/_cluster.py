"""Work on a Ray cluster: one function, its calls submitted as futures, on a cluster started here or reached at an address."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

from proctor.errors import InputError, UnavailableError

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def ray_submit(address: str, function: Callable[[T], R]) -> Iterator[Callable[[T], Future[R]]]:
    """``submit(argument)`` runs ``function(argument)`` as a Ray task (one CPU, no retry) and returns its future.

    ``address`` is a cluster's address, ``auto``, or ``local`` (a cluster started here for the duration).
    """
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'proctor[ray]'") from None
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    options.update({"include_dashboard": False} if address == "local" else {"address": address})
    try:
        ray.init(**options)
    except ConnectionError as exc:
        raise UnavailableError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(function)
        yield lambda argument: remote.remote(argument).future()
    finally:
        ray.shutdown()
