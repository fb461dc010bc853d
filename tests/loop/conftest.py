"""Loop fixtures: small tasks with tests, a real sandbox and pipeline, real ledgers."""

from __future__ import annotations

import pytest

from proctor.ledger import Auditor, Ledger
from proctor.models import Task

INC = Task(
    id="inc",
    prompt="def inc(x: int) -> int:\n    '''Return x plus one.\n    >>> inc(1)\n    2\n    '''\n",
    entry_point="inc",
    tests="def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(41) == 42\n    assert candidate(-1) == 0\n",
    reference="def inc(x: int) -> int:\n    return x + 1\n",
)
DOUBLE = Task(
    id="double",
    prompt="def double(x: int) -> int:\n    '''Return twice x.'''\n",
    entry_point="double",
    tests="def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(0) == 0\n    assert candidate(-3) == -6\n",
    reference="def double(x: int) -> int:\n    return 2 * x\n",
)
GOOD = {"inc": INC.reference, "double": DOUBLE.reference}
BAD = {"inc": "def inc(x: int) -> int:\n    return x + 2\n", "double": "def double(x: int) -> int:\n    return x + x + 1\n"}


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "loop.ledger"


def entries(path, run=None, kind=None):
    with Ledger(path, readonly=True) as book:
        return [e for e in book.entries(run=run, kinds=[kind] if kind else None)]


def audit(path, run):
    auditor = Auditor(run)
    with Ledger(path, readonly=True) as book:
        for entry in book.entries(run=run):
            auditor.visit(entry.seq, entry.as_dict())
    return auditor.runs[run].summary()
