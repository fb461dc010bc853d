"""Errors raised by proctor.

A candidate that fails a check is data (a ``Verdict`` or an ``ExecResult``), never an
exception. Exceptions mean the oversight machinery itself could not do its job::

    ProctorError                     root of everything proctor raises on purpose
    ├── InputError                   bad input from the user: a malformed task, a missing file,
    │                                an invalid limit (CLI exit status 2)
    ├── IntegrityError               a record failed verification: a broken chain or checkpoint
    │                                (CLI exit status 1)
    └── UnavailableError             infrastructure is missing or broken (CLI exit status 3)
        └── SandboxUnavailable       a sandbox backend cannot isolate here, or its engine or
                                     image is missing; never a silent fallback to a weaker one

API misuse (wrong argument types, calling methods out of order) raises builtins
(``TypeError``, ``ValueError``, ``RuntimeError``), as Python code usually does.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "IntegrityError",
    "ProctorError",
    "SandboxUnavailable",
    "UnavailableError",
]


class ProctorError(Exception):
    """Root of the errors proctor raises on purpose; its message is one line for the user."""

    exit_code = 1


class InputError(ProctorError):
    """The user's input is malformed; the message names what and how to fix it."""

    exit_code = 2


class IntegrityError(ProctorError):
    """A record failed verification (tampering, truncation, a forked chain)."""

    exit_code = 1


class UnavailableError(ProctorError):
    """Infrastructure proctor needs is missing or broken on this machine."""

    exit_code = 3


class SandboxUnavailable(UnavailableError):
    """A sandbox backend cannot run isolated jobs here; the message says why and what to do."""
