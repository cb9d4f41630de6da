"""Load and PV forecasters: hand-solved typical week, no look-ahead, LightGBM skill on a calendar-driven load."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from twin.forecast.profile import ProfileGbm, forecast_profile, gate_ns, typical_week
from twin.forecast.profile_evaluation import profile_metrics, walk_forward_profile

TZ = "Europe/Berlin"


def _hourly(days: int) -> pd.DatetimeIndex:
    return pd.date_range("2021-01-03T23:00Z", periods=24 * days, freq="h")


def test_typical_week_is_the_mean_of_the_last_four_same_weekdays() -> None:
    index = _hourly(60)
    ns = index.as_unit("ns").asi8
    week = np.arange(len(index)) // (24 * 7)  # every week one higher
    values = week.astype(float)
    day = 50
    positions = np.arange(day * 24, day * 24 + 24)
    gate = int(ns[day * 24]) - 12 * 3600 * 10**9
    expected = np.mean([week[positions[0]] - w for w in range(1, 5)])
    np.testing.assert_allclose(typical_week(values, ns, positions, gate), expected)


def _load(days: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = _hourly(days)
    local = index.tz_convert(TZ)
    working = (local.day_of_week < 5).astype(float)
    shape = 0.3 + 0.5 * ((local.hour >= 7) & (local.hour < 19)) * working + 0.2 * (local.hour >= 18)
    return pd.Series(shape + rng.gamma(2.0, 0.05, len(index)), index=index)


def test_lightgbm_profile_does_not_read_after_the_decision() -> None:
    series = _load(120)
    ns = series.index.as_unit("ns").asi8
    day = dt.date(2021, 4, 20)
    decision = gate_ns(day, TZ)
    positions = np.flatnonzero(series.index >= pd.Timestamp(day, tz=TZ))[:36]
    later = series.to_numpy().copy()
    later[ns >= decision] += 50.0
    a = forecast_profile("lightgbm", series.to_numpy(), ns, positions, decision, ProfileGbm(TZ))
    b = forecast_profile("lightgbm", later, ns, positions, decision, ProfileGbm(TZ))
    np.testing.assert_allclose(a, b)


def test_lightgbm_profile_has_skill_on_a_calendar_driven_load() -> None:
    series = _load(150)
    days = [dt.date(2021, 5, 10) + dt.timedelta(days=i) for i in range(21)]
    rows = walk_forward_profile(series, "lightgbm", days, TZ)
    metrics = profile_metrics(rows)
    assert metrics["skill_vs_persistence"] > 0.2  # persistence misses every Monday and Saturday
    assert metrics["scored_steps"] == 21 * 24
    assert metrics["mae_kw"] == pytest.approx((rows.value_kw - rows.forecast_kw).abs().mean())


def test_unknown_profile_forecaster() -> None:
    with pytest.raises(ValueError, match="unknown load/PV forecaster 'oracle'"):
        forecast_profile("oracle", np.zeros(48), _hourly(2).as_unit("ns").asi8, np.arange(24), 0)
