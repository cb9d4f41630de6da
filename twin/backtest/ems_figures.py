"""Report section of EMS sites: a household week (PV, load, battery, grid) and monthly peaks."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twin.backtest.results import BacktestResult

_KPIS = [
    ("site_id", "site", "{}"),
    ("strategy", "strategy", "{}"),
    ("profit_eur", "profit [EUR]", "{:,.0f}"),
    ("savings_eur", "savings [EUR]", "{:,.0f}"),
    ("bill_eur", "bill [EUR]", "{:,.0f}"),
    ("bill_without_battery_eur", "bill without battery [EUR]", "{:,.0f}"),
    ("demand_charge_eur", "demand charges [EUR]", "{:,.0f}"),
    ("fcr_revenue_eur", "FCR [EUR]", "{:,.0f}"),
    ("self_consumption_ratio", "self-consumption", "{:.3f}"),
    ("self_sufficiency", "self-sufficiency", "{:.3f}"),
    ("perfect_foresight_profit_eur", "bound [EUR]", "{:,.0f}"),
    ("capture_ratio", "capture ratio", "{:.3f}"),
    ("full_cycles", "EFC", "{:.1f}"),
    ("cycles_budget", "EFC budget", "{:.0f}"),
]


def _fmt(value: Any, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def best_week(daily: pd.DataFrame, site_id: str) -> pd.Timestamp:
    """First day of the 7-day window with the largest bill savings of ``site_id``."""
    days = daily[daily["site_id"] == site_id].set_index("delivery_date")["energy_savings_eur"]
    if len(days) <= 7:
        return pd.Timestamp(days.index[0])
    return pd.Timestamp(str(days.rolling(7).sum().shift(-6).dropna().idxmax()))


def household_week_figure(sites: pd.DataFrame, site_id: str, week_start: pd.Timestamp, tz: str) -> go.Figure:
    """PV, load, battery and grid power of one site over a week, with its SoC.

    Returns
    -------
    plotly.graph_objects.Figure
        Top: load [kW] as a line, PV, battery discharge and grid import stacked
        as the supply, battery charge and export below zero; bottom: SoC [%].
    """
    frame = sites[sites["site_id"] == site_id]
    local = frame["timestamp_utc"].dt.tz_convert(tz)
    start = pd.Timestamp(week_start).tz_localize(tz) if pd.Timestamp(week_start).tzinfo is None else week_start
    mask = (local >= start) & (local < start + pd.Timedelta(days=7))
    week, x = frame.loc[mask], local[mask]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    parts = [
        ("PV fed in", week["pv_kw"], "#f2b701"),
        ("battery discharge", week["power_kw"].clip(lower=0), "#3c8d2f"),
        ("grid import", week["grid_kw"].clip(lower=0), "#888888"),
        ("battery charge", -(-week["power_kw"]).clip(lower=0), "#9fd38a"),
        ("grid export", -(-week["grid_kw"]).clip(lower=0), "#c9c9c9"),
    ]
    for name, values, color in parts:
        fig.add_trace(
            go.Scatter(x=x, y=values, name=name, stackgroup="pos" if values.min() >= 0 else "neg",
                       line={"width": 0, "shape": "hv"}, fillcolor=color),  # fmt: skip
            row=1, col=1,
        )  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=week["load_kw"], name="load", line={"color": "#c0392b", "shape": "hv"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=100 * week["soc"], name="SoC", line={"color": "#2c6fbb"}), row=2, col=1)
    fig.update_yaxes(title_text="power [kW]", row=1, col=1)
    fig.update_yaxes(title_text="SoC [%]", range=[0, 100], row=2, col=1)
    fig.update_xaxes(title_text=f"local time ({tz})", row=2, col=1)
    fig.update_layout(title=f"{site_id}: one week of PV, load, battery and grid", height=560)
    return fig


def monthly_peaks_figure(site: dict[str, Any]) -> go.Figure:
    """Peak import of each billing month with and without the battery [kW]."""
    peaks = site["peaks"]
    months = [p["period"] for p in peaks]
    fig = go.Figure(
        [
            go.Bar(x=months, y=[p["peak_import_without_battery_kw"] for p in peaks], name="without battery", marker_color="#888888"),
            go.Bar(x=months, y=[p["peak_import_kw"] for p in peaks], name="with battery", marker_color="#2c6fbb"),
        ]
    )
    fig.update_layout(
        title=f"{site['site_id']}: monthly peak import", barmode="group", height=380,
        yaxis_title="peak import [kW]", xaxis_title="billing month",
    )  # fmt: skip
    return fig


def ems_section_html(result: BacktestResult) -> str:
    """The report's EMS section: a KPI table and one figure per site kind ('' without EMS sites)."""
    sites = [s for s in result.summary["sites"] if "kind" in s]
    if not sites:
        return ""
    tz = result.summary["period"]["timezone"]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in _KPIS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(s.get(k), p))}</td>" for k, _, p in _KPIS) + "</tr>"
        for s in sites
    )
    parts = [
        "<h2>EMS: what the battery earns each site</h2>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>",
        "<p>Profit = bill savings (energy and demand charges, same tariff without the battery) + "
        "market and FCR revenue - wear. Bound: the stacked LP on realised prices, load and PV "
        "(an upper bound). Self-consumption = (PV - export) / PV; self-sufficiency = 1 - import / load.</p>",
    ]
    for site in sites:
        if site["kind"] == "behind_the_meter" and site["pv_kwh"] > 0:
            week = best_week(result.daily, site["site_id"])
            fig = household_week_figure(result.sites, site["site_id"], week, tz)
            parts.append(fig.to_html(full_html=False, include_plotlyjs=False))
        if site["demand_charge_without_battery_eur"] > 0:
            parts.append(monthly_peaks_figure(site).to_html(full_html=False, include_plotlyjs=False))
    return "\n".join(parts)
