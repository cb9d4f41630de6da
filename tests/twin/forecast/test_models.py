"""LightGBM, Prophet, ensembles and the vintage cache: better than naive, no look-ahead, cached by what was public."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from twin.config.forecasting import ForecastingConfig
from twin.errors import ForecastError
from twin.forecast.daily import Ensemble, SameSlotEarlier
from twin.forecast.evaluation import walk_forward
from twin.forecast.gbm import GradientBoosting
from twin.forecast.metrics import accuracy
from twin.forecast.models import Cached, make_daily_model
from twin.forecast.prophet_model import ProphetModel
from twin.forecast.table import DailyTable, weekdays


def _table(n_days: int = 160, slots: int = 24, seed: int = 0) -> DailyTable:
    """Prices driven by an exogenous load forecast, yesterday's price and weekends."""
    rng = np.random.default_rng(seed)
    dates = [dt.date(2021, 1, 4) + dt.timedelta(days=i) for i in range(n_days)]
    wd = weekdays(dates)
    load = 50 + 10 * np.sin(np.arange(slots) / slots * 2 * np.pi)[None, :] + rng.normal(0, 4, (n_days, slots))
    prices = np.zeros((n_days, slots))
    prices[0] = load[0]
    for d in range(1, n_days):
        prices[d] = 0.4 * prices[d - 1] + 0.9 * load[d] - 8 * (wd[d] >= 5) + rng.normal(0, 1, slots)
    return DailyTable(dates, prices, load[:, :, None], ["load_mw"], wd, np.full((n_days, slots), ""), None)


def _perturbed_after_gate(table: DailyTable, day: int) -> DailyTable:
    prices, exo = table.prices.copy(), table.exogenous.copy()
    prices[day:] += 500.0  # D's prices and later are not public at D's gate
    exo[day + 1 :] -= 300.0  # nor the exogenous forecasts after D
    return DailyTable(table.dates, prices, exo, table.exogenous_names, table.weekday, table.timestamp_utc, None)


@pytest.mark.parametrize("model", [GradientBoosting(window_days=100, refit_days=7), ProphetModel(window_days=60)])
def test_fitted_models_do_not_look_past_the_gate(model) -> None:
    table = _table()
    day = 120
    before = model.predict(table.public_at_gate(day), day)
    fresh = type(model)(**{"window_days": model.window_days, "refit_days": model.refit_days})
    after = fresh.predict(_perturbed_after_gate(table, day), day)
    np.testing.assert_allclose(before, after, rtol=1e-9)
    assert np.isfinite(before).all() and before.shape == (24,)


def test_lightgbm_beats_the_naive_forecasts() -> None:
    table = _table()
    days = np.arange(130, 160)
    forecast = walk_forward(table, GradientBoosting(window_days=120, refit_days=7), days)
    out = accuracy(table.prices, days, forecast)
    assert out["rmae_weekly"] < 0.6 and out["rmae_daily"] < 0.8


def test_lightgbm_retrains_on_a_calendar_schedule() -> None:
    table = _table()
    model = GradientBoosting(window_days=100, refit_days=7)
    anchors = set()
    for day in range(100, 115):
        model.predict(table.public_at_gate(day), day)
        anchors |= set(model._fitted)
    assert all(a.toordinal() % 7 == 0 for a in anchors)
    assert len(anchors) in (2, 3)  # 15 days span two or three weekly re-trainings


def test_models_refuse_too_little_history() -> None:
    table = _table(n_days=40)
    with pytest.raises(ForecastError, match="lightgbm needs 35 days of history"):
        GradientBoosting().predict(table, 20)
    with pytest.raises(ForecastError, match="prophet needs 28 days"):
        ProphetModel().predict(table, 10)


class _Constant:
    """A member that always forecasts ``value`` (hand-checkable ensemble weights)."""

    def __init__(self, value: float) -> None:
        self.value, self.name, self.history_days, self.lookback_days = value, f"c{value}", 1, 1

    def predict(self, table: DailyTable, day: int) -> np.ndarray:
        return np.full(table.slots, self.value)


def test_inverse_mae_weights_by_hand() -> None:
    slots = 2
    dates = [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(5)]
    prices = np.full((5, slots), 10.0)
    table = DailyTable(dates, prices, np.zeros((5, slots, 0)), [], weekdays(dates), np.full((5, slots), ""), None)
    ens = Ensemble([_Constant(12.0), _Constant(6.0)], "inverse_mae", window_days=3)
    first = ens.predict(table.public_at_gate(2), 2)
    np.testing.assert_allclose(first, 9.0)  # no past errors yet: equal weights
    # day 3: past errors on day 2 are 2 and 4 -> weights 1/2 : 1/4 -> 2/3, 1/3
    np.testing.assert_allclose(ens.weights(table, 3), [2 / 3, 1 / 3])
    np.testing.assert_allclose(ens.predict(table.public_at_gate(3), 3), 2 / 3 * 12 + 1 / 3 * 6)
    mean = Ensemble([_Constant(12.0), _Constant(6.0)], "mean")
    np.testing.assert_allclose(mean.predict(table, 3), 9.0)


def test_ensemble_weights_use_only_days_before_the_gate() -> None:
    table = _table()
    members = [SameSlotEarlier("persistence", 1), SameSlotEarlier("seasonal_naive", 7)]
    ens = Ensemble(members, "inverse_mae", window_days=5)
    for day in range(100, 110):
        ens.predict(table.public_at_gate(day), day)
    w = ens.weights(table.public_at_gate(110), 110)
    w_perturbed = ens.weights(_perturbed_after_gate(table, 110), 110)
    np.testing.assert_allclose(w, w_perturbed)
    assert w.sum() == pytest.approx(1.0)


def test_cache_returns_the_vintage_and_keys_on_the_public_data(tmp_path) -> None:
    table = _table()
    model = make_daily_model("lightgbm", ForecastingConfig(lightgbm_window_days=60), cache_dir=tmp_path)
    assert isinstance(model, Cached)
    day = 110
    first = model.predict(table.public_at_gate(day), day)
    again = make_daily_model("lightgbm", ForecastingConfig(lightgbm_window_days=60), cache_dir=tmp_path)
    np.testing.assert_array_equal(again.predict(table.public_at_gate(day), day), first)
    assert (again.hits, again.misses) == (1, 0)
    # data after the gate are not part of the key; a revised price before it is
    again.predict(_perturbed_after_gate(table, day).public_at_gate(day), day)
    assert again.hits == 2
    revised = table.prices.copy()
    revised[day - 1, 3] += 1.0
    changed = DailyTable(table.dates, revised, table.exogenous, table.exogenous_names, table.weekday, table.timestamp_utc, None)
    again.predict(changed.public_at_gate(day), day)
    assert again.misses == 1
    # other settings are another model
    other = make_daily_model("lightgbm", ForecastingConfig(lightgbm_window_days=90), cache_dir=tmp_path)
    other.predict(table.public_at_gate(day), day)
    assert other.misses == 1


def test_make_daily_model_names() -> None:
    assert make_daily_model("persistence").predict(_table(), 20).shape == (24,)
    ens = make_daily_model("ensemble", ForecastingConfig(ensemble_members=["persistence", "seasonal_naive"]))
    assert isinstance(ens, Ensemble) and [m.name for m in ens.members] == ["persistence", "seasonal_naive"]
    with pytest.raises(ValueError, match="unknown price model 'oracle'"):
        make_daily_model("oracle")
