"""Parsing Python source into an ``ast`` tree, safely from any thread.

CPython 3.11 before 3.11.8 (and 3.12 before 3.12.2) keeps one recursion counter per interpreter
while it builds ``ast`` objects (gh-106905, fixed by gh-113035). A garbage collection in the
middle of one thread's ``ast.parse`` can run Python code and hand the GIL to another thread that
is parsing too, and one of them fails with ``SystemError: AST constructor recursion depth
mismatch``. proctor parses in verifier and loop threads (a batch of samples is verified four at a
time), so the interpreter could fail a correct candidate. Every parse in proctor goes through
``parse_python``, which builds one tree at a time in a process; parsing is never the hot path,
so the lock is kept on fixed interpreters too. Plain ``compile`` to bytecode builds no ``ast``
objects and needs no lock.
"""

from __future__ import annotations

import ast
import threading
from typing import Any, Literal

_PARSING = threading.RLock()  # reentrant: a collection in the middle of a parse may run code that parses


def parse_python(source: str, mode: Literal["exec", "eval"] = "exec", filename: str = "<unknown>") -> Any:
    """``ast.parse(source, filename, mode)``, one thread at a time."""
    with _PARSING:
        return ast.parse(source, filename, mode)


def parse_lock() -> Any:
    """The lock ``parse_python`` holds, for code that makes other libraries parse (Hypothesis reads the
    source of the functions ``st.composite`` and ``given`` decorate): hold it around that code."""
    return _PARSING


def literal(source: str) -> Any:
    """``ast.literal_eval`` of a source string, parsed through ``parse_python``."""
    return ast.literal_eval(parse_python(source.strip(), mode="eval"))
