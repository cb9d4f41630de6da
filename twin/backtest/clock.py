"""The backtest clock: delivery days, gate closures and planning horizons.

A backtest walks local delivery days D. For each D the day-ahead gate closes on
D-1 at ``gate_closure_local`` (12:00 in SDAC); the site plans D from what is
known then. Days are local market days, so a DST day has 23 or 25 hours (92 or
100 quarter hours).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.errors import ConfigError
from twin.markets.calendar import PublicationCalendar, local_midnight_utc


@dataclass(frozen=True)
class DeliveryDay:
    """One local delivery day.

    Attributes
    ----------
    date : datetime.date
        Local calendar date of delivery.
    start_utc, end_utc : pd.Timestamp
        Local midnight at the start and end of the day, in UTC (end exclusive).
    gate_closure_utc : pd.Timestamp
        Day-ahead gate closure for this day (D-1 at the local gate time), in UTC.
    first_step : int
        Position of ``start_utc`` in the price series.
    n_steps : int
        Steps in the day (24 hourly steps on a normal day, 23/25 on DST days).
    gate_step_prev_day : int
        Steps from the start of D-1 to the gate closure: how much of D-1 has been
        delivered when D is planned.
    """

    date: dt.date
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    gate_closure_utc: pd.Timestamp
    first_step: int
    n_steps: int
    gate_step_prev_day: int


def delivery_days(
    index: pd.DatetimeIndex,
    step: pd.Timedelta,
    tz: str,
    gate_closure_local: dt.time,
    *,
    history_days: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[DeliveryDay]:
    """List the delivery days a backtest can simulate on a regular price index.

    Parameters
    ----------
    index : pd.DatetimeIndex
        Regular UTC index of the price series (interval starts).
    step : pd.Timedelta
        Its market time unit.
    tz : str
        Local market time zone.
    gate_closure_local : datetime.time
        Gate closure on D-1, local time.
    history_days : int
        Full local days of published prices the forecaster needs before D.
    start, end : datetime.date, optional
        First and last delivery day (inclusive). Default: the first day with
        enough history and the last day with complete prices.

    Returns
    -------
    list of DeliveryDay
        Consecutive days, each fully covered by ``index``.

    Raises
    ------
    ConfigError
        If ``start``/``end`` lie outside what the data and the forecaster allow,
        naming the allowed range.
    """
    first_local = index[0].tz_convert(tz)
    last_end_local = (index[-1] + step).tz_convert(tz)
    first_full = (
        first_local.date()
        if first_local == first_local.normalize()
        else (first_local.date() + dt.timedelta(days=1))
    )
    # The local day that holds the end of the data is either empty or incomplete.
    last_full = last_end_local.date() - dt.timedelta(days=1)
    earliest = first_full + dt.timedelta(days=history_days)
    if earliest > last_full:
        raise ConfigError(
            f"the price data ({first_local.date()} to {last_full}) are too short for a "
            f"backtest that needs {history_days} day(s) of history"
        )
    start = start or earliest
    end = end or last_full
    if start < earliest or end > last_full or end < start:
        raise ConfigError(
            f"backtest.start/end = {start}/{end} outside what the data allow: delivery days "
            f"{earliest} to {last_full} (the forecaster needs {history_days} day(s) of "
            "published prices before the first day); change backtest.start/end"
        )
    calendar = PublicationCalendar(tz, gate_closure_local)
    n_days = (end - start).days + 1
    dates = [start + dt.timedelta(days=i) for i in range(n_days + 1)]
    bounds = [local_midnight_utc(d, tz) for d in dates]
    prev_start = local_midnight_utc(start - dt.timedelta(days=1), tz)
    positions = index.get_indexer(pd.DatetimeIndex(bounds))
    if positions[-1] == -1 and bounds[-1] == index[-1] + step:
        positions[-1] = len(index)
    if (positions < 0).any():
        raise ConfigError(f"price index does not contain local midnights of {start} to {end}")
    days = []
    for i in range(n_days):
        day_prev_start = prev_start if i == 0 else bounds[i - 1]
        gate_utc = calendar.gate_closure_utc(dates[i])
        days.append(
            DeliveryDay(
                date=dates[i],
                start_utc=bounds[i],
                end_utc=bounds[i + 1],
                gate_closure_utc=gate_utc,
                first_step=int(positions[i]),
                n_steps=int(positions[i + 1] - positions[i]),
                gate_step_prev_day=int(np.floor((gate_utc - day_prev_start) / step)),
            )
        )
    return days


def horizon_index(day: DeliveryDay, n_steps: int, step: pd.Timedelta) -> pd.DatetimeIndex:
    """UTC interval starts of a planning horizon of ``n_steps`` from the start of ``day``."""
    return pd.date_range(day.start_utc, periods=n_steps, freq=step)


def horizon_steps(horizon_h: float, step: pd.Timedelta) -> int:
    """Number of steps of a horizon of ``horizon_h`` hours. [steps]"""
    return int(round(horizon_h / (step / pd.Timedelta(hours=1))))
