"""Downsampling long time series for plotting, keeping every peak (M4 aggregation).

A year of quarter hours is 35,040 points per series; a browser draws a few
thousand well. :func:`m4` splits the series into buckets of equal length and
keeps, per bucket and per column, the first, last, smallest and largest point
(Jugel et al., "M4: A Visualization-Oriented Time Series Data Aggregation",
PVLDB 7(10), 2014): the drawn line is pixel-identical to the full one at the
bucket's width, and no peak is lost, unlike taking every n-th point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def m4(frame: pd.DataFrame, columns: list[str], max_points: int) -> pd.DataFrame:
    """At most about ``max_points`` rows of ``frame`` (in its order) with each column's extremes kept.

    Parameters
    ----------
    frame : pd.DataFrame
        Rows in time order (one series; split by site before calling).
    columns : list of str
        Numeric columns whose first, last, min and max per bucket are kept.
    max_points : int
        Target size; ``frame`` is returned as is when not longer.

    Returns
    -------
    pd.DataFrame
        A subset of ``frame``'s rows, in order.

    Raises
    ------
    ValueError
        If ``max_points < 4 * len(columns)`` (a bucket keeps up to four rows per column).
    """
    n = len(frame)
    if n <= max_points:
        return frame
    if max_points < 4 * max(len(columns), 1):
        raise ValueError(f"max_points {max_points} is below 4 per column ({len(columns)} columns); raise it")
    buckets = max(max_points // (4 * max(len(columns), 1)), 1)
    bucket = (np.arange(n) * buckets) // n
    keep = np.zeros(n, dtype=bool)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:] - 1, n - 1]
    keep[starts] = keep[ends] = True
    for column in columns:
        values = pd.Series(frame[column].to_numpy(dtype=float)).dropna()  # a gap stays a gap: its ends are kept
        grouped = values.groupby(bucket[values.index.to_numpy()])
        for idx in (grouped.idxmin(), grouped.idxmax()):
            keep[idx.to_numpy(dtype=int)] = True
    return frame.iloc[np.flatnonzero(keep)]
