"""Intraday forecasters: the day-ahead price plus the recent quarter-hour spread, hand-computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.forecast.intraday import DayAheadPlusShape, PerfectIntraday, local_slots
from twin.markets.calendar import PublicationCalendar

TZ = "Europe/Berlin"


def _grid(days: int) -> pd.DatetimeIndex:
    return pd.date_range("2021-06-01", periods=96 * days, freq="15min", tz=TZ).tz_convert("UTC")


def test_shape_is_the_mean_spread_of_the_last_days_at_the_same_quarter_hour():
    index = _grid(4)
    da = np.full(len(index), 50.0)
    slot = local_slots(index, TZ)
    # spread ID - DA: day 0: +4 at every slot, day 1: +8, day 2: -6, day 3 (target): unknown
    spread = np.repeat([4.0, 8.0, -6.0, 100.0], 96)
    published = index + pd.Timedelta(minutes=15)  # continuous index: public at delivery end
    f = DayAheadPlusShape(da, da + spread, pd.DatetimeIndex(published), slot, lookback_days=2)
    target = np.arange(3 * 96, 4 * 96)
    at = index[3 * 96] + pd.Timedelta(minutes=1)  # day 3 has begun: days 0-2 are published
    np.testing.assert_allclose(f.forecast(target, at), 50.0 + (8.0 - 6.0) / 2)
    wide = DayAheadPlusShape(da, da + spread, pd.DatetimeIndex(published), slot, lookback_days=7)
    np.testing.assert_allclose(wide.forecast(target, at), 50.0 + (4 + 8 - 6) / 3)


def test_a_price_published_exactly_at_the_decision_is_not_used():
    index = _grid(2)
    da = np.zeros(len(index))
    spread = np.repeat([10.0, 20.0], 96)
    published = pd.DatetimeIndex(index + pd.Timedelta(minutes=15))
    f = DayAheadPlusShape(da, da + spread, published, local_slots(index, TZ), lookback_days=1)
    target = np.array([96 + 5])  # slot 5 of day 1
    # at the end of slot 4 of day 1 (= its publication), day 1's slot 5 is not known; day 0's is
    assert f.forecast(target, index[96 + 5])[0] == pytest.approx(10.0)
    # once its delivery has ended, the slot's own price is history and the latest observation
    assert f.forecast(target, index[96 + 5] + pd.Timedelta(minutes=16))[0] == pytest.approx(20.0)


def test_auction_prices_are_public_after_the_auction_on_d_minus_1():
    calendar = PublicationCalendar(TZ)
    index = _grid(2)
    published = calendar.intraday_publication_utc(index, pd.Timedelta("15min"), auction=True)
    assert published[0] == pd.Timestamp("2021-05-31 15:10", tz=TZ)
    assert published[96] == pd.Timestamp("2021-06-01 15:10", tz=TZ)
    continuous = calendar.intraday_publication_utc(index, pd.Timedelta("15min"), auction=False)
    assert continuous[0] == index[0] + pd.Timedelta("15min")


def test_no_history_means_no_shape_and_perfect_means_realised():
    index = _grid(1)
    da = np.arange(len(index), dtype=float)
    f = DayAheadPlusShape(da, da + 5, pd.DatetimeIndex(index + pd.Timedelta("15min")),
                          local_slots(index, TZ))
    np.testing.assert_allclose(f.forecast(np.arange(96), index[0]), da)
    realised = da + 3
    realised[10] = np.nan
    perfect = PerfectIntraday(da, realised).forecast(np.arange(96), index[0])
    assert perfect[0] == 3.0 and perfect[10] == da[10]
