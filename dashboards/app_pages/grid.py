"""Grid: the frequency against its alert thresholds, frequency events and broken grid limits."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import context, no_data
from dashboards.runs import table
from twin.config.etrm import FrequencyConfig

ctx = context()
st.title("Grid")
_F = FrequencyConfig.model_fields
THRESHOLDS_MHZ = {"watch": _F["watch_mhz"].default, "FCR full activation": _F["fcr_full_mhz"].default}
"""Deviation bands drawn on the frequency chart (the grid service's defaults). [mHz]"""


def frequency_figure(times: list, hz: list) -> go.Figure:
    """Frequency with the alert thresholds either side of 50 Hz."""
    fig = go.Figure(go.Scatter(x=times, y=hz, name="frequency", mode="lines+markers"))
    for name, mhz in THRESHOLDS_MHZ.items():
        for sign in (1, -1):
            fig.add_hline(y=50 + sign * mhz / 1000, line_dash="dot", annotation_text=name if sign > 0 else None)
    fig.update_layout(title="Grid frequency", xaxis_title="Time (UTC)", yaxis_title="Frequency (Hz)", height=360)
    return fig


def _events(events: pd.DataFrame) -> None:
    c = st.columns(2)
    c[0].metric("Frequency events", f"{int((events['kind'] == 'frequency').sum()) if not events.empty else 0}")
    c[1].metric("Constraint events", f"{int((events['kind'] != 'frequency').sum()) if not events.empty else 0}")
    if events.empty:
        st.caption("No grid events.")
        return
    fig = px.scatter(events, x="start_utc", y="value", color="kind", symbol="level", title="Events",
                     labels={"start_utc": "Start (UTC)", "value": "Largest deviation (mHz) / overshoot (kW)"})  # fmt: skip
    st.plotly_chart(fig, key="events")
    st.dataframe(events, hide_index=True)


if ctx.live:
    assert ctx.api is not None

    @st.fragment(run_every=ctx.settings.refresh_s)
    def _refresh() -> None:
        assert ctx.api is not None
        try:
            grid = ctx.api.get("/grid")
        except ApiError as err:
            st.error(f"The API answered {err.detail}")
            return
        seen = st.session_state.setdefault("frequency_seen", [])
        if grid["frequency_hz"] is not None:
            seen.append((pd.Timestamp.now(tz="UTC"), grid["frequency_hz"]))
            del seen[:-500]
        st.plotly_chart(frequency_figure([t for t, _ in seen], [f for _, f in seen]), key="freq")
        _events(pd.DataFrame(grid["events"]))

    _refresh()
elif ctx.run_dir is not None:
    events = table(ctx.run_dir, "grid_events")
    if events is None:
        no_data("grid results (etrm off)")
    else:
        st.caption("A backtest keeps the frequency events, not the samples: the live page draws the frequency itself.")
        mine = events[(events["kind"] == "frequency") | events["subject"].astype(str).map(lambda s: any(ctx.sees(x) for x in s.split()))]
        _events(mine)  # constraint events only of the user's sites
