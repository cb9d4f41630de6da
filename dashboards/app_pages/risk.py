"""Risk: VaR and ES by method and level, limit utilisation, and how often the loss beat the VaR (Kupiec)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import Context, context, no_data
from dashboards.figures import gauge
from dashboards.runs import summary, table

ctx = context()
st.title("Risk")


def _gauges(latest: pd.DataFrame) -> None:
    with_limit = latest.dropna(subset=["utilisation_pct"])
    if with_limit.empty:
        st.caption("No VaR limit is configured (etrm.limits): utilisation is not defined.")
        return
    cols = st.columns(min(len(with_limit), 4))
    for i, r in enumerate(with_limit.to_dict(orient="records")):
        cols[i % len(cols)].plotly_chart(gauge(float(r["utilisation_pct"]), f"{r['participant']} VaR {r['confidence']:g}"), key=f"g_{i}")


def _run(ctx: Context) -> None:
    assert ctx.run_dir is not None
    risk = table(ctx.run_dir, "risk")
    if risk is None or risk.empty:
        no_data("risk results (etrm off)")
        return
    mine = risk[risk["participant"].isin(ctx.sites)]
    left, right = st.columns(2)
    method = left.selectbox("Method", sorted(mine["method"].unique()))
    levels = sorted(mine["confidence"].unique())
    level = right.selectbox("Level", levels, index=len(levels) // 2, format_func=lambda c: f"{c:g}")
    part = mine[(mine["method"] == method) & (mine["confidence"] == level)]
    latest = part.sort_values("date").groupby("participant").tail(1)
    c = st.columns(3)
    c[0].metric("Latest VaR, sum over the sites picked", f"{latest['var_eur'].sum():,.0f} EUR")
    c[1].metric("Days assessed", f"{part['date'].nunique()}")
    c[2].metric("Latest ES, sum over the sites picked", f"{latest['es_eur'].sum():,.0f} EUR")
    fig = px.line(part, x="date", y="var_eur", color="participant", title=f"{method} VaR at {level:g} per day",
                  labels={"date": "Day", "var_eur": "VaR (EUR)", "participant": "Site"})  # fmt: skip
    st.plotly_chart(fig, key="var")
    _gauges(latest)
    backtest = pd.DataFrame(summary(ctx.run_dir).get("etrm", {}).get("risk", {}).get("var_backtest", []))
    if not backtest.empty:
        st.subheader("VaR backtest (Kupiec proportion of failures)")
        st.dataframe(backtest[backtest["participant"].isin(ctx.sites)], hide_index=True)


def _live(ctx: Context) -> None:
    assert ctx.api is not None
    try:
        rows = pd.DataFrame(ctx.api.get("/risk"))
    except ApiError as err:
        st.error(f"The API answered {err.detail}")
        return
    if rows.empty:
        no_data("VaR yet (the first day must close)")
        return
    rows = rows[rows["participant"].isin([*ctx.sites, "fleet"])]
    st.dataframe(rows, hide_index=True)
    _gauges(rows)
    fig = px.bar(rows, x="participant", y="var_eur", color="method", barmode="group", facet_col="confidence",
                 labels={"var_eur": "VaR (EUR)", "participant": "Site"}, title="Latest VaR")  # fmt: skip
    st.plotly_chart(fig, key="var_live")


if ctx.live:
    _live(ctx)
elif ctx.run_dir is not None:
    _run(ctx)
