"""Fleet: where is every site now? SoC, power, temperature, quality, safe state, strategy; fleet SoC; alerts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import Context, context, no_data
from dashboards.figures import bars
from dashboards.runs import summary, table

ctx = context()
st.title("Fleet")


def _live(ctx: Context) -> None:
    assert ctx.api is not None
    try:
        states = [s for s in ctx.api.get("/sites") if s["site_id"] in ctx.sites]
        grid = ctx.api.get("/grid")
    except ApiError as err:
        st.error(f"The API answered {err.detail}")
        return
    known = [s for s in states if s["soc_percent"] is not None]
    fleet = ctx.api.get("/fleet")
    c = st.columns(4)
    c[0].metric("Fleet SoC (capacity-weighted)", "–" if fleet["soc_percent"] is None else f"{fleet['soc_percent']:.1f} %")
    c[1].metric("Total power", f"{sum(s['power_kw'] or 0.0 for s in states):,.1f} kW")
    c[2].metric("Sites safe", f"{sum(1 for s in states if s['safe'])} of {len(states)}")
    c[3].metric("Grid frequency", "–" if grid["frequency_hz"] is None else f"{grid['frequency_hz']:.3f} Hz")
    frame = pd.DataFrame(states)
    if frame.empty:
        no_data("live sites")
        return
    st.dataframe(frame[["site_id", "soc_percent", "power_kw", "temperature_c", "quality", "safe", "safe_reason", "external", "strategy", "market_utc"]],
                 hide_index=True)  # fmt: skip
    left, right = st.columns(2)
    left.plotly_chart(bars([s["site_id"] for s in known], [s["soc_percent"] for s in known], "SoC (%)", "Site", "State of charge"))
    right.plotly_chart(bars(list(frame["site_id"]), list(frame["power_kw"].fillna(0.0)), "Power (kW, discharge +)", "Site", "Power at the PCC"),
                       )  # fmt: skip
    alerts = grid["events"][-20:]
    st.subheader("Alerts")
    st.dataframe(pd.DataFrame(alerts), hide_index=True) if alerts else st.caption("No grid events so far.")


def _run(ctx: Context) -> None:
    assert ctx.run_dir is not None
    s = summary(ctx.run_dir)
    sites = [x for x in s["sites"] if x["site_id"] in ctx.sites]
    if not sites:
        no_data("sites picked")
        return
    last = table(ctx.run_dir, "sites", ["timestamp_utc", "site_id", "soc", "power_kw", "temperature_c", "revenue_eur"])
    assert last is not None
    last = last[last["site_id"].isin(ctx.sites)].sort_values("timestamp_utc").groupby("site_id").tail(1).set_index("site_id")
    capacity = {x["site_id"]: float(x["energy_kwh"]) for x in sites}
    weighted = sum(capacity[i] * float(last.loc[i, "soc"]) for i in capacity) / sum(capacity.values())
    c = st.columns(4)
    c[0].metric("Fleet SoC at the end (capacity-weighted)", f"{100 * weighted:.1f} %")
    c[1].metric("Revenue", f"{sum(x['revenue_eur'] for x in sites):,.0f} EUR")
    pf = sum(x["perfect_foresight_revenue_eur"] for x in sites)
    c[2].metric("Capture ratio", f"{sum(x['revenue_eur'] for x in sites) / pf:.3f}" if pf else "–")
    c[3].metric("Sites", f"{len(sites)}")
    st.caption(f"Run {s['scenario']}, {s['period']['start']} to {s['period']['end']} ({s['period']['timezone']}); state at the last step.")
    frame = pd.DataFrame([{
        "site_id": x["site_id"], "capacity_kwh": x["energy_kwh"], "soc_end_percent": 100 * float(last.loc[x["site_id"], "soc"]),
        "temperature_max_c": x.get("temperature_max_c"), "revenue_eur": x["revenue_eur"], "capture_ratio": x.get("capture_ratio"),
        "full_cycles": x.get("full_cycles"), "soh_final": x.get("soh_final"), "strategy": s.get("strategy", {}).get("kind"),
    } for x in sites])  # fmt: skip
    st.dataframe(frame, hide_index=True)
    left, right = st.columns(2)
    left.plotly_chart(bars(list(frame["site_id"]), list(frame["revenue_eur"]), "Revenue (EUR)", "Site", "Revenue"))
    right.plotly_chart(bars(list(frame["site_id"]), list(frame["full_cycles"]), "Equivalent full cycles", "Site", "Cycles"),
                       )  # fmt: skip
    alerts = table(ctx.run_dir, "risk_alerts")
    st.subheader("Alerts")
    if alerts is None or alerts.empty:
        st.caption("No risk alerts in this run.")
    else:
        st.dataframe(alerts[alerts["participant"].isin(ctx.sites)] if "participant" in alerts else alerts, hide_index=True)


if ctx.live:

    @st.fragment(run_every=ctx.settings.refresh_s)
    def _refresh() -> None:
        _live(ctx)

    _refresh()
elif ctx.run_dir is not None:
    _run(ctx)
