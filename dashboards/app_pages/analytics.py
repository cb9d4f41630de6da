"""Analytics: how did the sites earn, with which strategies, at how many cycles, in which SoC range?"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import Context, context, no_data
from dashboards.runs import summary, table

ctx = context()
st.title("Analytics")
MAX_STACKED_SITES = 4


def _figures(daily: pd.DataFrame, soc_percent: pd.Series, strategies: pd.Series, budget_per_day: float | None) -> None:
    """Daily profit bars, strategy distribution, cycles vs budget, SoC distribution."""
    if daily["site_id"].nunique() <= MAX_STACKED_SITES:
        profit = px.bar(daily, x="date", y="revenue_eur", color="site_id", title="Daily profit",
                        labels={"date": "Day", "revenue_eur": "Profit (EUR)", "site_id": "Site"})  # fmt: skip
    else:  # one bar a day: thousands of stacked bars draw slowly and read badly
        total = daily.groupby("date", as_index=False)["revenue_eur"].sum()
        profit = px.bar(total, x="date", y="revenue_eur", title=f"Daily profit of the {daily['site_id'].nunique()} sites picked",
                        labels={"date": "Day", "revenue_eur": "Profit (EUR)"})  # fmt: skip
    counts = strategies.value_counts()
    mix = go.Figure(go.Pie(labels=list(counts.index), values=list(counts.values), hole=0.4))
    mix.update_layout(title="Strategy distribution (days or re-plans)", height=360)
    cycles = go.Figure()
    for site, part in daily.groupby("site_id"):
        cycles.add_trace(go.Scatter(x=part["date"], y=part["full_cycles"].cumsum(), name=f"{site} EFC"))
    if budget_per_day is not None:
        n = daily["date"].nunique()
        dates = sorted(daily["date"].unique())
        cycles.add_trace(go.Scatter(x=dates, y=[budget_per_day * (i + 1) for i in range(n)], name="budget (pro rata)", line={"dash": "dash"}))
    cycles.update_layout(title="Equivalent full cycles vs budget", xaxis_title="Day", yaxis_title="Cumulative EFC (cycles)", height=360)
    steps, edges = np.histogram(soc_percent.dropna().to_numpy(dtype=float), bins=20, range=(0.0, 100.0))  # binned here, not in the browser
    soc = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=steps, width=edges[1] - edges[0]))
    soc.update_layout(title="SoC distribution", xaxis_title="SoC (%)", yaxis_title="Steps (count)", height=360)
    left, right = st.columns(2)
    left.plotly_chart(profit, key="profit")
    right.plotly_chart(mix, key="mix")
    left.plotly_chart(cycles, key="cycles")
    right.plotly_chart(soc, key="soc")


def _run(ctx: Context) -> None:
    assert ctx.run_dir is not None
    s = summary(ctx.run_dir)
    daily = table(ctx.run_dir, "daily")
    assert daily is not None
    daily = daily[daily["site_id"].isin(ctx.sites)].rename(columns={"delivery_date": "date"})
    if daily.empty:
        no_data("days for the sites picked")
        return
    c = st.columns(4)
    c[0].metric("Profit", f"{daily['revenue_eur'].sum():,.0f} EUR")
    c[1].metric("Best day", f"{daily.groupby('date')['revenue_eur'].sum().max():,.2f} EUR")
    c[2].metric("Equivalent full cycles", f"{daily['full_cycles'].sum():,.1f}")
    c[3].metric("Days", f"{daily['date'].nunique()}")
    sites = table(ctx.run_dir, "sites", ["site_id", "soc"])
    assert sites is not None
    soc = 100 * sites.loc[sites["site_id"].isin(ctx.sites), "soc"]
    per_year = s.get("strategy", {}).get("cycles_per_year")
    strategies = daily["strategy"].fillna(s.get("strategy", {}).get("kind", "?")) if "strategy" in daily else pd.Series(["?"] * len(daily))
    _figures(daily, soc, strategies, per_year / 365.0 * len(ctx.sites) if per_year else None)
    st.subheader("Optimisation history (one row per site and day)")
    columns = [c for c in ("date", "site_id", "strategy", "used_milp", "revenue_eur", "perfect_foresight_revenue_eur", "full_cycles", "soc_end") if c in daily]
    st.dataframe(daily[columns].sort_values(["date", "site_id"], ascending=[False, True]), hide_index=True)


def _live(ctx: Context) -> None:
    assert ctx.api is not None
    days = st.slider("Days", 1, 90, 7)
    frames, socs, strategies, history = [], [], [], []
    for site in ctx.sites:
        try:
            a = ctx.api.get(f"/sites/{site}/analytics", days=days)
            rows = ctx.api.get(f"/sites/{site}/history", limit=5000)
            opt = ctx.api.get(f"/sites/{site}/optimisations", limit=200)
        except ApiError as err:
            st.warning(f"{site}: {err.detail}")
            continue
        cap = a["equivalent_full_cycles"]
        frame = pd.DataFrame(a["days"]).assign(site_id=site)
        if not frame.empty:
            denom = frame["charged_kwh"].sum() + frame["discharged_kwh"].sum()
            frame["full_cycles"] = (frame["charged_kwh"] + frame["discharged_kwh"]) * (cap / denom if denom else 0.0)
            frames.append(frame)
        socs += [r["soc_percent"] for r in rows if r["soc_percent"] is not None]
        strategies += [o["strategy"] for o in opt]
        history += [{"site_id": site, **o} for o in opt]
    if not frames:
        no_data("live days yet")
        return
    daily = pd.concat(frames)
    c = st.columns(3)
    c[0].metric("Revenue (metered at day-ahead price)", f"{daily['revenue_eur'].sum():,.2f} EUR")
    c[1].metric("Equivalent full cycles", f"{daily['full_cycles'].sum():,.2f}")
    c[2].metric("Re-plans shown", f"{len(history)}")
    _figures(daily, pd.Series(socs, dtype=float), pd.Series(strategies or ["?"]), None)
    st.subheader("Optimisation history (latest re-plans)")
    st.dataframe(pd.DataFrame(history).drop(columns=["values_eur"], errors="ignore"), hide_index=True)


if not ctx.sites:
    no_data("sites picked")
elif ctx.live:
    _live(ctx)
elif ctx.run_dir is not None:
    _run(ctx)
