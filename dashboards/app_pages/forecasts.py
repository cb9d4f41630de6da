"""Forecasts: how good was each price forecast against the realised price, and what was it worth?"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import Context, context, no_data
from dashboards.downsample import m4
from dashboards.runs import list_runs, summary, table
from twin.forecast.profile_evaluation import profile_metrics, walk_forward_profile

ctx = context()
st.title("Forecasts")
BAND_DAYS = 7
PROFILE_HISTORY_DAYS = 35
"""Days of measured history before the first forecast day (as ``bess-twin forecast evaluate --column`` demands)."""


def value_row(s: dict) -> dict:
    """One row of the forecast value table from a run's summary (as ``bess-twin forecast value``)."""
    fleet, name = s["fleet"], s.get("forecaster") or s.get("strategy", {}).get("forecaster")
    accuracy = s.get("forecast_accuracy", {}).get(name, {})
    capacity_mwh = sum(float(x["energy_kwh"]) for x in s["sites"]) / 1000.0
    days = s["period"]["days"]
    revenue = fleet.get("day_ahead_revenue_eur", fleet.get("revenue_eur"))
    return {"run": s["scenario"], "forecaster": name, "period": f"{s['period']['start']} to {s['period']['end']}",
            "MAE (EUR/MWh)": accuracy.get("mae_eur_per_mwh"), "rMAE weekly": accuracy.get("rmae_weekly"),
            "DA revenue (EUR)": revenue, "capture DA": fleet.get("capture_ratio_day_ahead"),
            "EUR/MWh capacity/yr": revenue / capacity_mwh * 365.0 / days if revenue is not None and capacity_mwh else None}  # fmt: skip


