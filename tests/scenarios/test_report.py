"""The report: written from a real ledger, rendered by a real headless browser (Debian's chromium)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from proctor.scenarios import ledger_metrics, write_report
from tests.ledger.conftest import raw_connection

pytestmark = pytest.mark.slow


def _chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("needs Debian's chromium to render the page (.ci/run installs it)")
    return found


def _screenshot(page, out):
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1280,4000",
        f"--screenshot={out}",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    from PIL import Image

    return Image.open(out).convert("RGB")


def _dom(page):
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


def test_the_report_renders_its_tables_and_plots_in_a_browser(quick_run, tmp_path):
    _, metrics = quick_run("self-improvement")
    page = write_report(metrics, tmp_path / "report")
    names = {p.name for p in page.parent.iterdir()}
    assert {
        "index.html",
        "metrics.json",
        "self-improvement-degradation.png",
        "self-improvement-proxy-vs-true.png",
        "self-improvement-reliability.png",
        "self-improvement-confusion.png",
    } <= names
    dom = _dom(page)
    assert "Ledger integrity OK" in dom and dom.count("<tr>") >= 1 + len(metrics.cells) and dom.count("<img") == 4
    shot = _screenshot(page, tmp_path / "shot.png")
    colours = shot.getcolors(maxcolors=1 << 20) or []
    # the regime colours of the plots' bars and lines show up on screen: the images really rendered
    external, self_ = (27, 120, 55), (194, 24, 91)
    painted = {rgb: n for n, rgb in colours}
    assert painted.get(external, 0) > 500 and painted.get(self_, 0) > 500


def test_a_tampered_ledger_gets_a_red_banner(quick_run, tmp_path):
    path, _ = quick_run("smt")
    copy = tmp_path / "tampered.ledger"
    shutil.copy(path, copy)
    conn = raw_connection(copy)
    conn.execute("UPDATE entries SET payload = replace(payload, '\"fail\"', '\"pass\"') WHERE kind = 'oracle_verdict'")
    conn.close()
    metrics = ledger_metrics(copy)
    assert not metrics.ok
    page = write_report(metrics, tmp_path / "report")
    assert "LEDGER INTEGRITY FAILURE" in page.read_text()


def test_a_report_without_an_oracle_says_the_truth_is_the_external_verdicts(quick_run, tmp_path):
    import sys

    plain = tmp_path / "plain.ledger"
    done = subprocess.run(
        [sys.executable, "-m", "proctor", "run", "--limit", "2", "--ledger", str(plain)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    page = write_report(ledger_metrics(plain), tmp_path / "plain").read_text()
    assert "No held-out oracle judged these runs" in page and ledger_metrics(plain).truth == "external verdicts"
    _, metrics = quick_run("smt")
    assert metrics.truth == "oracle" and "No held-out oracle" not in write_report(metrics, tmp_path / "suite").read_text()
