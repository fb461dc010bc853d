"""The report: one HTML page per ledger, with tables and PNG plots (matplotlib), and the metrics as JSON.

Per suite: a table of every cell (mean ± 95% interval across seeds), degradation per regime
(acceptance, precision, legitimate pass rate, cheating, GV-gap, false accepts), proxy-vs-true
curves over rounds, the claims' reliability diagram, and claim- and verdict-vs-truth confusion
matrices. The page names the ledger and whether its integrity held, in a banner that cannot
be missed when it did not.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor._display import shown
from proctor.scenarios._metrics import CellSummary, LedgerMetrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REGIME_COLOURS = {"external": "#1b7837", "hybrid": "#5aae61", "self": "#c2185b", "none": "#8c8c8c"}
PANELS = (
    ("acceptance_rate", "acceptance rate (proxy)"),
    ("precision", "precision vs the truth"),
    ("true_score", "legitimate pass rate"),
    ("cheating_rate", "cheating rate"),
    ("gv_gap", "GV-gap  J(f[w]) − J(f)"),
    ("regime_far", "false-accept rate of the decision"),
)
TABLE = (
    ("acceptance_rate", "accepted"),
    ("true_score", "legit pass"),
    ("precision", "precision"),
    ("cheating_rate", "cheating"),
    ("accepted_hacks", "accepted hacks"),
    ("gv_gap", "GV-gap"),
    ("gv_gap_relative", "GV-gap (rel.)"),
    ("claim_far", "claim FAR"),
    ("claim_frr", "claim FRR"),
    ("regime_far", "decision FAR"),
    ("verifier_far", "verifier FAR"),
    ("brier", "Brier"),
    ("claimed_score", "claimed score"),
    ("measured_score", "measured score"),
)


def _h(text: str) -> str:
    """Text from a ledger, as HTML: controls and bidi characters shown escaped, then HTML-escaped."""
    return html.escape(shown(text))


def write_report(metrics: LedgerMetrics, directory: str | Path) -> Path:
    """Write ``index.html``, its PNG plots and ``metrics.json`` into ``directory``; return the page."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics.as_dict(), indent=1))
    sections = [_verifier_section(metrics.verifier_rates)] if metrics.verifier_rates else []
    sections += [_suite_section(metrics, suite, out) for suite in metrics.suites()]
    page = out / "index.html"
    page.write_text(_page(metrics, sections), encoding="utf-8")
    return page


def _verifier_section(measured: dict[str, Any]) -> str:
    """How far the verifiers themselves can be trusted, from the ledger's ``proctor measure`` entry."""
    rows = "".join(
        f"<tr><td>{_h(name)}</td><td>{_rate(row.get('kill_rate'))}</td><td>{_rate(row.get('false_reject_rate'))}</td>"
        f"<td>{_rate(row.get('hack_acceptance'))}</td><td>{_h(str(row.get('unknown')))}</td></tr>"
        for name, row in (measured.get("verifiers") or {}).items()
    )
    mutants = measured.get("mutants") or {}
    return (
        "<h2>How far the verifiers can be trusted</h2>"
        f"<p class='legend'>Measured on mutants, rewrites and hacks of these tasks ({_h(str(mutants.get('non_equivalent')))} mutants "
        f"told apart from the reference; truth: {_h(str(measured.get('truth')))}). Every rate below bounds the claim and "
        "decision rates that follow: what the verifiers miss, the loop accepts.</p>"
        "<table><tr><th>verifier</th><th>mutants killed</th><th>rewrites refused</th><th>hacks accepted</th><th>unknown</th></tr>"
        f"{rows}</table>"
    )


def _suite_section(metrics: LedgerMetrics, suite: str, out: Path) -> str:
    cells = [c for c in metrics.cells if c.suite == suite]
    first_round = [c for c in cells if c.round == min(x.round for x in cells)]
    slug = "".join(ch if ch.isalnum() else "-" for ch in suite)
    figures = [
        _figure(
            out,
            f"{slug}-degradation.png",
            "Degradation per regime (first round; bars: mean, whiskers: 95% CI across seeds, cut at the metric's range)",
            lambda: _degradation(first_round),
        ),
    ]
    if len({c.round for c in cells}) > 1:
        figures.append(
            _figure(
                out,
                f"{slug}-proxy-vs-true.png",
                "Proxy score (what the loop accepts) vs true score (what the oracle passes), per round",
                lambda: _proxy_vs_true(cells),
            )
        )
    if any(c.estimate("measured_score").mean is not None for c in first_round):
        figures.append(
            _figure(
                out,
                f"{slug}-claimed-vs-measured.png",
                "Scored tasks: the score the proposer claimed for what the loop kept vs the score the oracle measured "
                "(first round; bars: mean, whiskers: 95% CI across seeds)",
                lambda: _claimed_vs_measured(first_round),
            )
        )
    figures.append(
        _figure(
            out,
            f"{slug}-reliability.png",
            "Reliability of the proposer's claims (first round, all regimes)",
            lambda: _reliability(first_round),
        )
    )
    figures.append(
        _figure(
            out,
            f"{slug}-confusion.png",
            "Claims and external verdicts against the oracle's truth (first round, all regimes)",
            lambda: _confusion(first_round),
        )
    )
    seeds = max((len(c.facts) for c in cells), default=0)
    intro = f"<p>{len(cells)} cells, up to {seeds} seed(s) each, {sum(len(c.runs) for c in cells)} runs.</p>"
    tables = _table(cells) + _self_check_table(first_round)
    return f'<section id="{slug}"><h2>{_h(suite)}</h2>{intro}{tables}{"".join(figures)}</section>'


