"""Scenarios: measure how results degrade when self-verification replaces external verification.

A ``Suite`` (TOML; four ship with proctor) crosses tasks with proposer profiles, regimes, seeds
and rounds. ``run_suite`` runs every cell through the loop, in worker processes or on Ray, with
a held-out oracle whose verdicts go only to the ledger. ``suite_metrics`` reads the ledger back
into per-cell metrics with confidence intervals across seeds; ``write_report`` renders them as
an HTML page with plots.
"""

from proctor.scenarios._metrics import CellSummary, Estimate, LedgerMetrics, ledger_metrics, run_facts
from proctor.scenarios._oracle import HeldOut, VerdictMemo, loop_view, oracle_view
from proctor.scenarios._report import write_report
from proctor.scenarios._runner import SuiteRun, Unit, accepted_kinds, execute, run_suite
from proctor.scenarios._suite import Cell, Plan, ProfileSpec, Quick, Suite, load_suite, suite_names

__all__ = [
    "Cell",
    "CellSummary",
    "Estimate",
    "HeldOut",
    "LedgerMetrics",
    "Plan",
    "ProfileSpec",
    "Quick",
    "Suite",
    "SuiteRun",
    "Unit",
    "VerdictMemo",
    "accepted_kinds",
    "execute",
    "ledger_metrics",
    "load_suite",
    "loop_view",
    "oracle_view",
    "run_facts",
    "run_suite",
    "suite_names",
    "write_report",
]
