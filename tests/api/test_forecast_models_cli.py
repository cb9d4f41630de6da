"""Fitted forecasters end to end: tidy input with exogenous files, the backtest's forecast service, ``forecast value``.

Synthetic files for the hand-checkable parts, the real DE-LU data for the value table.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from actors.backtest.forecast import ForecastService
from api.cli import app
from twin.backtest.clock import delivery_days
from twin.markets.calendar import PublicationCalendar

runner = CliRunner()
TZ = "Europe/Berlin"


def _write_tidy(tmp_path, start="2021-01-04", end="2021-04-05", seed=0):
    """Hourly prices (tidy, DE-LU column) driven by a load forecast in a second file; a spring DST day inside."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(pd.Timestamp(start, tz=TZ), pd.Timestamp(end, tz=TZ), freq="h", inclusive="left").tz_convert("UTC")
    hour = index.tz_convert(TZ).hour.to_numpy()
    load = 50_000 + 8_000 * np.sin((hour - 6) / 24 * 2 * np.pi) + rng.normal(0, 1_500, len(index))
    price = 0.002 * load - 40 + rng.normal(0, 2, len(index))
    stamps = index.strftime("%Y-%m-%dT%H:%M:%SZ")
    history = tmp_path / "history.csv"
    test = tmp_path / "prices.csv"
    frame = pd.DataFrame({"timestamp_utc": stamps, "price_de_lu_eur_per_mwh": price.round(2)})
    cut = len(frame) - 24 * 20
    frame.iloc[:cut].to_csv(history, index=False)
    frame.iloc[cut:].to_csv(test, index=False)
    exo = tmp_path / "exo.csv"
    load_frame = pd.DataFrame({"timestamp_utc": stamps, "load_forecast_day_ahead_mw": load.round(1), "load_actual_mw": load})
    load_frame.loc[100:123, "load_forecast_day_ahead_mw"] = np.nan  # a whole-day gap, as in the ENTSO-E data
    load_frame.to_csv(exo, index=False)
    return history, test, exo