def _run(ctx: Context) -> None:
    assert ctx.run_dir is not None
    s = summary(ctx.run_dir)
    fc = table(ctx.run_dir, "forecasts")
    if fc is None or fc.empty:
        no_data("price forecasts (perfect foresight needs none)")
        return
    fc = fc.assign(t=pd.to_datetime(fc["timestamp_utc"], utc=True)).sort_values("t")
    models = list(fc["forecaster"].unique())
    picked = st.multiselect("Forecasters", models, default=models)
    fig = go.Figure()
    realised = fc.drop_duplicates("t")[["t", "price_eur_per_mwh"]]
    realised = m4(realised, ["price_eur_per_mwh"], ctx.settings.max_points)
    fig.add_trace(go.Scattergl(x=realised["t"], y=realised["price_eur_per_mwh"], name="realised", line={"color": "black"}))
    for model in picked:
        part = fc[fc["forecaster"] == model].copy()
        err = (part["forecast_eur_per_mwh"] - part["price_eur_per_mwh"]).abs()
        steps = max(int(round(BAND_DAYS * 24 / (part["t"].diff().dt.total_seconds().median() / 3600))), 1)
        part["band"] = err.rolling(steps, min_periods=1).mean().shift(1).fillna(err.mean())  # past errors only
        part = m4(part, ["forecast_eur_per_mwh"], ctx.settings.max_points)
        fig.add_trace(go.Scattergl(x=part["t"], y=part["forecast_eur_per_mwh"] + part["band"], line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scattergl(x=part["t"], y=part["forecast_eur_per_mwh"] - part["band"], fill="tonexty", line={"width": 0},
                                   name=f"{model} ± {BAND_DAYS}-day MAE", opacity=0.3))  # fmt: skip
        fig.add_trace(go.Scattergl(x=part["t"], y=part["forecast_eur_per_mwh"], name=model))
    fig.update_layout(title="Day-ahead price: forecast at the gate vs realised", height=420, xaxis_title="Time (UTC)",
                      yaxis_title="Price (EUR/MWh)")  # fmt: skip
    st.plotly_chart(fig, key="forecast")
    accuracy = pd.DataFrame(s.get("forecast_accuracy", {})).T
    st.subheader("Accuracy")
    st.dataframe(accuracy, column_config={"mae_eur_per_mwh": st.column_config.NumberColumn("MAE (EUR/MWh)", format="%.2f")})
    st.subheader("Forecast value (runs of the same period)")
    rows = []
    for run in list_runs(ctx.settings.runs_dir):
        other = summary(ctx.settings.runs_dir / run)
        if other["period"] == s["period"] and [x["site_id"] for x in other["sites"]] == [x["site_id"] for x in s["sites"]]:
            rows.append(value_row(other))
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    _profiles(ctx, s)


@st.cache_data(show_spinner="Forecasting PV and load at each day's gate ...", max_entries=16)
def profile_forecasts(run: str, mtime_ns: int, site: str, column: str, model: str, days: tuple, tz: str) -> pd.DataFrame:
    """``model``'s forecast of ``column`` at each day's gate (D-1 12:00), from the run's measured series only."""
    assert ctx.run_dir is not None
    frame = table(ctx.run_dir, "sites", ["timestamp_utc", "site_id", column])
    assert frame is not None
    part = frame[frame["site_id"] == site]
    series = pd.Series(part[column].to_numpy(dtype=float), index=pd.to_datetime(part["timestamp_utc"], utc=True))
    return walk_forward_profile(series, model, list(days), tz)


def _profiles(ctx: Context, s: dict) -> None:
    """PV and load forecasts of the run's behind-the-meter sites, re-run on its measured series at each day's gate."""
    assert ctx.run_dir is not None
    st.subheader("PV and load forecasts")
    btm = [x for x in s["sites"] if x["site_id"] in ctx.sites and (x.get("load_forecast") or x.get("pv_forecast"))]
    if not btm:
        st.caption("The sites picked have no PV or load.")
        return
    tz = s["period"]["timezone"]
    first, last = pd.Timestamp(s["period"]["start"]).date(), pd.Timestamp(s["period"]["end"]).date()
    if (last - first).days < PROFILE_HISTORY_DAYS:
        st.caption(f"The run is shorter than the {PROFILE_HISTORY_DAYS} days of history the PV and load forecasters need.")
        return
    c = st.columns(3)
    site = c[0].selectbox("Site", [x["site_id"] for x in btm], key="profile_site")
    column = c[1].selectbox("Series", ["load_kw", "pv_kw"], format_func=lambda v: {"load_kw": "load", "pv_kw": "PV"}[v])
    info = next(x for x in btm if x["site_id"] == site)
    model = info.get("load_forecast" if column == "load_kw" else "pv_forecast") or "persistence"
    model = "persistence" if model in ("perfect", "weather") else model  # perfect and pvlib-on-weather need no forecast
    start = c[2].date_input("Week from", value=first + dt.timedelta(days=PROFILE_HISTORY_DAYS),
                            min_value=first + dt.timedelta(days=PROFILE_HISTORY_DAYS), max_value=last)  # fmt: skip
    days = tuple(d for d in (start + dt.timedelta(days=i) for i in range(7)) if d <= last)
    path = ctx.run_dir / "sites.parquet"
    rows = profile_forecasts(str(ctx.run_dir), path.stat().st_mtime_ns, site, column, model, days, tz)
    scores = profile_metrics(rows)
    m = st.columns(3)
    m[0].metric(f"MAE of {model}", f"{scores['mae_kw']:.3f} kW")
    m[1].metric("MAE of persistence", f"{scores['persistence_mae_kw']:.3f} kW")
    skill = scores["skill_vs_persistence"]
    m[2].metric("Skill vs persistence", "–" if skill is None else f"{skill:.3f}")
    fig = go.Figure()
    t = pd.to_datetime(rows["timestamp_utc"], utc=True)
    for name, label in (("value_kw", "measured"), ("forecast_kw", model), ("persistence_kw", "persistence")):
        fig.add_trace(go.Scatter(x=t, y=rows[name], name=label, line={"dash": "dot"} if name == "persistence_kw" else None))
    fig.update_layout(title=f"{site}: {column[:-3]} forecast at the gate vs measured", xaxis_title="Time (UTC)", yaxis_title="Power (kW)", height=360)
    st.plotly_chart(fig, key="profile")
    st.caption(f"The site's {model} forecaster re-run at each day's gate on the run's own measured series (the {PROFILE_HISTORY_DAYS} days "
               "before the week are its history), as `bess-twin forecast evaluate --column` does.")


def _live(ctx: Context) -> None:
    assert ctx.api is not None
    for site in ctx.sites:
        try:
            f = ctx.api.get(f"/sites/{site}/forecast")
        except ApiError as err:
            st.warning(f"{site}: {err.detail}")
            continue
        index = pd.date_range(pd.Timestamp(f["mtu_start_utc"]), periods=len(f["price_eur_per_mwh"]), freq=pd.Timedelta(hours=f["dt_h"]))
        frame = pd.DataFrame({"price": f["price_eur_per_mwh"], "published": f["published"]}, index=index)
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=index, y=frame["price"].where(frame["published"]), name="published", line_shape="hv"))
        fig.add_trace(go.Scatter(x=index, y=frame["price"].where(~frame["published"]), name=f"forecast ({f['forecaster']})",
                                 line={"dash": "dot"}, line_shape="hv"))  # fmt: skip
        fig.update_layout(title=f"{site}: prices of the plan horizon", height=340, xaxis_title="Time (UTC)", yaxis_title="Price (EUR/MWh)")
        st.plotly_chart(fig, key=f"fc_{site}")
        st.metric(f"{site}: published MTUs", f"{sum(f['published'])} of {len(f['published'])}")


if ctx.live:
    _live(ctx)
elif ctx.run_dir is not None:
    _run(ctx)
