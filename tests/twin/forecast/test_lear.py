"""LEAR and the forecast metrics: hand-solved metrics, no look-ahead, better than naive on AR data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.errors import ForecastError
from twin.forecast.lear import Lear, features, forecast_window
from twin.forecast.metrics import accuracy, diebold_mariano, mae, rmse, smape_pct


def _synthetic(n_days: int = 140, slots: int = 24, seed: int = 0):
    """Prices driven by an exogenous load forecast and yesterday's price, with a weekly pattern."""
    rng = np.random.default_rng(seed)
    load = 50 + 10 * np.sin(np.arange(slots) / slots * 2 * np.pi)[None, :] + rng.normal(0, 3, (n_days, slots))
    weekday = np.arange(n_days) % 7
    prices = np.zeros((n_days, slots))
    prices[0] = load[0]
    for d in range(1, n_days):
        prices[d] = 0.5 * prices[d - 1] + 0.8 * load[d] - 5 * (weekday[d] >= 5) + rng.normal(0, 1, slots)
    return prices, load[:, :, None], weekday


def test_metrics_by_hand() -> None:
    actual = np.array([[10.0, 20.0], [30.0, 0.0]])
    forecast = np.array([[12.0, 20.0], [27.0, 0.0]])
    assert mae(actual, forecast) == pytest.approx(5 / 4)
    assert rmse(actual, forecast) == pytest.approx(math.sqrt(13 / 4))
    # 2*2/22, 0, 2*3/57, and 0/0 counted as 0
    assert smape_pct(actual, forecast) == pytest.approx(100 * (4 / 22 + 6 / 57) / 4)


def test_diebold_mariano_direction_and_degenerate_case() -> None:
    rng = np.random.default_rng(1)
    actual = rng.normal(50, 10, (60, 24))
    good = actual + rng.normal(0, 1, actual.shape)
    bad = actual + rng.normal(0, 5, actual.shape)
    stat, p = diebold_mariano(actual, good, bad)
    assert stat > 5 and p < 1e-6
    stat, p = diebold_mariano(actual, bad, good)
    assert stat < -5 and p > 1 - 1e-6
    assert all(math.isnan(x) for x in diebold_mariano(actual, good, good))


def test_accuracy_names_both_naive_baselines() -> None:
    prices = np.arange(20 * 2, dtype=float).reshape(20, 2)
    days = np.arange(10, 20)
    out = accuracy(prices, days, prices[days - 7])
    assert out["rmae_weekly"] == pytest.approx(1.0)
    assert out["rmae_daily"] == pytest.approx(7.0)  # the weekly naive is 7 times as far off here


def test_features_read_only_the_past_and_the_days_exogenous_forecasts() -> None:
    prices, exo, weekday = _synthetic()
    d = 100
    row = features(prices, exo, weekday, d)
    assert row.shape == (4 * 24 + 3 * 24 + 7,)
    changed_p, changed_x = prices.copy(), exo.copy()
    changed_p[d:] += 1000.0  # D's prices and later are not public at D's gate
    changed_x[d + 1 :] += 1000.0  # nor the exogenous forecasts after D
    np.testing.assert_array_equal(row, features(changed_p, changed_x, weekday, d))
    a = Lear((28, 56)).forecast_day(prices, exo, weekday, d)
    b = Lear((28, 56)).forecast_day(changed_p, changed_x, weekday, d)
    np.testing.assert_allclose(a, b)


def test_lear_beats_the_naive_forecasts_on_autoregressive_data() -> None:
    prices, exo, weekday = _synthetic()
    days = np.arange(125, 140)
    lear = Lear((56, 84))
    forecast = np.vstack([lear.forecast_day(prices, exo, weekday, int(d)) for d in days])
    out = accuracy(prices, days, forecast)
    assert out["rmae_weekly"] < 0.75 and out["rmae_daily"] < 0.9


def test_lear_refuses_too_little_history() -> None:
    prices, exo, weekday = _synthetic(n_days=30)
    with pytest.raises(ForecastError, match="needs 63 days of history"):
        Lear((56,)).forecast_day(prices, exo, weekday, 20)
    with pytest.raises(ForecastError, match="at least 14 calibration days"):
        forecast_window(prices, exo, weekday, 15, 56)


def test_parallel_windows_give_the_same_forecast() -> None:
    prices, exo, weekday = _synthetic()
    one = Lear((28, 56)).forecast_day(prices, exo, weekday, 120)
    two = Lear((28, 56), n_jobs=2).forecast_day(prices, exo, weekday, 120)
    np.testing.assert_allclose(one, two)