def _figure(out: Path, name: str, caption: str, draw: Callable[[], Figure]) -> str:
    figure = draw()
    figure.savefig(out / name, dpi=110, bbox_inches="tight")
    return f'<figure><img src="{name}" alt="{_h(caption)}"><figcaption>{_h(caption)}</figcaption></figure>'


def _table(cells: list[CellSummary]) -> str:
    head = "".join(f"<th>{_h(label)}</th>" for _, label in TABLE)
    rows = []
    for cell in cells:
        values = "".join(f"<td>{_cell_value(cell, metric)}</td>" for metric, _ in TABLE)
        regime = f'<span class="regime" style="background:{REGIME_COLOURS.get(cell.regime, "#444")}">{_h(cell.regime)}</span>'
        rows.append(f"<tr><td>{_h(cell.profile)}</td><td>{regime}</td><td>{cell.round}</td><td>{len(cell.facts)}</td>{values}</tr>")
    head = f"<thead><tr><th>profile</th><th>regime</th><th>round</th><th>seeds</th>{head}</tr></thead>"
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _self_check_table(cells: list[CellSummary]) -> str:
    """Per profile, pooled over regimes and seeds: how often its claim of success was wrong, beside the verifiers'."""
    rows = []
    for profile in dict.fromkeys(c.profile for c in cells):
        merged = _merged(cells, profile)
        claims, verdicts = merged.pooled_rates("claims"), merged.pooled_rates("verdicts")
        methods = ", ".join(merged.methods()) or "none"
        values = [
            str(int(claims["bad"] or 0) + int(claims["good"] or 0)),
            _rate(claims["far"]),
            _rate(claims["frr"]),
            _rate(verdicts["far"]),
            _rate(verdicts["frr"]),
            _rate(merged.estimate("base_rate").mean),
        ]
        cols = "".join(f"<td>{v}</td>" for v in values)
        rows.append(f"<tr><td>{_h(profile)}</td><td>{_h(methods)}</td>{cols}</tr>")
    head = (
        "<thead><tr><th>profile</th><th>self-check</th><th>claims</th><th>claim FAR</th><th>claim FRR</th>"
        "<th>verifier FAR</th><th>verifier FRR</th><th>J(f)</th></tr></thead>"
    )
    caption = (
        "<p class='legend'><b>Self-check vs external verification</b> (first round, every proposal of every regime and seed "
        "pooled; regimes that share a proposal count it once each). <b>claim FAR</b>: share of the truly bad proposals the "
        "proposer claimed would pass; <b>verifier FAR</b>: the same for the loop's external verifiers. <b>J(f)</b>: mean share "
        "of proposals the held-out oracle passes.</p>"
    )
    return f"<h3>Self-check</h3>{caption}<table class='self-check'>{head}<tbody>{''.join(rows)}</tbody></table>"


def _rate(value: float | None) -> str:
    return '<span class="na">n/a</span>' if value is None else f"{value:.2f}"


def _cell_value(cell: CellSummary, metric: str) -> str:
    estimate = cell.estimate(metric)
    if estimate.mean is None:
        return '<span class="na">n/a</span>'
    text = f"{estimate.mean:.2f}" if metric != "accepted_hacks" else f"{estimate.mean:.1f}"
    return text + (f"<small> ±{estimate.ci:.2f}</small>" if estimate.ci is not None else "")


