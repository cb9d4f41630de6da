"""Backtest explorer: where did each run's revenue come from, how close to perfect foresight, and how do runs compare?"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards.context import context, no_data
from dashboards.figures import waterfall
from dashboards.runs import list_runs, site_ids, summary, table
from twin.backtest.figures import pick_week, week_figure

ctx = context()
st.title("Backtest explorer")


def revenue_parts(fleet: dict) -> dict[str, float]:
    """The revenue waterfall of a run's fleet: day-ahead, intraday (net of fees), imbalance, FCR, minus degradation. [EUR]"""
    return {
        "day-ahead": float(fleet.get("day_ahead_revenue_eur") or 0.0),
        "intraday": float(fleet.get("intraday_net_eur") or 0.0),
        "imbalance": float(fleet.get("imbalance_eur") or 0.0),
        "FCR": float(fleet.get("fcr_revenue_eur") or 0.0),
        "degradation": -float(fleet.get("degradation_cost_eur") or 0.0),
    }


def _visible_runs() -> list[str]:
    return [r for r in list_runs(ctx.settings.runs_dir) if any(ctx.sees(s) for s in site_ids(ctx.settings.runs_dir / r))]


runs = _visible_runs()
if not runs:
    no_data(f"run folders under {ctx.settings.runs_dir}")
    st.stop()
default = [ctx.source] if ctx.source in runs else runs[:1]
picked = st.multiselect("Runs (pick two to compare)", runs, default=default)
rows, cumulative = [], go.Figure()
columns = st.columns(max(len(picked), 1))
for column, run in zip(columns, picked, strict=False):
    run_dir = ctx.settings.runs_dir / run
    s = summary(run_dir)
    sites = [x for x in s["sites"] if ctx.sees(x["site_id"])]
    whole = len(sites) == len(s["sites"])
    fleet = s["fleet"] if whole else {k: sum(float(x.get(k) or 0.0) for x in sites) for k in s["sites"][0] if k != "site_id"}
    parts = revenue_parts(fleet)
    profit = sum(parts.values())
    perfect = float(fleet.get("perfect_foresight_revenue_eur") or 0.0) - float(fleet.get("perfect_foresight_degradation_cost_eur") or 0.0)
    with column:
        st.subheader(run)
        st.caption(f"{s['period']['start']} to {s['period']['end']}, strategy {s['strategy']['kind']}, forecaster {s.get('forecaster')}"
                   + ("" if whole else f"; your {len(sites)} of {len(s['sites'])} sites"))  # fmt: skip
        st.metric("Profit", f"{profit:,.0f} EUR")
        st.metric("Capture ratio vs perfect foresight", f"{profit / perfect:.3f}" if perfect else "–")
        st.plotly_chart(waterfall(parts, "profit", ("perfect foresight", perfect)), key=f"wf_{run}")
    for x in sites:
        rows.append({"run": run, "site_id": x["site_id"], "profit_eur": x.get("profit_eur"), "capture_ratio": x.get("capture_ratio"),
                     "capture_day_ahead": x.get("capture_ratio_day_ahead"), "intraday_net_eur": x.get("intraday_net_eur"),
                     "imbalance_eur": x.get("imbalance_eur"), "fcr_revenue_eur": x.get("fcr_revenue_eur"),
                     "full_cycles": x.get("full_cycles"), "soh_final": x.get("soh_final")})  # fmt: skip
    daily = table(run_dir, "daily", ["delivery_date", "site_id", "revenue_eur"])
    if daily is not None:
        ours = daily[daily["site_id"].isin([x["site_id"] for x in sites])]
        per_day = ours.groupby("delivery_date")["revenue_eur"].sum().cumsum()
        cumulative.add_trace(go.Scatter(x=per_day.index, y=per_day.values, name=run))
if rows:
    st.subheader("Capture ratio per site and market")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    cumulative.update_layout(title="Cumulative revenue", xaxis_title="Day", yaxis_title="Revenue (EUR)", height=360)
    st.plotly_chart(cumulative, key="cumulative")
if picked:
    run_dir = ctx.settings.runs_dir / picked[0]
    s = summary(run_dir)
    days = table(run_dir, "daily")
    steps = table(run_dir, "sites")
    if days is not None and steps is not None:
        mine = [x for x in site_ids(run_dir) if ctx.sees(x)]
        week = pick_week(days[days["site_id"].isin(mine)])
        st.subheader(f"The richest week of {picked[0]}")
        st.plotly_chart(week_figure(steps[steps["site_id"].isin(mine)], week, s["period"]["timezone"]), key="week")
