"""Text a candidate or a proposer controls, made safe to show a person.

A candidate writes its own exception messages and output, and its code is shown to the person who
approves it. Shown raw, an escape sequence can erase the lines above and print "ACCEPTED" where
proctor printed "REJECTED", write the reader's clipboard (OSC 52) or hide a link target (OSC 8);
a bidi override ("Trojan Source") makes code read differently from what it is. ``shown`` turns
every such character into its visible escape (``\\x1b``, ``\\u202e``), so nothing is interpreted and
the reader can see that something was there. The ledger keeps the exact bytes; only what is
displayed is escaped.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class Hidden(NamedTuple):
    """A character that would not show as itself: its line, column, code point and name."""

    line: int
    column: int
    char: str

    def describe(self) -> str:
        kind = "bidi control" if self.char in BIDI_CONTROLS else "invisible character"
        name = unicodedata.name(self.char, "UNNAMED")
        return f"line {self.line}, column {self.column}: U+{ord(self.char):04X} {name} ({kind})"


def _escaped(char: str, keep: str) -> bool:
    """Whether ``char`` is shown escaped: Python's non-printable characters (controls, format characters such
    as bidi controls and zero-width spaces, separators other than the space, surrogates, private and
    unassigned code points), but for those in ``keep``."""
    return not char.isprintable() and char not in keep


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shown(text: str, *, block: bool = False) -> str:
    """``text`` with every character that would not show as itself (see ``_escaped``) shown as its escape.

    ``block=True`` keeps plain newlines and tabs (a block of code or output); otherwise a newline
    is escaped too, so one line stays one line.
    """
    keep = "\n\t" if block else ""
    if text.isascii() and text.isprintable():  # the common case: nothing to do
        return text
    return "".join(_escape(c) if _escaped(c, keep) else c for c in text)


def hidden_characters(text: str) -> list[Hidden]:
    """Every bidi control and invisible or look-alike character in ``text`` (tabs and newlines aside), with where it is."""
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        for column, char in enumerate(line, 1):
            if _escaped(char, "\t"):
                found.append(Hidden(number, column, char))
    return found
