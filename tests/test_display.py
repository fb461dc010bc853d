"""Untrusted text made safe to show: every control, escape, bidi and invisible character visibly escaped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor._display import BIDI_CONTROLS, hidden_characters, shown

ATTACKS = {
    "cursor up and erase": "x\x1b[2K\r\x1b[1A\x1b[2K\x1b[32mACCEPTED\x1b[0m",
    "OSC 52 clipboard": "\x1b]52;c;ZXZpbA==\x07",
    "OSC 8 hyperlink": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "bell": "ding\x07",
    "C1 CSI": "\x9b2J",
    "bidi override": "if admin\u202e } \u2066 {\u2069",
    "zero width": "pass\u200bword\ufeff",
    "line separator": "one\u2028two",
}


@pytest.mark.parametrize("text", ATTACKS.values(), ids=list(ATTACKS))
def test_nothing_a_terminal_would_interpret_survives(text):
    out = shown(text)
    assert all(c.isprintable() for c in out), repr(out)
    assert "\\x1b" in out or "\\u" in out or "\\x07" in out or "\\x9b" in out


def test_escapes_are_visible_and_ordinary_text_is_untouched():
    assert shown("\x1b[2K") == "\\x1b[2K"
    assert shown("a\u202eb") == "a\\u202eb"
    assert shown("naïve 中文 café ✓ — ok") == "naïve 中文 café ✓ — ok"
    assert shown("a\u00a0b") == "a\\xa0b"  # a no-break space looks like a space and is not one
    assert shown("two\nlines") == "two\\x0alines"  # one line stays one line
    assert shown("two\n\tlines\r", block=True) == "two\n\tlines\\x0d"  # a block keeps newlines and tabs, never a carriage return


@given(st.text())
def test_shown_text_is_printable_but_for_the_newlines_and_tabs_a_block_keeps(text):
    assert all(c.isprintable() for c in shown(text))
    assert all(c.isprintable() or c in "\n\t" for c in shown(text, block=True))


def test_hidden_characters_are_named_with_where_they_are():
    found = hidden_characters("x = 1\nif ok:\u202e  # \u200b\n")
    assert [(h.line, h.column) for h in found] == [(2, 7), (2, 12)]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE (bidi control)" in found[0].describe()
    assert "U+200B ZERO WIDTH SPACE (invisible character)" in found[1].describe()
    assert all(c in BIDI_CONTROLS for c in "\u202a\u202e\u2066\u2069\u200e\u061c")


def test_the_html_report_escapes_controls_and_bidi_before_html():
    import inspect

    from proctor.scenarios import _report

    assert _report._h("<b>\u202eevil\x1b[2K</b>") == "&lt;b&gt;\\u202eevil\\x1b[2K&lt;/b&gt;"
    source = inspect.getsource(_report)
    assert source.count("html.escape(") == 1  # only inside _h: every text the page takes from a ledger goes through it
