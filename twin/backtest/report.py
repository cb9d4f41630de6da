"""Self-contained HTML report of a backtest run (plotly.js inlined, no network needed)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
from plotly.offline import get_plotlyjs

from twin.backtest.ems_figures import ems_section_html
from twin.backtest.etrm_report import etrm_section_html
from twin.backtest.figures import cumulative_revenue_figure, pick_week, week_figure
from twin.backtest.results import BacktestResult
from twin.backtest.sweep import sweep_section_html

_SITE_TABLE = [
    ("site_id", "site", "{}"),
    ("revenue_eur", "revenue [EUR]", "{:,.2f}"),
    ("day_ahead_revenue_eur", "day-ahead [EUR]", "{:,.2f}"),
    ("intraday_net_eur", "intraday net of fees [EUR]", "{:,.2f}"),
    ("imbalance_eur", "imbalance [EUR]", "{:,.2f}"),
    ("perfect_foresight_revenue_eur", "perfect foresight [EUR]", "{:,.2f}"),
    ("capture_ratio", "capture ratio", "{:.3f}"),
    ("capture_ratio_day_ahead", "capture ratio day-ahead", "{:.3f}"),
    ("intraday_traded_mwh", "intraday traded [MWh]", "{:,.1f}"),
    ("full_cycles", "full cycles", "{:.1f}"),
    ("soc_min", "SoC min", "{:.3f}"),
    ("soc_max", "SoC max", "{:.3f}"),
]


_MARKET_NOTE = (
    'Revenue = day-ahead + intraday (trade cash minus fees) + imbalance settlement. '
    'Capture ratio = (revenue - degradation cost) / (perfect-foresight revenue - its '
    'degradation cost). Perfect foresight: one LP over the whole period on realised '
    'prices, from the initial SoC; with intraday trading on real prices it knows and '
    'trades both markets (same fees and spread). Capture ratio day-ahead = day-ahead '
    'revenue / the day-ahead-only perfect-foresight revenue. '
)


def _fmt(value: object, pattern: str) -> str:
    if value is None:
        return "n/a"
    return pattern.format(value)


def site_table_html(summary: dict[str, Any]) -> str:
    """Per-site KPI table (plus a fleet row) as an HTML ``<table>``."""
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in _SITE_TABLE)
    rows = []
    for site in summary["sites"]:
        if site.get("kind") == "behind_the_meter":
            continue  # billed by a tariff: see the EMS section
        cells = "".join(
            f"<td>{html.escape(_fmt(site.get(key), pat))}</td>" for key, _, pat in _SITE_TABLE
        )
        rows.append(f"<tr>{cells}</tr>")
    fleet = {**summary["fleet"], "site_id": "fleet"}
    cells = "".join(
        f"<td>{html.escape(_fmt(fleet.get(key), pat))}</td>"
        if key not in ("full_cycles", "soc_min", "soc_max")
        else "<td></td>"
        for key, _, pat in _SITE_TABLE
    )
    rows.append(f"<tr class='fleet'>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _intraday_text(facts: dict[str, Any]) -> str:
    if not facts.get("enabled"):
        return "off: day-ahead only"
    text = f"{facts.get('market', '')}, {facts.get('days_traded', 0)} of {facts.get('days', 0)} days"
    if "label" in facts:
        text += f"; {facts['label'].upper()}"
    if "note" in facts:
        text += f"; {facts['note']}"
    return text


def forecast_table_html(summary: dict[str, Any]) -> str:
    """Accuracy of each day-ahead forecaster of the run on its delivery days (empty without any)."""
    accuracy = summary.get("forecast_accuracy") or {}
    if not accuracy:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{_fmt(a.get('mae_eur_per_mwh'), '{:.2f}')}</td>"
        f"<td>{_fmt(a.get('rmae_weekly'), '{:.3f}')}</td><td>{_fmt(a.get('rmae_daily'), '{:.3f}')}</td>"
        f"<td>{_fmt(a.get('rmse_eur_per_mwh'), '{:.2f}')}</td></tr>"
        for name, a in accuracy.items()
    )
    return (
        "<h2>Day-ahead forecasts</h2>\n<table><tr><th>forecaster</th><th>MAE EUR/MWh</th>"
        f"<th>rMAE weekly</th><th>rMAE daily</th><th>RMSE EUR/MWh</th></tr>{rows}</table>\n"
        "<p>Each delivery day scored on the forecast made at its own gate (forecasts.parquet); rMAE against "
        "the same interval 168 h and 24 h earlier.</p>"
    )


def write_report(
    result: BacktestResult, path: Path, week_start: pd.Timestamp | None = None
) -> Path:
    """Write ``report.html``: a chosen week, cumulative revenue, per-site table.

    Parameters
    ----------
    result : BacktestResult
    path : Path
        Output file.
    week_start : pd.Timestamp, optional
        Local date the plotted week starts on; default: the week with the highest
        perfect-foresight revenue.

    Returns
    -------
    Path
        ``path``.
    """
    summary = result.summary
    tz = summary["period"]["timezone"]
    week_start = week_start if week_start is not None else pick_week(result.daily)
    # plotly.js is inlined once, in <head>, before any figure's script runs (offline report).
    week = week_figure(result.sites, week_start, tz).to_html(full_html=False, include_plotlyjs=False)
    cumulative = cumulative_revenue_figure(result.daily).to_html(
        full_html=False, include_plotlyjs=False
    )
    plotly_js = get_plotlyjs()
    market_html = ""
    if any(site.get("kind") != "behind_the_meter" for site in summary["sites"]):
        market_html = f"<h2>Sites</h2>\n{site_table_html(summary)}\n<p>{_MARKET_NOTE}</p>"
    period = summary["period"]
    market = summary.get("market", {})
    facts = [
        ("scenario", summary["scenario"]),
        ("period", f"{period['start']} to {period['end']} ({period['days']} days, {tz})"),
        (
            "prices",
            f"{market.get('zone', '')}, {market.get('resolution_min', '')} min, {market.get('source', '')}",
        ),
        ("forecaster", summary.get("forecaster", "")),
        ("intraday", _intraday_text(summary.get("intraday", {}))),
        ("runtime", f"{summary.get('runtime', '')}, {summary.get('wall_time_s', 0):.1f} s"),
    ]
    facts_html = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>bess-twin backtest: {html.escape(summary["scenario"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
tr.fleet td {{ font-weight: bold; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: 2px 1em; }}
dt {{ font-weight: bold; }}
</style>
<script type="text/javascript">{plotly_js}</script>
</head><body>
<h1>Backtest: {html.escape(summary["scenario"])}</h1>
<dl>{facts_html}</dl>
{sweep_section_html(summary)}
{market_html}
{forecast_table_html(summary)}
{ems_section_html(result)}
{etrm_section_html(summary)}
<h2>Cumulative revenue</h2>
{cumulative}
<h2>One week</h2>
{week}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
