"""Backtest clock: local delivery days, DST, gate closure, allowed periods."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from twin.backtest.clock import delivery_days, horizon_steps
from twin.errors import ConfigError

TZ = "Europe/Vienna"


def index(start: str, days: int, freq: str = "h") -> pd.DatetimeIndex:
    lo = pd.Timestamp(start).tz_localize(TZ).tz_convert("UTC")
    hi = (pd.Timestamp(start) + pd.Timedelta(days=days)).tz_localize(TZ).tz_convert("UTC")
    return pd.date_range(lo, hi, freq=freq, inclusive="left")


@pytest.mark.parametrize(("freq", "steps"), [("h", 1), ("15min", 4)])
def test_dst_days_have_23_and_25_hours(freq, steps):
    idx = index("2023-03-20", 230, freq)
    days = delivery_days(idx, pd.Timedelta(freq if freq != "h" else "1h"), TZ, dt.time(12), history_days=1)
    by_date = {d.date: d for d in days}
    assert by_date[dt.date(2023, 3, 26)].n_steps == 23 * steps
    assert by_date[dt.date(2023, 10, 29)].n_steps == 25 * steps
    assert by_date[dt.date(2023, 3, 27)].n_steps == 24 * steps
    # gate 12:00 on the 23-hour day: only 11 hours of it have passed
    assert by_date[dt.date(2023, 3, 27)].gate_step_prev_day == 11 * steps
    assert by_date[dt.date(2023, 6, 1)].gate_step_prev_day == 12 * steps
    assert sum(d.n_steps for d in days) + 24 * steps == len(idx)
    first = days[0]
    assert first.date == dt.date(2023, 3, 21)
    assert first.gate_closure_utc == pd.Timestamp("2023-03-20T11:00Z")
    assert first.start_utc == pd.Timestamp("2023-03-20T23:00Z")


def test_period_outside_data_names_allowed_range():
    idx = index("2023-06-01", 10)
    with pytest.raises(ConfigError, match="delivery days 2023-06-08 to 2023-06-10"):
        delivery_days(idx, pd.Timedelta("1h"), TZ, dt.time(12), history_days=7, start=dt.date(2023, 6, 2))


def test_partial_first_day_is_skipped():
    idx = index("2023-06-01", 5)[5:]
    days = delivery_days(idx, pd.Timedelta("1h"), TZ, dt.time(12), history_days=1)
    assert days[0].date == dt.date(2023, 6, 3)


def test_horizon_steps():
    assert horizon_steps(36, pd.Timedelta("1h")) == 36
    assert horizon_steps(36, pd.Timedelta("15min")) == 144
