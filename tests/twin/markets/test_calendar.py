"""The publication calendar: local gate times on DST days, and one answer for every user.

Spring forward (23 h day) and fall back (25 h day) of 2023 and 2024, in Berlin
and Vienna. On those days the auction result for D+1 must appear at 12:45
local, as on every other day; adding 12 h to a tz-aware midnight would put it
at 13:45 (spring) or 11:45 (autumn).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.live.market import LiveMarketService
from twin.io.feeds import ReplayFeed
from twin.markets.calendar import PublicationCalendar

DST_DAYS = [dt.date(2023, 3, 26), dt.date(2023, 10, 29), dt.date(2024, 3, 31), dt.date(2024, 10, 27)]
ZONES = ["Europe/Berlin", "Europe/Vienna"]


def _local(day: dt.date, hh: int, mm: int, tz: str) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(day.year, day.month, day.day, hh, mm), tz=tz).tz_convert("UTC")


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("day", DST_DAYS, ids=str)
def test_result_for_tomorrow_is_public_at_12_45_local_on_dst_days(day, tz):
    cal = PublicationCalendar(tz)
    tomorrow = day + dt.timedelta(days=1)
    assert cal.gate_closure_utc(tomorrow).tz_convert(tz).time() == dt.time(12, 0)
    assert cal.day_ahead_result_utc(tomorrow).tz_convert(tz).time() == dt.time(12, 45)
    assert cal.intraday_opening_utc(tomorrow).tz_convert(tz).time() == dt.time(15, 0)
    end_today = pd.Timestamp(tomorrow, tz=tz).tz_convert("UTC")
    end_tomorrow = pd.Timestamp(tomorrow + dt.timedelta(days=1), tz=tz).tz_convert("UTC")
    assert cal.day_ahead_published_until(_local(day, 12, 44, tz)) == end_today
    assert cal.day_ahead_published_until(_local(day, 12, 45, tz)) == end_tomorrow
    # the DST day's own result was published the day before, at 12:45 local
    assert cal.day_ahead_result_utc(day).tz_convert(tz) == pd.Timestamp(
        dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12, 45)), tz=tz
    )


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("day", DST_DAYS, ids=str)
def test_live_market_and_replay_feed_publish_d_plus_1_at_the_local_time(day, tz, tmp_path):
    index = pd.date_range(pd.Timestamp(day - dt.timedelta(days=2), tz=tz), periods=24 * 6, freq="h").tz_convert("UTC")
    prices = pd.Series(np.arange(len(index), dtype=float), index=index)
    cal = PublicationCalendar(tz)
    feed = ReplayFeed(prices, cal)
    market = LiveMarketService("DE-LU", feed, pd.Timedelta(hours=1), tz, tmp_path / "p.sqlite", 60.0)
    tomorrow = day + dt.timedelta(days=1)
    n_tomorrow = int(((index >= pd.Timestamp(tomorrow, tz=tz)) & (index < pd.Timestamp(tomorrow + dt.timedelta(days=1), tz=tz))).sum())
    before, after = _local(day, 12, 44, tz), _local(day, 12, 46, tz)
    start = pd.Timestamp(day, tz=tz).tz_convert("UTC")
    n_today = int(((index >= start) & (index < pd.Timestamp(tomorrow, tz=tz))).sum())
    assert n_today == (23 if day.month == 3 else 25)
    window_before = market.window(before, 48)  # polls every market minute
    window_after = market.window(after, 48)
    assert window_before["known_steps"] == 12  # 12:00 to 24:00 local; the DST hour is at night
    assert window_after["known_steps"] == 12 + n_tomorrow
    horizon_end = index[-1] + pd.Timedelta(hours=1)
    assert len(feed.fetch(start, horizon_end, before)) == n_today
    assert len(feed.fetch(start, horizon_end, after)) == n_today + n_tomorrow


def _reference_published_until(t_utc: pd.Timestamp, tz: str) -> pd.Timestamp:
    """Naive reference with zoneinfo: tomorrow is public from today 12:45 wall-clock time."""
    zone = ZoneInfo(tz)
    local = t_utc.to_pydatetime().astimezone(zone)
    result = dt.datetime.combine(local.date(), dt.time(12, 45), tzinfo=zone)
    last = local.date() + dt.timedelta(days=1 if local >= result else 0)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
    return pd.Timestamp(end).tz_convert("UTC")


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.integers(0, 2 * 366 * 24 * 60),
    tz=st.sampled_from(ZONES),
)
def test_published_until_matches_a_zoneinfo_reference(minutes, tz):
    t = pd.Timestamp("2023-01-01T00:00Z") + pd.Timedelta(minutes=minutes)
    assert PublicationCalendar(tz).day_ahead_published_until(t) == _reference_published_until(t, tz)


def test_perturbing_prices_after_the_gate_does_not_move_what_is_public():
    index = pd.date_range("2024-03-29T23:00Z", periods=24 * 5, freq="h")
    prices = pd.Series(np.arange(len(index), dtype=float), index=index)
    cal = PublicationCalendar("Europe/Berlin")
    gate = cal.gate_closure_utc(dt.date(2024, 4, 1))
    public = cal.published_day_ahead(prices, gate)
    changed = prices.copy()
    changed[changed.index >= public.index[-1] + pd.Timedelta(hours=1)] += 1000.0
    pd.testing.assert_series_equal(cal.published_day_ahead(changed, gate), public)
    assert public.index[-1] == pd.Timestamp("2024-03-31T21:00Z")  # 23:00 CEST on the 23 h day
