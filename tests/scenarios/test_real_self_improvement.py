"""The real-self-improvement suite's quick run: a real model over two rounds, its library built by each regime's rule.

Needs the local-llm extra (``.ci/run`` installs it); skipped, naming it, where it is missing.
"""

from __future__ import annotations

import pytest

from proctor.ledger import Ledger
from proctor.scenarios import ledger_metrics, load_suite, run_suite
from tests.loop.test_llama import needs_extra

pytestmark = [pytest.mark.slow, needs_extra]


def test_round_two_prompts_draw_on_what_round_one_accepted_under_each_regime(tmp_path):
    path = tmp_path / "real-self-improvement.ledger"
    run_suite(load_suite("real-self-improvement"), path, quick=True, workers=1)
    metrics = ledger_metrics(path)
    assert metrics.ok and {(c.regime, c.round) for c in metrics.cells} == {
        (r, n) for r in ("external", "hybrid", "self", "none") for n in (1, 2)
    }
    with Ledger(path, readonly=True) as book:
        starts = {e.run: e.data["config"]["scenario"] for e in book.entries(kinds=["run_start"])}
        accepted = {e.data["proposal_id"] for e in book.entries(kinds=["decision"]) if e.data["outcome"] == "accept"}
        proposals = {e.data["id"]: e for e in book.entries(kinds=["proposal"])}
    for run, scenario in starts.items():
        if scenario["round"] != 2:
            continue
        first = next(r for r, s in starts.items() if s["round"] == 1 and s["regime"] == scenario["regime"])
        kept = [p for p in accepted if proposals[p].run == first]
        assert scenario["library"]["size"] == len(kept)  # the library is exactly what round one accepted
        shown = {t for p in proposals.values() if p.run == run for t in p.data["metadata"]["exemplars"]}
        assert shown <= {proposals[p].data["task_id"] for p in kept}
