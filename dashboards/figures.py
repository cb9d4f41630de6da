"""Plotly figures of the pages: every axis carries its unit, long series are downsampled (:mod:`dashboards.downsample`)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboards.downsample import m4

HEIGHT = 360


def _layout(fig: go.Figure, y_title: str, x_title: str) -> go.Figure:
    fig.update_layout(height=HEIGHT, margin={"l": 60, "r": 20, "t": 40, "b": 40})
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def lines(
    frame: pd.DataFrame, x: str, series: Mapping[str, str], y_title: str, max_points: int,
    by: str | None = None, x_title: str = "Time (UTC)", title: str | None = None,
) -> go.Figure:  # fmt: skip
    """One line per column in ``series`` (column -> legend name), per ``by`` group if given, M4-downsampled.

    Parameters
    ----------
    frame : pd.DataFrame
    x : str
        Time column.
    series : mapping of str to str
    y_title : str
        Axis title with its unit, e.g. ``Power (kW)``.
    max_points : int
        Points per trace at most (about).
    by : str, optional
        Column to split traces by (e.g. ``site_id``).
    """
    fig = go.Figure()
    groups = frame.groupby(by, sort=False) if by else [(None, frame)]
    for key, part in groups:
        part = m4(part.sort_values(x), list(series), max_points)
        for column, name in series.items():
            group = str(key) if key is not None else None
            label = f"{group} {name}" if group is not None and len(series) > 1 else (group if group is not None else name)
            fig.add_trace(go.Scattergl(x=part[x], y=part[column], mode="lines", name=label))
    if title:
        fig.update_layout(title=title)
    return _layout(fig, y_title, x_title)


def bars(x: list, y: list, y_title: str, x_title: str, title: str | None = None, name: str | None = None) -> go.Figure:
    """A bar chart."""
    fig = go.Figure(go.Bar(x=x, y=y, name=name))
    if title:
        fig.update_layout(title=title)
    return _layout(fig, y_title, x_title)


def gauge(value: float | None, title: str, limit: float = 100.0, suffix: str = " %") -> go.Figure:
    """A gauge from 0 to ``limit`` with amber from 80 % and red from 100 % of it."""
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=value if value is not None else 0.0, number={"suffix": suffix},
        title={"text": title}, gauge={"axis": {"range": [0, max(limit * 1.2, (value or 0) * 1.05)]},
                                      "steps": [{"range": [0.8 * limit, limit], "color": "#f6d365"},
                                                {"range": [limit, max(limit * 1.2, (value or 0) * 1.05)], "color": "#f4a6a6"}]},
    ))  # fmt: skip
    fig.update_layout(height=240, margin={"l": 30, "r": 30, "t": 60, "b": 10})
    return fig


def waterfall(parts: Mapping[str, float], total: str, reference: tuple[str, float] | None = None) -> go.Figure:
    """Revenue waterfall: each part, then the total; a reference bar (perfect foresight) beside it. [EUR]"""
    names, values = list(parts), list(parts.values())
    fig = go.Figure(go.Waterfall(x=[*names, total], y=[*values, 0.0], measure=["relative"] * len(values) + ["total"],
                                 name="run", connector={"line": {"color": "#999"}}))  # fmt: skip
    if reference is not None:
        fig.add_trace(go.Bar(x=[reference[0]], y=[reference[1]], name=reference[0], marker_color="#bbb"))
    return _layout(fig, "Revenue (EUR)", "")
