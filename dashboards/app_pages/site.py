"""Site: one site's KPI cards, its 24 h plan (battery, PV, load, grid), price and planned SoC; setpoint and strategy (roles permitting)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboards.client import ApiError
from dashboards.context import ROLES_THAT_STEER, Context, context, no_data
from dashboards.runs import summary, table

ctx = context()
st.title("Site")


def _plan_figures(frame: pd.DataFrame, x_title: str) -> tuple[go.Figure, go.Figure]:
    """Power (battery, PV, load, grid) and price + SoC of one horizon; ``frame`` indexed by time."""
    power = go.Figure()
    behind_meter = any(c in frame and frame[c].fillna(0.0).abs().sum() > 0 for c in ("pv_kw", "load_kw"))
    shown = ("battery_kw", "pv_kw", "load_kw", "grid_kw") if behind_meter else ("battery_kw",)  # grid-scale: grid = -battery
    names = {"battery_kw": "battery (discharge +)", "pv_kw": "PV", "load_kw": "load", "grid_kw": "grid (import +)"}
    for column, name in ((c, names[c]) for c in shown):
        if column in frame and frame[column].notna().any():
            power.add_trace(go.Scatter(x=frame.index, y=frame[column], name=name, mode="lines", line_shape="hv"))
    power.update_layout(title="Plan: power", height=340, yaxis_title="Power (kW)", xaxis_title=x_title)
    price = make_subplots(specs=[[{"secondary_y": True}]])
    price.add_trace(go.Scatter(x=frame.index, y=frame["price_eur_per_mwh"], name="price", line_shape="hv"), secondary_y=False)
    if "forecast" in frame and frame["forecast"].any():
        fc = frame["price_eur_per_mwh"].where(frame["forecast"])
        price.add_trace(go.Scatter(x=frame.index, y=fc, name="price (forecast)", line={"dash": "dot"}, line_shape="hv"), secondary_y=False)
    price.add_trace(go.Scatter(x=frame.index, y=frame["soc_percent"], name="SoC"), secondary_y=True)
    price.update_layout(title="Price and planned SoC", height=340, xaxis_title=x_title)
    price.update_yaxes(title_text="Price (EUR/MWh)", secondary_y=False)
    price.update_yaxes(title_text="SoC (%)", range=[0, 100], tickvals=[0, 25, 50, 75, 100], showgrid=False, secondary_y=True)
    return power, price


def _live(ctx: Context, site: str) -> None:
    assert ctx.api is not None
    try:
        state = ctx.api.get(f"/sites/{site}/state")
        strategy = ctx.api.get(f"/sites/{site}/strategy")
        plan = ctx.api.get(f"/sites/{site}/plan")
    except ApiError as err:
        st.warning(f"{site}: {err.detail}")
        return
    c = st.columns(4)
    c[0].metric("SoC", "–" if state["soc_percent"] is None else f"{state['soc_percent']:.1f} %")
    c[1].metric("Power", "–" if state["power_kw"] is None else f"{state['power_kw']:.1f} kW")
    c[2].metric("Active strategy", strategy["strategy"] + (" (auto)" if strategy["auto"] else ""))
    c[3].metric("Expected 24 h profit", f"{plan['expected_revenue_24h_eur']:.2f} EUR")
    if state["safe"]:
        st.error(f"Safe state: {state['safe_reason']}")
    start = pd.Timestamp(plan["mtu_start_utc"])
    n = len(plan["power_kw"])
    index = pd.date_range(start, periods=n, freq=pd.Timedelta(hours=plan["dt_h"]))
    battery = [p + t for p, t in zip(plan["power_kw"], plan["traded_kw"], strict=True)]
    frame = pd.DataFrame({"battery_kw": battery, "grid_kw": [-b for b in battery], "price_eur_per_mwh": plan["price_eur_per_mwh"],
                          "soc_percent": plan["soc_percent"], "forecast": [i >= plan["published_steps"] for i in range(n)]}, index=index)  # fmt: skip
    power, price = _plan_figures(frame.iloc[: round(24 / plan["dt_h"])], "Time (UTC)")
    left, right = st.columns(2)
    left.plotly_chart(power, key="plan_power")
    right.plotly_chart(price, key="plan_price")
    st.caption("A live grid-scale site has no load or PV: its grid power is minus the battery's. Dotted prices are forecasts.")


def _controls(ctx: Context, site: str) -> None:
    assert ctx.api is not None
    if not ctx.may(*ROLES_THAT_STEER):
        st.caption("Your role may look, not steer.")
        return
    strategy = ctx.api.get(f"/sites/{site}/strategy")
    left, right = st.columns(2)
    with left.form("setpoint"):
        power = st.number_input("Operator setpoint (kW, discharge +)", value=0.0, step=10.0)
        if st.form_submit_button("Send setpoint"):
            try:
                ack = ctx.api.post(f"/sites/{site}/setpoint", {"power_kw": power})
                st.success(f"{ack['power_kw']:.1f} kW in force; it lapses in {ack['expires_in_s']:.0f} s unless renewed.")
            except ApiError as err:
                st.error(f"Refused: {err.detail}")
    with right.form("strategy"):
        kind = st.selectbox("Strategy", strategy["available"], index=strategy["available"].index(strategy["strategy"]) if strategy["strategy"] in strategy["available"] else 0)
        auto = st.toggle("Auto mode (daily choice among the candidates)", value=strategy["auto"])
        if st.form_submit_button("Apply"):
            try:
                if auto:
                    ctx.api.post(f"/sites/{site}/strategy/auto", {"enabled": True})
                else:
                    ctx.api.post(f"/sites/{site}/strategy", {"strategy": kind})
                st.success("Applied: the site re-plans at its next tick.")
            except ApiError as err:
                st.error(f"Refused: {err.detail}")


def _run(ctx: Context, site: str) -> None:
    assert ctx.run_dir is not None
    s = summary(ctx.run_dir)
    daily = table(ctx.run_dir, "daily")
    assert daily is not None
    days = daily[daily["site_id"] == site].copy()
    days["delivery_date"] = pd.to_datetime(days["delivery_date"]).dt.date
    best = days.sort_values("revenue_eur").iloc[-1]["delivery_date"]
    first, last = min(days["delivery_date"]), max(days["delivery_date"])
    picked = st.date_input("Day (default: the site's best)", value=best, min_value=first, max_value=last)
    day = days[days["delivery_date"] == picked]
    if day.empty:
        no_data(f"day {picked}")
        return
    row = day.iloc[0]
    c = st.columns(4)
    c[0].metric("SoC at the end of the day", f"{100 * float(row['soc_end']):.1f} %")
    c[1].metric("Revenue of the day", f"{row['revenue_eur']:.2f} EUR")
    c[2].metric("Strategy", str(row.get("strategy") or s.get("strategy", {}).get("kind")))
    c[3].metric("Perfect foresight that day", f"{row['perfect_foresight_revenue_eur']:.2f} EUR")
    tz = s["period"]["timezone"]
    series = table(ctx.run_dir, "sites", ["timestamp_utc", "site_id", "power_kw", "pv_kw", "load_kw", "grid_kw", "price_eur_per_mwh", "soc"])
    assert series is not None
    part = series[series["site_id"] == site].copy()
    local = pd.to_datetime(part["timestamp_utc"], utc=True).dt.tz_convert(tz)
    part = part[local.dt.date == picked].assign(time=local[local.dt.date == picked]).set_index("time")
    frame = part.rename(columns={"power_kw": "battery_kw"}).assign(soc_percent=100 * part["soc"])
    power, price = _plan_figures(frame, f"Local time ({tz})")
    left, right = st.columns(2)
    left.plotly_chart(power, key="day_power")
    right.plotly_chart(price, key="day_price")


if not ctx.sites:
    no_data("sites picked")
else:
    site = st.selectbox("Site", ctx.sites, key="site_pick")
    if ctx.live:

        @st.fragment(run_every=ctx.settings.refresh_s)
        def _refresh() -> None:
            _live(ctx, site)

        _refresh()
        _controls(ctx, site)
    elif ctx.run_dir is not None:
        _run(ctx, site)
