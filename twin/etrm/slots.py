"""A delivery day's values on the regular local slots of a day (DST days made regular)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from twin.forecast.table import to_local_days
from twin.types import FloatArray


def step_hours(stamps: pd.DatetimeIndex) -> float:
    """The step of a run's rows: the most common spacing of their timestamps (1 h with fewer than two). [h]

    Rows of several sites one after the other count too: the jump back between
    sites is one spacing among many.
    """
    if len(stamps) < 2:
        return 1.0
    return float(stamps.to_series().diff().dropna().mode().iloc[0] / pd.Timedelta(hours=1))


def slots_per_day(step: pd.Timedelta) -> int:
    """Regular slots in a local day at ``step``: 24 at 1 h, 96 at 15 min."""
    return int(pd.Timedelta(days=1) / step)


@functools.lru_cache(maxsize=64)
def slot_positions(start_utc: pd.Timestamp, n: int, step: pd.Timedelta, tz: str) -> np.ndarray:
    """Local slot of each of ``n`` steps from ``start_utc`` (cached: every site of a day shares it)."""
    start_local = start_utc.tz_convert(tz)
    if n == slots_per_day(step) and start_local == start_local.normalize():
        regular = np.arange(n)  # a day without a DST change, from local midnight
        regular.setflags(write=False)
        return regular
    local = pd.date_range(start_utc, periods=n, freq=step).tz_convert(tz)
    minutes = int(step / pd.Timedelta(minutes=1))
    out = np.asarray((local.hour * 60 + local.minute) // minutes, dtype=int)
    out.setflags(write=False)
    return out


def to_local_slots(
    values: FloatArray, start_utc: pd.Timestamp, step: pd.Timedelta, tz: str, how: str = "sum"
) -> FloatArray:
    """Arrange one day's values, shape (n,), by local time of day into shape (S,).

    The hour repeated in autumn is summed (``how="sum"``, for volumes) or
    averaged (``how="mean"``, for prices); the hour skipped in spring is 0
    (sum) or NaN (mean).

    Raises
    ------
    ValueError
        For an unknown ``how``.
    """
    if how not in ("sum", "mean"):
        raise ValueError(f"how {how!r}: choose sum or mean")
    v = np.asarray(values, dtype=float)
    pos = slot_positions(pd.Timestamp(start_utc), len(v), pd.Timedelta(step), tz)
    n = slots_per_day(step)
    total: FloatArray = np.bincount(pos, weights=v, minlength=n)[:n].astype(float)
    count = np.bincount(pos, minlength=n)[:n].astype(float)
    if how == "sum":
        return total
    out: FloatArray = np.where(count > 0, total / np.maximum(count, 1.0), np.nan)
    return out


def published_days(published: pd.Series, tz: str, step: pd.Timedelta, days: int) -> FloatArray:
    """The last ``days`` local days of a published price series, DST days made regular, shape (<= days, S). [EUR/MWh]

    Only the tail is arranged (a day more than asked, so a cut first day is
    never among those returned): the risk and credit services start from it.
    """
    if not len(published):
        return np.zeros((0, slots_per_day(step)))
    recent = published[published.index >= published.index[-1] - pd.Timedelta(days=days + 1)]
    _, values, _ = to_local_days(recent.to_frame("price"), tz, step)
    out: FloatArray = values[-days:, :, 0]
    return out