def test_tidy_evaluate_with_history_and_exogenous_recomputes_from_the_csv(tmp_path):
    history, test, exo = _write_tidy(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["forecast", "evaluate", "--data", str(test), "--history", str(history),
                                 "--exogenous", str(exo), "--zone", "DE-LU", "--model", "lightgbm",
                                 "--test-start", "2021-03-25", "--test-end", "2021-03-30", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out / "forecasts.csv")
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(rows) == 6 * 24 - 1  # 28 March 2021 has 23 hours
    assert metrics["exogenous"] == ["load_forecast_day_ahead_mw"]  # the actual load is not a forecast
    assert metrics["exogenous_filled_values"] == 24
    err = (rows.price_eur_per_mwh - rows.forecast_eur_per_mwh).abs()
    assert metrics["mae_eur_per_mwh"] == pytest.approx(err.mean())
    weekly = (rows.price_eur_per_mwh - rows.naive_weekly_eur_per_mwh).abs().mean()
    assert metrics["rmae_weekly"] == pytest.approx(err.mean() / weekly)
    assert metrics["rmae_weekly"] < 0.7  # the load forecast explains the price
    assert metrics["diebold_mariano"]["p_value"] < 0.05


def test_exogenous_lagged_hands_the_models_the_forecast_of_the_day_before(tmp_path):
    history, test, exo = _write_tidy(tmp_path)
    args = ["forecast", "evaluate", "--data", str(test), "--history", str(history), "--exogenous", str(exo),
            "--zone", "DE-LU", "--model", "lightgbm", "--test-start", "2021-03-22", "--test-end", "2021-03-24"]  # fmt: skip
    same = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    lagged = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--exogenous-lagged"])
    assert same.exit_code == 0 and lagged.exit_code == 0, lagged.output
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert b["exogenous_public_before_gate"] is False
    assert b["mae_eur_per_mwh"] > a["mae_eur_per_mwh"]  # yesterday's load forecast explains less


def test_bad_exogenous_file_exits_2(tmp_path):
    history, test, _ = _write_tidy(tmp_path)
    result = runner.invoke(app, ["forecast", "evaluate", "--data", str(test), "--exogenous", str(tmp_path / "nope.csv"),
                                 "--test-start", "2021-03-22", "--test-end", "2021-03-24", "--out", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 2
    assert "exogenous forecast file not found" in result.output


@pytest.mark.parametrize("name", ["lightgbm", "ensemble"])
def test_forecast_service_does_not_read_past_the_gate(tmp_path, name):
    from twin.config.forecasting import ForecastingConfig

    rng = np.random.default_rng(3)
    index = pd.date_range("2021-01-03T23:00Z", periods=24 * 90, freq="h")
    prices = pd.Series(40 + 10 * np.sin(np.arange(len(index)) / 24 * 2 * np.pi) + rng.normal(0, 3, len(index)), index=index)
    calendar = PublicationCalendar(TZ)
    days = delivery_days(index, pd.Timedelta(hours=1), TZ, dt.time(12), history_days=60)
    day = days[10]
    changed = prices.copy()
    changed[changed.index >= day.start_utc] += 400.0  # D and later: unknown at D's gate
    settings = ForecastingConfig(lightgbm_window_days=50, ensemble_members=["lightgbm", "seasonal_naive"], cache_dir=tmp_path)
    got = [
        ForecastService(name, series, calendar, pd.Timedelta(hours=1), 36, settings=settings).forecast(day)
        for series in (prices, changed)
    ]
    np.testing.assert_allclose(got[0], got[1])


@pytest.mark.data
def test_forecast_value_on_real_de_lu_data(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", str(data_dir))
    out = tmp_path / "value"
    result = runner.invoke(app, ["forecast", "value", "scenarios/de_lu_2023_forecasts.yaml", "--forecasters",
                                 "persistence,lightgbm,perfect", "--start", "2023-03-24", "--end", "2023-03-28",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "value.csv").set_index("forecaster")
    assert list(table.index) == ["persistence", "lightgbm", "perfect"]
    assert table.loc["perfect", "mae_eur_per_mwh"] == pytest.approx(0.0)
    assert (table["capture_ratio_day_ahead"] <= table.loc["perfect", "capture_ratio_day_ahead"] + 1e-9).all()
    assert (table["days"] == 5).all()
    # the MAE recomputed from the lightgbm run's vintages: each delivery day from its own gate's forecast
    vintages = pd.read_parquet(out / "lightgbm" / "forecasts.parquet")
    assert (vintages.gate_closure_utc < vintages.timestamp_utc).all()
    local_day = vintages.timestamp_utc.dt.tz_convert(TZ).dt.date
    gate_day = (vintages.gate_closure_utc.dt.tz_convert(TZ) + pd.Timedelta(days=1)).dt.date
    own = vintages[local_day == gate_day]
    assert len(own) == 5 * 24 - 1  # 26 March 2023 has 23 hours
    mae = (own.price_eur_per_mwh - own.forecast_eur_per_mwh).abs().mean()
    assert table.loc["lightgbm", "mae_eur_per_mwh"] == pytest.approx(mae)
    report = (out / "lightgbm" / "report.html").read_text()
    assert "Day-ahead forecasts" in report and f"<td>lightgbm</td><td>{mae:.2f}</td>" in report
    summary = json.loads((out / "lightgbm" / "summary.json").read_text())
    revenue = summary["fleet"]["day_ahead_revenue_eur"]
    assert table.loc["lightgbm", "eur_per_mwh_capacity_per_year"] == pytest.approx(revenue / 0.5 * 365 / 5)


@pytest.mark.data
def test_evaluate_a_measured_household_load_column(tmp_path, data_dir):
    house = data_dir / "household_load_pv_opsd_konstanz_residential4" / "household_residential4_konstanz_hourly_kw.csv"
    out = tmp_path / "load"
    result = runner.invoke(app, ["forecast", "evaluate", "--data", str(house), "--column",
                                 "household_consumption_kw_derived", "--model", "typical_week",
                                 "--test-start", "2016-03-01", "--test-end", "2016-03-14", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out / "forecasts.csv").dropna()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["mae_kw"] == pytest.approx((rows.value_kw - rows.forecast_kw).abs().mean())
    base = (rows.value_kw - rows.persistence_kw).abs().mean()
    assert metrics["skill_vs_persistence"] == pytest.approx(1 - metrics["mae_kw"] / base)
    bad = runner.invoke(app, ["forecast", "evaluate", "--data", str(house), "--column", "pv_kw", "--model", "lear",
                              "--test-start", "2016-03-01", "--test-end", "2016-03-02", "--out", str(tmp_path / "x")])  # fmt: skip
    assert bad.exit_code == 2 and "not a load/PV forecaster" in bad.output


@pytest.mark.data
@pytest.mark.ray
def test_fitted_forecaster_on_ray_equals_local(tmp_path, data_dir, monkeypatch, ray_session):
    monkeypatch.setenv("BESS_TWIN_DATA", str(data_dir))
    for runtime in ("local", "ray"):
        result = runner.invoke(app, ["backtest", "scenarios/de_lu_2023_forecasts.yaml", "--runtime", runtime,
                                     "--out", str(tmp_path / runtime), "--start", "2023-06-01", "--end", "2023-06-03"])  # fmt: skip
        assert result.exit_code == 0, result.output
    for name in ("sites.parquet", "forecasts.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local" / name), pd.read_parquet(tmp_path / "ray" / name))
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["forecaster"] == "lightgbm" and summary["forecast_accuracy"]["lightgbm"]["mae_eur_per_mwh"] > 0


@pytest.mark.data
def test_forecast_value_aligns_forecasters_with_different_histories(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", str(data_dir))
    out = tmp_path / "value"
    result = runner.invoke(app, ["forecast", "value", "scenarios/quickstart.yaml", "--forecasters",
                                 "persistence,seasonal_naive", "--end", "2023-01-12", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "value.csv")
    assert (table.period_start == "2023-01-08").all()  # seasonal naive needs a week of prices
    bad = runner.invoke(app, ["forecast", "value", "scenarios/quickstart.yaml", "--forecasters", "oracle"])
    assert bad.exit_code == 2 and "oracle not known" in bad.output
