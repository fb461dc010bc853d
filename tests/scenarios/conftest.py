"""Scenario fixtures: quick runs of the shipped suites, shared by the tests that read them."""

from __future__ import annotations

import pytest

from proctor.scenarios import ledger_metrics, load_suite, run_suite


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """Run a shipped suite's quick variant once per session (2 workers); returns (ledger, metrics)."""
    done = {}

    def run(name):
        if name not in done:
            path = tmp_path_factory.mktemp("suites") / f"{name}.ledger"
            run_suite(load_suite(name), path, quick=True, workers=2)
            done[name] = path, ledger_metrics(path)
        return done[name]

    return run


def cells_by(metrics):
    return {(c.profile, c.regime, c.round): c for c in metrics.cells}


def mean(cell, metric):
    return cell.estimate(metric).mean
