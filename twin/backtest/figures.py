"""Plotly figures of a backtest, shared by the HTML report and the dashboards."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def pick_week(daily: pd.DataFrame) -> pd.Timestamp:
    """First day of the 7-day window with the highest perfect-foresight revenue (fleet).

    Parameters
    ----------
    daily : pd.DataFrame
        ``daily.parquet`` content.

    Returns
    -------
    pd.Timestamp
        Local delivery date that starts the window.
    """
    per_day = daily.groupby("delivery_date")["perfect_foresight_revenue_eur"].sum().sort_index()
    if len(per_day) <= 7:
        return pd.Timestamp(per_day.index[0])
    rolling = per_day.rolling(7).sum().shift(-6).dropna()
    return pd.Timestamp(str(rolling.idxmax()))


WEEK_SITES = 12
"""Sites drawn in the week figure: the first ones of the scenario (a 1,000-site sweep stays readable)."""


def week_figure(sites: pd.DataFrame, week_start: pd.Timestamp, tz: str) -> go.Figure:
    """Price, power and SoC of the first :data:`WEEK_SITES` sites over one week.

    Parameters
    ----------
    sites : pd.DataFrame
        ``sites.parquet`` content.
    week_start : pd.Timestamp
        Local date the week starts on.
    tz : str
        Local market time zone for the x axis.

    Returns
    -------
    plotly.graph_objects.Figure
        Three stacked panels: price [EUR/MWh] (realised and forecast),
        power [kW] (positive discharges), SoC [%].
    """
    local = sites["timestamp_utc"].dt.tz_convert(tz)
    start = (
        pd.Timestamp(week_start).tz_localize(tz)
        if pd.Timestamp(week_start).tzinfo is None
        else week_start
    )
    mask = (local >= start) & (local < start + pd.Timedelta(days=7))
    shown = sites["site_id"].drop_duplicates().iloc[:WEEK_SITES]
    mask &= sites["site_id"].isin(shown)
    week = sites.loc[mask].assign(local_time=local[mask])
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=(
            "Day-ahead price",
            "Power at the PCC (positive = discharge)",
            "State of charge",
        ),
    )
    first = week[week["site_id"] == week["site_id"].iloc[0]]
    fig.add_trace(
        go.Scatter(
            x=first["local_time"],
            y=first["price_eur_per_mwh"],
            name="price (realised)",
            line={"shape": "hv", "color": "black"},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=first["local_time"],
            y=first["forecast_eur_per_mwh"],
            name="price (forecast)",
            line={"shape": "hv", "dash": "dot", "color": "grey"},
        ),
        row=1,
        col=1,
    )
    for site_id, rows in week.groupby("site_id", sort=False):
        fig.add_trace(
            go.Scatter(
                x=rows["local_time"],
                y=rows["power_kw"],
                name=f"{site_id} power",
                line={"shape": "hv"},
            ),
            row=2,
            col=1,
        )
        fig.add_trace(
            go.Scatter(x=rows["local_time"], y=rows["soc"] * 100, name=f"{site_id} SoC"),
            row=3,
            col=1,
        )
    fig.update_yaxes(title_text="EUR/MWh", row=1, col=1)
    fig.update_yaxes(title_text="kW", row=2, col=1)
    fig.update_yaxes(title_text="%", range=[0, 100], row=3, col=1)
    fig.update_layout(height=750, title=f"Week from {start.date()} ({tz})", hovermode="x unified")
    return fig


def cumulative_revenue_figure(daily: pd.DataFrame) -> go.Figure:
    """Cumulative revenue of the first :data:`WEEK_SITES` sites against their perfect-foresight benchmark.

    Returns
    -------
    plotly.graph_objects.Figure
        Solid lines: realised revenue [EUR]; dashed: perfect foresight [EUR].
    """
    fig = go.Figure()
    shown = set(daily["site_id"].drop_duplicates().iloc[:WEEK_SITES])
    for site_id, rows in daily[daily["site_id"].isin(shown)].groupby("site_id", sort=False):
        rows = rows.sort_values("delivery_date")
        fig.add_trace(
            go.Scatter(
                x=rows["delivery_date"], y=rows["revenue_eur"].cumsum(), name=f"{site_id} realised"
            )
        )
        fig.add_trace(
            go.Scatter(
                x=rows["delivery_date"],
                y=rows["perfect_foresight_revenue_eur"].cumsum(),
                name=f"{site_id} perfect foresight",
                line={"dash": "dash"},
            )
        )
    fig.update_layout(
        title="Cumulative revenue, all markets, against perfect foresight",
        yaxis_title="EUR",
        height=450,
        hovermode="x unified",
    )
    return fig