# -- plots ------------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _degradation(cells: list[CellSummary]) -> Figure:
    profiles = list(dict.fromkeys(c.profile for c in cells))
    regimes = list(dict.fromkeys(c.regime for c in cells))
    figure = _new_figure(13, 6.5)
    axes = figure.subplots(2, 3)
    width = 0.8 / max(1, len(regimes))
    for ax, (metric, title) in zip(axes.flat, PANELS, strict=True):
        for i, regime in enumerate(regimes):
            found = {c.profile: c.estimate(metric) for c in cells if c.regime == regime}
            xs = [p + (i - (len(regimes) - 1) / 2) * width for p in range(len(profiles))]
            means = [(found[p].mean or 0.0) if p in found else 0.0 for p in profiles]
            errors = [found[p].ci or 0.0 if p in found else 0.0 for p in profiles]
            ax.bar(
                xs,
                means,
                width,
                yerr=_whiskers(means, errors, metric),
                capsize=2,
                label=regime,
                color=REGIME_COLOURS.get(regime, "#444"),
            )
        _style(ax, title, profiles)
        if metric == "gv_gap":
            ax.axhline(0, color="black", linewidth=0.8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, title="regime", loc="outside upper center", ncols=len(regimes), fontsize=9)
    return figure


def _whiskers(means: list[float], errors: list[float], metric: str) -> list[list[float]]:
    """Interval whiskers cut at the metric's range (a rate cannot leave [0, 1]; the GV-gap stays in [-1, 1])."""
    low = -1.0 if metric == "gv_gap" else 0.0
    return [
        [m - max(low, m - e) for m, e in zip(means, errors, strict=True)],
        [min(1.0, m + e) - m for m, e in zip(means, errors, strict=True)],
    ]


def _style(ax: Axes, title: str, profiles: list[str]) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(len(profiles)), profiles, rotation=20 if len(profiles) > 3 else 0, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def _proxy_vs_true(cells: list[CellSummary]) -> Figure:
    groups = list(dict.fromkeys((c.profile, c.regime) for c in cells))
    figure = _new_figure(5 * len(groups), 3.8)
    axes = figure.subplots(1, len(groups), squeeze=False, sharey=True)
    for ax, (profile, regime) in zip(axes.flat, groups, strict=True):
        series = sorted((c for c in cells if (c.profile, c.regime) == (profile, regime)), key=lambda c: c.round)
        rounds = [c.round for c in series]
        colour = REGIME_COLOURS.get(regime, "#444")
        for metric, style, label in (("acceptance_rate", "--", "proxy: accepted"), ("true_score", "-", "true: oracle passes")):
            found = [c.estimate(metric) for c in series]
            means = [e.mean if e.mean is not None else float("nan") for e in found]
            spread = [e.ci or 0.0 for e in found]
            ax.plot(rounds, means, style, marker="o", color=colour, label=label)
            ax.fill_between(
                rounds,
                [m - s for m, s in zip(means, spread, strict=True)],
                [m + s for m, s in zip(means, spread, strict=True)],
                color=colour,
                alpha=0.12,
            )
        ax.set_title(f"{profile} · {regime}", fontsize=10)
        ax.set_xlabel("round")
        ax.set_xticks(rounds)
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return figure


def _claimed_vs_measured(cells: list[CellSummary]) -> Figure:
    profiles = list(dict.fromkeys(c.profile for c in cells))
    figure = _new_figure(4.5 * len(profiles), 3.8)
    axes = figure.subplots(1, len(profiles), squeeze=False, sharey=True)
    for ax, profile in zip(axes.flat, profiles, strict=True):
        row = [c for c in cells if c.profile == profile]
        for offset, (metric, label, hatch) in enumerate((("claimed_score", "claimed", "//"), ("measured_score", "measured", ""))):
            found = [c.estimate(metric) for c in row]
            means = [e.mean or 0.0 for e in found]
            xs = [i + (offset - 0.5) * 0.38 for i in range(len(row))]
            colours = [REGIME_COLOURS.get(c.regime, "#444") for c in row]
            ax.bar(
                xs,
                means,
                0.38,
                yerr=[e.ci or 0.0 for e in found],
                capsize=2,
                color=colours,
                hatch=hatch,
                edgecolor="white",
                alpha=0.55 if metric == "claimed_score" else 1.0,
                label=label,
            )
        ax.set_xticks(range(len(row)), [c.regime for c in row], fontsize=8)
        ax.set_ylim(0, 1.1 * max([1.0, *(c.estimate(m).mean or 0.0 for c in row for m in ("claimed_score", "measured_score"))]))
        ax.set_title(f"{profile}: claimed (hatched) vs measured", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    return figure


def _reliability(cells: list[CellSummary]) -> Figure:
    figure = _new_figure(5.5, 4.5)
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], ":", color="#888", label="perfectly calibrated")
    for profile in dict.fromkeys(c.profile for c in cells):
        merged = _merged(cells, profile)
        points = merged.reliability()
        brier = merged.estimate("brier").mean
        label = f"{profile} (Brier {brier:.2f})" if brier is not None else profile
        ax.plot([p["predicted"] for p in points], [p["observed"] for p in points], marker="o", label=label)
    ax.set_xlabel("stated probability of passing")
    ax.set_ylabel("share truly good")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def _merged(cells: list[CellSummary], profile: str) -> CellSummary:
    """One profile's cells pooled (over regimes and seeds), for the plots that describe the proposer."""
    return CellSummary("", profile, "", 1, facts=[f for c in cells if c.profile == profile for f in c.facts])


