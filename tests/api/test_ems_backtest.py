"""EMS backtests on real data: energy balance at the PCC, KPIs recomputed from sites.parquet, FCR headroom.

Each check recomputes from the run's files with pandas and the scenario's
numbers, independently of the product's KPI code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
HOUSEHOLD = "scenarios/household_pv.yaml"
COMMERCIAL = "scenarios/commercial_peak_shaving.yaml"
FCR = "scenarios/fcr_stacking.yaml"
pytestmark = pytest.mark.data


CHROMIUM_CHECK = Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "chromium-check"


def _run(out: Path, scenario: str, start: str, end: str, *extra: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    result = runner.invoke(app, ["backtest", scenario, "--runtime", "local", "--out", str(out),
                                 "--start", start, "--end", end, *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    return summary, pd.read_parquet(out / "sites.parquet"), pd.read_parquet(out / "daily.parquet")


@pytest.fixture(scope="module")
def household_dir(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("hh")
    return out, _run(out, HOUSEHOLD, "2023-06-01", "2023-06-14", "--strategy", "stacked")


@pytest.fixture(scope="module")
def household(household_dir):
    return household_dir[1]


@pytest.fixture(scope="module")
def commercial_dir(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("com")
    return out, _run(out, COMMERCIAL, "2023-01-25", "2023-02-07")


@pytest.fixture(scope="module")
def commercial(commercial_dir):
    return commercial_dir[1]


@pytest.fixture(scope="module")
def fcr(tmp_path_factory, data_dir):
    return _run(tmp_path_factory.mktemp("fcr"), FCR, "2022-05-01", "2022-05-07")


@pytest.mark.parametrize("run", ["household", "commercial", "fcr"])
def test_energy_balance_at_the_pcc_closes_every_step(run, request):
    _, sites, _ = request.getfixturevalue(run)
    balance = sites.load_kw - sites.pv_kw - sites.power_kw - sites.grid_kw
    assert np.abs(balance).max() < 1e-6
    assert (sites.pv_kw >= -1e-9).all() and (sites.pv_curtailed_kw >= -1e-9).all()


def test_household_bill_and_self_consumption_recomputed(household):
    summary, sites, daily = household
    dt_h = 1.0
    for site_id, fixed in (("home_fixed", True), ("home_dynamic", False)):
        s = sites[sites.site_id == site_id]
        imp = s.grid_kw.clip(lower=0) * dt_h
        exp = (-s.grid_kw).clip(lower=0) * dt_h
        price_kwh = 0.32 if fixed else s.price_eur_per_mwh / 1000 + 0.02 + 0.09 + 0.05
        bill = float((imp * price_kwh).sum() - (exp * 0.082).sum())
        grid0 = s.load_kw - s.pv_kw - s.pv_curtailed_kw
        bill0 = float((grid0.clip(lower=0) * price_kwh).sum() - ((-grid0).clip(lower=0) * 0.082).sum())
        site = next(x for x in summary["sites"] if x["site_id"] == site_id)
        assert site["energy_bill_eur"] == pytest.approx(bill, rel=1e-9)
        assert site["energy_bill_without_battery_eur"] == pytest.approx(bill0, rel=1e-9)
        assert site["savings_eur"] == pytest.approx(bill0 - bill, rel=1e-9)
        pv = s.pv_kw.sum() * dt_h
        assert site["self_consumption_ratio"] == pytest.approx((pv - exp.sum()) / pv, rel=1e-9)
        assert site["self_sufficiency"] == pytest.approx(1 - imp.sum() / (s.load_kw.sum() * dt_h), rel=1e-9)
        # in June the battery stores PV: it must raise self-consumption and save money
        assert site["savings_eur"] > 0
        days = daily[daily.site_id == site_id]
        assert days.energy_bill_eur.sum() == pytest.approx(bill, rel=1e-9)
        assert set(days.strategy) == {"stacked"}
    assert summary["sites"][0]["kind"] == "behind_the_meter"


def test_commercial_peaks_recomputed_and_cut(commercial):
    summary, sites, _ = commercial
    site = summary["sites"][0]
    local = pd.DatetimeIndex(sites.timestamp_utc).tz_convert("Europe/Berlin")
    month = local.strftime("%Y-%m")
    peaks = sites.grid_kw.clip(lower=0).groupby(month).max()
    peaks0 = (sites.load_kw - sites.pv_kw - sites.pv_curtailed_kw).clip(lower=0).groupby(month).max()
    for row in site["peaks"]:
        assert row["peak_import_kw"] == pytest.approx(peaks[row["period"]], rel=1e-9)
        assert row["peak_import_without_battery_kw"] == pytest.approx(peaks0[row["period"]], rel=1e-9)
    assert site["demand_charge_eur"] == pytest.approx(10.0 * peaks.sum(), rel=1e-9)
    assert site["demand_charge_eur"] < site["demand_charge_without_battery_eur"]
    assert sites.timestamp_utc.diff().dropna().eq(pd.Timedelta("15min")).all()  # BDEW: 15-min grid


def test_fcr_band_and_soc_headroom_hold_in_every_delivered_step(fcr):
    summary, sites, daily = fcr
    e_kwh, p_kw = 1500.0, 1000.0
    band = sites.fcr_band_kw
    assert band.max() > 0
    assert ((sites.schedule_kw.abs() + band) <= p_kw + 1e-3).all()
    # the plant's ramp leaves at most a few watts of the previous step's power; the droop of the
    # replayed frequency (fcr_activation_kwh, hourly steps: kWh = mean kW) comes out of the band
    assert sites.fcr_activation_kwh.abs().max() > 0
    assert (sites.fcr_activation_kwh.abs() <= band + 1e-6).all()
    assert (sites.power_kw.abs() <= p_kw * 1.001).all()
    # what the plant delivered beyond the schedule is the droop less what it could not deliver
    delivered_fcr = sites.fcr_activation_kwh - sites.fcr_shortfall_kwh
    market_kw = sites.power_kw - delivered_fcr
    assert ((market_kw.abs() + band) <= p_kw * 1.001).all()
    site = summary["sites"][0]
    assert site["fcr_shortfall_kwh"] == pytest.approx(float(sites.fcr_shortfall_kwh.abs().sum()))
    start = np.r_[0.5 * e_kwh, sites.energy_kwh.to_numpy()[:-1]]
    planned = np.abs(sites.fcr_shortfall_kwh.to_numpy()) < 1e-9  # where the droop drove the SoC to a limit, FCR fell short
    for energy in (start[planned], sites.energy_kwh.to_numpy()[planned]):
        assert (energy - band[planned] * 0.25 / 0.95 >= 0.05 * e_kwh - 1e-3).all()
        assert (energy + band[planned] * 0.25 * 0.95 <= 0.95 * e_kwh + 1e-3).all()
    # one band per 4-hour block, paid at the block's price
    site = summary["sites"][0]
    assert site["fcr_revenue_eur"] == pytest.approx(float(sites.fcr_revenue_eur.sum()))
    assert site["fcr_revenue_eur"] > 0
    assert site["capture_ratio"] is not None and site["capture_ratio"] <= 1.0 + 1e-9


@pytest.mark.ray
def test_ray_and_local_runtimes_agree_on_ems_sites(tmp_path, data_dir, ray_session):
    for runtime in ("local", "ray"):
        result = runner.invoke(app, ["backtest", HOUSEHOLD, "--runtime", runtime, "--out", str(tmp_path / runtime),
                                     "--start", "2023-05-01", "--end", "2023-05-03", "--strategy", "auto"])  # fmt: skip
        assert result.exit_code == 0, result.output
    for name in ("sites.parquet", "daily.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local" / name), pd.read_parquet(tmp_path / "ray" / name))


def test_each_site_plans_with_its_own_forecaster(tmp_path, data_dir):
    import yaml

    data = yaml.safe_load(Path("scenarios/quickstart.yaml").read_text())
    data["sites"][1]["strategy"] = {"forecaster": "perfect", "horizon_h": 36}
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(data))
    _, sites, _ = _run(tmp_path / "out", str(path), "2023-03-01", "2023-03-03")
    vienna, linz = sites[sites.site_id == "vienna"], sites[sites.site_id == "linz"]
    np.testing.assert_allclose(linz.forecast_eur_per_mwh, linz.price_eur_per_mwh)  # perfect
    assert not np.allclose(vienna.forecast_eur_per_mwh, vienna.price_eur_per_mwh)  # persistence


@pytest.mark.parametrize(("run", "figures"), [("household_dir", 3), ("commercial_dir", 3)])
def test_ems_report_renders_in_a_real_browser(run, figures, request, tmp_path):
    """The EMS section (household week, monthly peaks) renders in headless Chromium without errors."""
    if shutil.which("chromium") is None or not CHROMIUM_CHECK.is_file():
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium and ../shared/tools/chromium-check")
        pytest.skip("chromium or ../shared/tools/chromium-check not available")
    out, _ = request.getfixturevalue(run)
    html = (out / "report.html").read_text()
    assert "EMS: what the battery earns each site" in html
    shot = tmp_path / "report"
    check = subprocess.run([str(CHROMIUM_CHECK), (out / "report.html").as_uri(), str(shot), "8000"],
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    dom = (tmp_path / "report.html").read_text()
    assert dom.count('class="plotly-graph-div') >= figures


def test_weather_pv_forecast_is_labelled_an_upper_bound(tmp_path, data_dir):
    import yaml

    data = yaml.safe_load(Path(COMMERCIAL).read_text())
    data["sites"][0]["pv"]["forecast"] = "weather"
    path = tmp_path / "weather.yaml"
    path.write_text(yaml.safe_dump(data))
    summary, _, _ = _run(tmp_path / "out", str(path), "2023-06-01", "2023-06-02")
    site = summary["sites"][0]
    assert site["pv_forecast"] == "weather" and site["profile_forecast_upper_bound"] is True
    plain, _, _ = _run(tmp_path / "plain", COMMERCIAL, "2023-06-01", "2023-06-02")
    assert plain["sites"][0]["profile_forecast_upper_bound"] is False
