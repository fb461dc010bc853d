"""Simulated results against the closed forms the literature gives for filtering by a verifier.

A filter that accepts good proposals with probability r (recall) and bad ones with q (false
accepts), over proposals that are good with probability p, accepts with precision
r·p / (r·p + q·(1−p)); its gain over no filter is precision − p, positive exactly when r > q.
Resampling until the filter accepts keeps that precision while acceptance goes to 1. The
proposer's claims are such a filter (r = self_recall, q = overconfidence, p = competence).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.scenarios import ledger_metrics, load_suite, run_suite

DATA = Path(__file__).with_name("data")
pytestmark = pytest.mark.slow


def _precision(r: float, q: float, p: float) -> float:
    return r * p / (r * p + q * (1 - p))


def _cells(tmp_path, name, quick=False):
    path = tmp_path / f"{name}.ledger"
    run_suite(load_suite(DATA / f"{name}.toml"), path, quick=quick, workers=2)
    metrics = ledger_metrics(path)
    assert metrics.ok
    return {(c.profile, c.regime): c for c in metrics.cells}


def test_a_threshold_filter_gains_precision_minus_base_rate_exactly_when_recall_beats_false_accepts(tmp_path):
    cells = _cells(tmp_path, "threshold")
    for profile, (r, q) in {"discerning": (0.9, 0.3), "gullible": (0.3, 0.7)}.items():
        cell = cells[(profile, "self")]
        precision, base, gain = (cell.estimate(m).mean for m in ("precision", "base_rate", "gv_gap"))
        assert base == pytest.approx(0.5, abs=0.06), profile
        assert precision == pytest.approx(_precision(r, q, 0.5), abs=0.07), profile
        assert gain == pytest.approx(_precision(r, q, 0.5) - 0.5, abs=0.08), profile
        recall, false_accepts = 1 - cell.estimate("claim_frr").mean, cell.estimate("claim_far").mean
        assert (gain > 0) == (recall > false_accepts), (profile, gain, recall, false_accepts)
    assert cells[("discerning", "self")].estimate("gv_gap").mean > 0 > cells[("gullible", "self")].estimate("gv_gap").mean


def test_resampling_until_accepted_converges_to_the_filters_precision(tmp_path):
    cells = _cells(tmp_path, "resample")
    trusting = cells[("discerning", "self")]
    assert trusting.estimate("acceptance_rate").mean > 0.98
    assert trusting.estimate("precision").mean == pytest.approx(_precision(0.9, 0.3, 0.5), abs=0.07)
    checked = cells[("discerning", "external")]
    assert checked.estimate("precision").mean == 1.0
    assert checked.estimate("acceptance_rate").mean > 0.98