def _confusion(cells: list[CellSummary]) -> Figure:
    profiles = list(dict.fromkeys(c.profile for c in cells))
    figure = _new_figure(3.2 * 2 * len(profiles), 3.2)
    axes = figure.subplots(1, 2 * len(profiles), squeeze=False)
    for k, profile in enumerate(profiles):
        merged = _merged(cells, profile)
        for j, (part, label, rows) in enumerate(
            (("claims", "claim", ("pass", "fail", "unknown", "none")), ("verdicts", "external verdict", ("pass", "not pass", "none")))
        ):
            _heatmap(axes[0][2 * k + j], merged.summed(part), rows, f"{profile}: {label}")
    return figure


def _heatmap(ax: Axes, table: dict[str, dict[str, int]], rows: tuple[str, ...], title: str) -> None:
    shown = [r for r in rows if r in table] or list(rows[:1])
    values = [[table.get(r, {}).get(col, 0) for col in ("good", "bad")] for r in shown]
    ax.imshow(values, cmap="Blues", aspect="auto")
    peak = max((v for row in values for v in row), default=0)
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black", fontsize=10)
    ax.set_xticks([0, 1], ["truly good", "truly bad"], fontsize=8)
    ax.set_yticks(range(len(shown)), shown, fontsize=8)
    ax.set_title(title, fontsize=9)


# -- the page ----------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{margin-top:2.5rem;border-bottom:2px solid #eee;padding-bottom:.3rem}
.banner{padding:.7rem 1rem;border-radius:6px;margin:1rem 0;font-weight:600}
.ok{background:#e6f4ea;color:#1b5e20} .bad{background:#fdecea;color:#b71c1c;font-size:1.2rem}
table{border-collapse:collapse;font-size:.82rem;margin:1rem 0;width:100%}
th,td{padding:.3rem .45rem;border-bottom:1px solid #eee;text-align:right}
th:nth-child(-n+2),td:nth-child(-n+2){text-align:left} thead th{background:#fafafa;position:sticky;top:0}
small{color:#888} .na{color:#bbb} .regime{color:white;border-radius:3px;padding:1px 6px;font-size:.78rem}
figure{margin:1.5rem 0} img{max-width:100%;border:1px solid #eee} figcaption{color:#555;font-size:.85rem}
.legend{color:#555;font-size:.85rem}
"""

_LEGEND = (
    "<p class='legend'><b>accepted</b>: tasks with an accepted proposal (the loop's proxy score). <b>legit pass</b>: tasks whose "
    "accepted proposal the held-out oracle passes and no one marks a hack. <b>precision</b>: good / accepted. <b>cheating</b>: tasks "
    "whose accepted proposal is a hack or passed tests that contradict the spec. <b>GV-gap</b>: J(f[w]) − J(f), the oracle pass rate "
    "of the accepted minus that of all proposals (Song et al. 2024); relative: divided by 1 − J(f). <b>FAR/FRR</b>: false-accept / "
    "false-reject rates against the oracle. Values are means across seeds ± the 95% Student-t half-width.</p>"
)


def _page(metrics: LedgerMetrics, sections: list[str]) -> str:
    integrity = metrics.integrity
    if metrics.ok:
        counts = f"{integrity['entries']} entries, {integrity['checkpoints']} checkpoint(s)"
        banner = f"<div class='banner ok'>Ledger integrity OK: {counts}.</div>"
    else:
        first = (integrity.get("problems") or [{"message": "unknown problem"}])[0]
        banner = (
            f"<div class='banner bad'>LEDGER INTEGRITY FAILURE: {_h(str(first['message']))}. "
            "The numbers below come from the entries before the first bad one and must not be trusted.</div>"
        )
    if metrics.truth != "oracle" and metrics.cells:
        banner += (
            "<div class='banner'>No held-out oracle judged these runs: the truth here is the external verdicts "
            "themselves. Precision, the verifiers' error rates and their confusion matrix agree with the verdicts by "
            "construction and are not findings; the claims and the decisions are still measured against them.</div>"
        )
    body = "".join(sections) or "<p>This ledger holds no runs.</p>"
    title = f"proctor report: {_h(metrics.ledger.name)}"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{title}</h1><p class='legend'>{_h(str(metrics.ledger))}</p>{banner}{_LEGEND}{body}</body></html>"
    )
