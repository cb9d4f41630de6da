"""Forecasters: hand cases, no look-ahead, DST days, history checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.errors import ForecastError
from twin.forecast.naive import Persistence, SeasonalNaive, make_forecaster
from twin.markets.calendar import PublicationCalendar

TZ = "Europe/Berlin"
CALENDAR = PublicationCalendar(TZ)


def published_before(prices: pd.Series, day_start_utc: pd.Timestamp) -> pd.Series:
    """What is public at the day-ahead gate of the day starting at ``day_start_utc``."""
    day = day_start_utc.tz_convert(TZ).date()
    return CALENDAR.published_day_ahead(prices, CALENDAR.gate_closure_utc(day))


def day_start(date: str) -> pd.Timestamp:
    return pd.Timestamp(date).tz_localize(TZ).tz_convert("UTC")


def local_series(start: str, days: int, freq: str = "h") -> pd.Series:
    index = pd.date_range(day_start(start), day_start(pd.Timestamp(start) + pd.Timedelta(days=days)),
                          freq=freq, inclusive="left")
    return pd.Series(np.arange(len(index), dtype=float), index=index)


def at_wall_clock(prices: pd.Series, local: str) -> float:
    """First price whose local wall-clock start is ``local`` (YYYY-MM-DD HH:MM)."""
    labels = prices.index.tz_convert(TZ).strftime("%Y-%m-%d %H:%M")
    return float(prices[labels == local].iloc[0])


def test_persistence_uses_same_hour_of_last_published_day():
    prices = local_series("2023-06-01", 10)
    d = day_start("2023-06-05")
    target = pd.date_range(d, periods=36, freq="h")
    history = published_before(prices, d)
    out = Persistence().forecast(history, target, TZ)
    day_before = prices[day_start("2023-06-04"):day_start("2023-06-05")].iloc[:24].to_numpy()
    np.testing.assert_array_equal(out[:24], day_before)
    np.testing.assert_array_equal(out[24:], day_before[:12])  # D+1 also from D-1


def test_seasonal_naive_uses_one_week_earlier():
    prices = local_series("2023-06-01", 14)
    d = day_start("2023-06-10")
    target = pd.date_range(d, periods=24, freq="h")
    out = SeasonalNaive().forecast(published_before(prices, d), target, TZ)
    np.testing.assert_array_equal(out, prices[day_start("2023-06-03"):].iloc[:24].to_numpy())


@pytest.mark.parametrize("name", ["persistence", "seasonal_naive"])
def test_no_look_ahead(name):
    """Changing any price of D or later leaves the forecast for D unchanged."""
    prices = local_series("2023-06-01", 12)
    d = day_start("2023-06-09")
    target = pd.date_range(d, periods=36, freq="h")
    forecaster = make_forecaster(name)
    before = forecaster.forecast(published_before(prices, d), target, TZ)
    changed = prices.copy()
    changed[changed.index >= d] = 1e6
    after = forecaster.forecast(published_before(changed, d), target, TZ)
    np.testing.assert_array_equal(before, after)
    assert (before < 1e6).all()


def test_dst_days_map_local_hours():
    """D = 2023-03-27 after the 23-hour day; D = 2023-10-29 is a 25-hour day."""
    prices = local_series("2023-03-20", 14)
    d = day_start("2023-03-27")
    target = pd.date_range(d, periods=24, freq="h")
    out = Persistence().forecast(published_before(prices, d), target, TZ)
    # 02:00 does not exist on 26 March: fall back to 01:00 of that day
    assert out[2] == at_wall_clock(prices, "2023-03-26 01:00")
    assert out[10] == at_wall_clock(prices, "2023-03-26 10:00")
    autumn = local_series("2023-10-20", 14)
    d = day_start("2023-10-29")
    target = pd.date_range(d, day_start("2023-10-30"), freq="h", inclusive="left")
    assert len(target) == 25
    out = Persistence().forecast(published_before(autumn, d), target, TZ)
    assert out[2] == out[3] == at_wall_clock(autumn, "2023-10-28 02:00")


def test_perfect_returns_realised_and_pads_the_end():
    prices = local_series("2023-06-01", 5)
    forecaster = make_forecaster("perfect", prices)
    d = day_start("2023-06-05")
    target = pd.date_range(d, periods=36, freq="h")
    out = forecaster.forecast(published_before(prices, d), target, TZ)
    np.testing.assert_array_equal(out[:24], prices[d:].to_numpy())
    np.testing.assert_array_equal(out[24:], prices[d:].to_numpy()[:12])


def test_short_history_is_a_clear_error():
    prices = local_series("2023-06-01", 3)
    d = day_start("2023-06-03")
    with pytest.raises(ForecastError, match="start the backtest at least 7 day"):
        SeasonalNaive().forecast(published_before(prices, d), pd.date_range(d, periods=24, freq="h"), TZ)


def test_unknown_forecaster():
    with pytest.raises(ValueError, match="choose perfect, persistence or seasonal_naive"):
        make_forecaster("oracle")
