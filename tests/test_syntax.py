"""Parsing from many threads at once, as batch verification does, never fails a parse."""

from __future__ import annotations

import ast
import sys
import threading

import pytest

from proctor._syntax import literal, parse_python
from proctor.tasks import humaneval_tasks

# The interpreters whose ast.parse shares one recursion counter between threads (gh-106905).
AFFECTED = sys.version_info < (3, 11, 8) or (3, 12) <= sys.version_info < (3, 12, 2)


class _Cycle:
    """Garbage the collector frees in the middle of someone's parse, running Python code as it goes."""

    def __del__(self):
        sum(range(50))


def _system_errors(parse, rounds: int = 4, threads: int = 4) -> list[str]:
    sources = [source for task in humaneval_tasks().values() for source in (task.prompt, task.tests or "")]
    errors: list[str] = []

    def work():
        for _ in range(rounds):
            for source in sources:
                garbage = [_Cycle() for _ in range(3)]
                for item in garbage:
                    item.me = item
                del garbage
                try:
                    parse(source)
                except SystemError as exc:
                    errors.append(str(exc))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_parsing_in_many_threads_at_once_never_raises_system_error():
    assert _system_errors(parse_python) == []


@pytest.mark.skipif(not AFFECTED, reason="this interpreter's ast.parse is thread-safe (gh-106905 fixed in 3.11.8 and 3.12.2)")
def test_the_same_load_breaks_plain_ast_parse_on_this_interpreter():
    # Shows the test above can fail: without parse_python's lock the same load raises.
    assert any("recursion depth mismatch" in error for error in _system_errors(ast.parse))


def test_literal_reads_python_literals_through_the_guarded_parser():
    assert literal(" (1, 'a', [2.5, None]) ") == (1, "a", [2.5, None])
    with pytest.raises(ValueError):
        literal("open('x')")
