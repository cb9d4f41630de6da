"""Credit: exposure to each counterparty against its limit, and how it moved (traders and admins)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import context, no_data
from dashboards.runs import table

ctx = context()
st.title("Credit")


def exposure_figure(latest: pd.DataFrame) -> go.Figure:
    """Exposure bars with each limit as a marker. [EUR]"""
    fig = go.Figure(go.Bar(x=latest["counterparty"], y=latest["exposure_eur"], name="exposure"))
    limits = latest.dropna(subset=["limit_eur"])
    if not limits.empty:
        fig.add_trace(go.Scatter(x=limits["counterparty"], y=limits["limit_eur"], mode="markers", marker={"symbol": "line-ew-open", "size": 30},
                                 name="limit"))  # fmt: skip
    fig.update_layout(title="Exposure vs limit", xaxis_title="Counterparty", yaxis_title="Exposure (EUR)", height=360)
    return fig


def _show(latest: pd.DataFrame) -> None:
    c = st.columns(3)
    c[0].metric("Total exposure", f"{latest['exposure_eur'].sum():,.0f} EUR")
    c[1].metric("Counterparties", f"{len(latest)}")
    c[2].metric("Limits breached", f"{int(latest['breached'].astype(bool).sum())}")
    st.plotly_chart(exposure_figure(latest), key="exposure")
    st.dataframe(latest, hide_index=True)


if ctx.live:
    assert ctx.api is not None
    try:
        _show(pd.DataFrame(ctx.api.get("/credit")))
    except ApiError as err:
        st.error(f"The API answered {err.detail}")
    except KeyError:
        no_data("exposures yet (the first day must close)")
elif ctx.run_dir is not None:
    credit = table(ctx.run_dir, "credit")
    if credit is None or credit.empty:
        no_data("credit results (etrm off)")
    else:
        latest = credit.sort_values("date").groupby("counterparty").tail(1)
        _show(latest)
        st.plotly_chart(px.line(credit, x="date", y="exposure_eur", color="counterparty", title="Exposure per day",
                                labels={"date": "Day", "exposure_eur": "Exposure (EUR)"}), key="history")  # fmt: skip
