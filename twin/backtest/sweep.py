"""Results of a parameter sweep (:mod:`twin.config.sweep`): one table, one report section."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go

KPIS = (
    "revenue_eur",
    "profit_eur",
    "degradation_cost_eur",
    "imbalance_eur",
    "perfect_foresight_revenue_eur",
    "perfect_foresight_profit_eur",
    "capture_ratio",
    "full_cycles",
    "energy_discharged_kwh",
)
"""Per-site KPIs of ``summary.json`` the sweep table carries (missing ones are NaN)."""


def _pf_profit(site: dict[str, Any]) -> float:
    """The bound's profit as the fleet line of ``summary.json`` counts it (arbitrage sites carry its two parts)."""
    if "perfect_foresight_profit_eur" in site:
        return float(site["perfect_foresight_profit_eur"])
    return float(site["perfect_foresight_revenue_eur"] - site["perfect_foresight_degradation_cost_eur"])


def sweep_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per swept site: its base site, parameter set, parameter values and KPIs.

    Parameters
    ----------
    summary : dict
        ``summary.json`` of a sweep run (with its ``sweep`` block).

    Returns
    -------
    pd.DataFrame
        Columns ``site_id``, ``base_site_id``, ``parameter_set``, one per swept
        key, then :data:`KPIS` (EUR, kWh, cycles, ratio as their names say).

    Raises
    ------
    KeyError
        If ``summary`` is not a sweep's.
    """
    rows = pd.DataFrame(summary["sweep"]["sites"])
    kpis = pd.DataFrame([{"site_id": s["site_id"], **{k: s.get(k) for k in KPIS},
                          "perfect_foresight_profit_eur": _pf_profit(s)} for s in summary["sites"]])  # fmt: skip
    return rows.merge(kpis, on="site_id", how="left", validate="one_to_one")


def per_parameter_set(table: pd.DataFrame) -> pd.DataFrame:
    """The sweep table summed over sites: one row per parameter set, with the fleet capture ratio."""
    keys = [c for c in table.columns if c not in ("site_id", "base_site_id", "parameter_set", *KPIS)]
    sums = table.groupby("parameter_set").agg(
        {**{k: "first" for k in keys}, "revenue_eur": "sum", "profit_eur": "sum", "degradation_cost_eur": "sum",
         "imbalance_eur": "sum", "perfect_foresight_profit_eur": "sum", "full_cycles": "mean"}
    )  # fmt: skip
    pf = sums["perfect_foresight_profit_eur"]
    sums["capture_ratio"] = sums["profit_eur"] / pf.where(pf > 0)
    return sums.reset_index()


def sweep_section_html(summary: dict[str, Any]) -> str:
    """The report's parameter-sweep section: a table per parameter set and a profit chart (empty if no sweep)."""
    if "sweep" not in summary:
        return ""
    sets = per_parameter_set(sweep_table(summary))
    keys = list(summary["sweep"]["axes"])
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["set", *keys, "revenue [EUR]", "profit [EUR]",
                                                           "degradation [EUR]", "imbalance [EUR]", "capture ratio", "full cycles (mean)"])  # fmt: skip
    body = []
    for _, r in sets.iterrows():
        cells = [str(int(r["parameter_set"])), *(html.escape(str(r[k])) for k in keys), f"{r['revenue_eur']:,.2f}",
                 f"{r['profit_eur']:,.2f}", f"{r['degradation_cost_eur']:,.2f}", f"{r['imbalance_eur']:,.2f}",
                 "n/a" if pd.isna(r["capture_ratio"]) else f"{r['capture_ratio']:.3f}", f"{r['full_cycles']:.1f}"]  # fmt: skip
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    labels = [", ".join(f"{k}={r[k]}" for k in keys) for _, r in sets.iterrows()]
    fig = go.Figure(go.Bar(x=labels, y=sets["profit_eur"], name="profit"))
    fig.update_layout(title="Fleet profit per parameter set", yaxis_title="profit [EUR]", height=380,
                      margin={"l": 60, "r": 20, "t": 50, "b": 120})  # fmt: skip
    n_sites = len({s["base_site_id"] for s in summary["sweep"]["sites"]})
    return (
        f"<h2>Parameter sweep</h2><p>{n_sites} site(s) x {len(sets)} parameter set(s) over "
        f"{html.escape(', '.join(keys))}, each set summed over its sites (per site: sweep.parquet).</p>"
        f"<table><tr>{head}</tr>{''.join(body)}</table>"
        + str(fig.to_html(full_html=False, include_plotlyjs=False))
    )
