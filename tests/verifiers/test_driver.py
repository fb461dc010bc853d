"""The driver's evidence text: bounded as reprlib bounds it, quick for what tests pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.verifiers._driver import _short, short

evidence_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=200) | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=16)
        | st.tuples(inner)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(evidence_values)
def test_short_evidence_text_is_reprlibs_whichever_path_makes_it(value):
    assert short(value) == _short.repr(value)


@pytest.mark.parametrize("value", [10**39 - 1, 10**39, -(10**39) + 1, "a" * 120, "a" * 121, "\x00" * 40, [1] * 12, [1] * 13, (1,)])
def test_short_evidence_text_at_reprlibs_limits(value):
    assert short(value) == _short.repr(value)
