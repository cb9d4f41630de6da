"""Local-day tables: DST days made regular and mapped back; the backtest adapter equals the walk-forward."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from twin.forecast.evaluation import walk_forward
from twin.forecast.gbm import GradientBoosting
from twin.forecast.table import fill_exogenous_gaps, from_local_days, to_local_days, weekdays
from twin.forecast.table_forecaster import TableForecaster

TZ = "Europe/Berlin"


def _hourly(start: str, end: str) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start, tz=TZ), pd.Timestamp(end, tz=TZ), freq="h", inclusive="left").tz_convert("UTC")


def test_spring_day_fills_the_missing_hour_and_autumn_averages_the_repeated_one() -> None:
    index = _hourly("2021-03-27", "2021-03-29")
    local_hour = index.tz_convert(TZ).hour.to_numpy()
    dates, values, utc = to_local_days(pd.DataFrame({"p": local_hour * 10.0}, index=index), TZ, pd.Timedelta(hours=1))
    assert dates == [dt.date(2021, 3, 27), dt.date(2021, 3, 28)]
    assert values.shape == (2, 24, 1)
    assert values[1, 2, 0] == pytest.approx((10.0 + 30.0) / 2)  # 02:00 does not exist on 28 March
    assert utc[1, 2] == "" and utc[1, 3] == "2021-03-28T01:00:00Z"
    index = _hourly("2021-10-31", "2021-11-01")
    stamps = np.arange(len(index), dtype=float)  # 25 distinct values
    dates, values, utc = to_local_days(pd.DataFrame({"p": stamps}, index=index), TZ, pd.Timedelta(hours=1))
    assert len(index) == 25 and values.shape == (1, 24, 1)
    assert values[0, 2, 0] == pytest.approx((2 + 3) / 2)  # the two 02:00 hours (CEST, CET)
    assert utc[0, 2] == "2021-10-31T00:00:00Z"  # labelled by the first


def test_from_local_days_maps_back_and_repeats_day_d_for_the_next_morning() -> None:
    dates = [dt.date(2021, 10, 31)]
    values = np.arange(24, dtype=float)[None, :]
    target = _hourly("2021-10-31", "2021-11-01 12:00")
    out = from_local_days(dates, values, target, TZ)
    local = target.tz_convert(TZ)
    np.testing.assert_array_equal(out, local.hour.to_numpy(dtype=float))  # both 02:00 get slot 2; D+1 repeats D


def test_fill_exogenous_gaps_uses_the_week_before() -> None:
    values = np.arange(10 * 2 * 1, dtype=float).reshape(10, 2, 1)
    values[8, :, 0] = np.nan
    assert fill_exogenous_gaps(values) == 2
    np.testing.assert_array_equal(values[8], values[1])


def _series(n_days: int, seed: int = 0) -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    index = _hourly("2021-01-04", str(dt.date(2021, 1, 4) + dt.timedelta(days=n_days)))
    hour = index.tz_convert(TZ).hour.to_numpy()
    load = 50 + 10 * np.sin(hour / 24 * 2 * np.pi) + rng.normal(0, 4, len(index))
    prices = 0.9 * load + rng.normal(0, 1, len(index))
    return pd.Series(prices, index=index), pd.DataFrame({"load_mw": load}, index=index)


def test_backtest_adapter_forecasts_what_the_walk_forward_forecasts() -> None:
    prices, exo = _series(140)
    day_start = pd.Timestamp("2021-05-10", tz=TZ).tz_convert("UTC")
    target = pd.date_range(day_start, periods=36, freq="h")
    adapter = TableForecaster(GradientBoosting(window_days=90, refit_days=7), exo, None)
    history = prices.loc[prices.index < day_start]
    via_backtest = adapter.forecast(history, target, TZ)
    # the same day through a full table, as `forecast evaluate` does
    dates, values, utc = to_local_days(prices.to_frame().join(exo), TZ, pd.Timedelta(hours=1))
    from twin.forecast.table import DailyTable

    table = DailyTable(dates, values[:, :, 0], values[:, :, 1:], ["load_mw"], weekdays(dates), utc, None)
    day = table.day_index(dt.date(2021, 5, 10))
    via_walk = walk_forward(table, GradientBoosting(window_days=90, refit_days=7), np.array([day]))[0]
    np.testing.assert_allclose(via_backtest[:24], via_walk, rtol=1e-9)
    np.testing.assert_allclose(via_backtest[24:], via_walk[:12], rtol=1e-9)  # D+1's morning repeats D's


def test_backtest_adapter_ignores_exogenous_data_after_the_day() -> None:
    prices, exo = _series(120)
    day_start = pd.Timestamp("2021-04-20", tz=TZ).tz_convert("UTC")
    target = pd.date_range(day_start, periods=24, freq="h")
    history = prices.loc[prices.index < day_start]
    later = exo.copy()
    later.loc[later.index >= day_start + pd.Timedelta(days=1)] += 1000.0
    a = TableForecaster(GradientBoosting(window_days=60), exo, None).forecast(history, target, TZ)
    b = TableForecaster(GradientBoosting(window_days=60), later, None).forecast(history, target, TZ)
    np.testing.assert_allclose(a, b)
