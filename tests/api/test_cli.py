"""The bess-twin CLI: validate, backtest, exit codes, the run folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
QUICKSTART = "scenarios/quickstart.yaml"


@pytest.mark.data
def test_validate_ok(data_dir):
    result = runner.invoke(app, ["validate", QUICKSTART])
    assert result.exit_code == 0, result.output
    assert "2 site(s)" in result.output


def test_validate_bad_scenario_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", str(tmp_path))
    data = yaml.safe_load(Path(QUICKSTART).read_text())
    data["sites"][0]["battery"]["soc_min"] = 0.95
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "sites.0.battery" in result.output
    assert "soc_min (0.95) must be less than soc_max (0.9)" in result.output


def test_missing_data_exits_2_with_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", str(tmp_path / "nowhere"))
    result = runner.invoke(app, ["backtest", QUICKSTART, "--runtime", "local", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "data file not found" in result.output
    assert "BESS_TWIN_DATA" in result.output
    assert not (tmp_path / "o").exists()


def test_bad_options_exit_2(data_dir):
    assert runner.invoke(app, ["backtest", QUICKSTART, "--runtime", "spark"]).exit_code == 2
    assert runner.invoke(app, ["backtest", QUICKSTART, "--forecaster", "oracle"]).exit_code == 2
    result = runner.invoke(app, ["backtest", QUICKSTART, "--runtime", "local", "--start", "2022-01-01"])
    assert result.exit_code == 2
    assert "outside what the data allow" in result.output


@pytest.fixture(scope="module")
def two_week_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("run")
    result = runner.invoke(app, ["backtest", QUICKSTART, "--runtime", "local", "--out", str(out),
                                 "--start", "2023-07-01", "--end", "2023-07-14"])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.mark.data
def test_backtest_writes_run_folder(two_week_run):
    out, output = two_week_run
    for name in ("summary.json", "sites.parquet", "daily.parquet", "trades.parquet", "report.html"):
        assert (out / name).is_file()
    assert "fleet" in output and "capt." in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["period"] == {**summary["period"], "start": "2023-07-01", "end": "2023-07-14"}
    assert summary["runtime"] == "local"
    assert {"revenue_eur", "perfect_foresight_revenue_eur", "capture_ratio"} <= set(summary["fleet"])
    keys = {"site_id", "revenue_eur", "perfect_foresight_revenue_eur", "capture_ratio", "energy_charged_kwh",
            "energy_discharged_kwh", "full_cycles", "soc_min", "soc_max"}
    assert [s["site_id"] for s in summary["sites"]] == ["vienna", "linz"]
    assert all(keys <= set(s) for s in summary["sites"])
    html = (out / "report.html").read_text()
    assert "plotly" in html and "Cumulative revenue, all markets" in html
    assert "day-ahead only" in output and summary["intraday"]["enabled"] is False
    assert summary["fleet"]["intraday_net_eur"] == 0 and summary["fleet"]["intraday_traded_mwh"] == 0
    assert summary["fleet"]["capture_ratio"] == pytest.approx(summary["fleet"]["capture_ratio_day_ahead"],
                                                              abs=0.02)


CHROMIUM_CHECK = Path(__file__).resolve().parents[3] / "shared" / "tools" / "chromium-check"


@pytest.mark.data
def test_report_renders_every_figure_in_a_real_browser(two_week_run, tmp_path):
    """Headless Chromium (Debian's package) loads report.html: no JS error, an SVG in every figure."""
    if shutil.which("chromium") is None or not CHROMIUM_CHECK.is_file():
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium and ../shared/tools/chromium-check")
        pytest.skip("chromium or ../shared/tools/chromium-check not available")
    out, _ = two_week_run
    shot = tmp_path / "report"
    check = subprocess.run([str(CHROMIUM_CHECK), (out / "report.html").as_uri(), str(shot), "8000"],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    dom = (tmp_path / "report.html").read_text()
    figures = dom.count('class="plotly-graph-div')
    assert figures == 2
    assert dom.count('class="main-svg"') >= 2 * figures  # plotly draws two SVG layers per figure
    assert "Plotly is not defined" not in (tmp_path / "report.console.log").read_text()


@pytest.mark.data
def test_time_series_respect_limits_and_add_up(two_week_run):
    out, _ = two_week_run
    summary = json.loads((out / "summary.json").read_text())
    sites = pd.read_parquet(out / "sites.parquet")
    daily = pd.read_parquet(out / "daily.parquet")
    assert list(sites.columns[:8]) == ["timestamp_utc", "site_id", "price_eur_per_mwh", "forecast_eur_per_mwh",
                                       "schedule_kw", "power_kw", "soc", "energy_kwh"]
    assert str(sites["timestamp_utc"].dt.tz) == "UTC"
    assert len(sites) == 2 * 14 * 24
    for site in summary["sites"]:
        rows = sites[sites["site_id"] == site["site_id"]]
        assert rows["soc"].between(0.1 - 1e-9, 0.9 + 1e-3).all()  # fade lifts SoC a hair
        assert rows["power_kw"].abs().max() <= site["p_charge_max_kw"] + 1e-9
        np.testing.assert_allclose(
            rows["revenue_eur"],
            rows["day_ahead_revenue_eur"] + rows["intraday_revenue_eur"] - rows["fees_eur"]
            + rows["imbalance_eur"],
            atol=1e-12,
        )
        np.testing.assert_allclose(
            rows["day_ahead_revenue_eur"], rows["price_eur_per_mwh"] * rows["day_ahead_kw"] / 1000
        )
        np.testing.assert_allclose(rows["schedule_kw"], rows["day_ahead_kw"] + rows["intraday_kw"])
        assert (rows["intraday_kw"] == 0).all() and (rows["intraday_revenue_eur"] == 0).all()
        spread = 20.0  # the quickstart's default imbalance spread
        np.testing.assert_allclose(
            rows["revenue_eur"],
            (rows["price_eur_per_mwh"] * rows["power_kw"] - spread * rows["imbalance_kwh"].abs()) / 1000,
            atol=1e-9,
        )
        assert site["imbalance_eur"] <= 0  # every deviation costs the spread
        assert 0.9 < site["soh_final"] < 1.0
        assert rows["revenue_eur"].sum() == pytest.approx(site["revenue_eur"])
        assert rows["perfect_foresight_revenue_eur"].sum() == pytest.approx(site["perfect_foresight_revenue_eur"])
        assert daily[daily["site_id"] == site["site_id"]]["revenue_eur"].sum() == pytest.approx(site["revenue_eur"])
        assert site["capture_ratio"] <= 1.0
        discharged = rows["power_kw"].clip(lower=0).sum()
        assert site["energy_discharged_kwh"] == pytest.approx(discharged)
    assert summary["fleet"]["revenue_eur"] == pytest.approx(sum(s["revenue_eur"] for s in summary["sites"]))


@pytest.mark.ray
@pytest.mark.data
def test_backtest_on_ray_matches_local(two_week_run, tmp_path, ray_session):
    out_local, _ = two_week_run
    result = runner.invoke(app, ["backtest", QUICKSTART, "--out", str(tmp_path), "--start", "2023-07-01",
                                 "--end", "2023-07-14"])
    assert result.exit_code == 0, result.output
    local = pd.read_parquet(out_local / "sites.parquet")
    remote = pd.read_parquet(tmp_path / "sites.parquet")
    pd.testing.assert_frame_equal(local, remote)
    assert json.loads((tmp_path / "summary.json").read_text())["runtime"] == "ray"


INTRADAY_2021 = "scenarios/de_lu_2021_da_ida.yaml"


def _quickstart_with(tmp_path: Path, edit, source: str = QUICKSTART) -> Path:
    data = yaml.safe_load(Path(source).read_text())
    intraday = data["market"].get("intraday", {})
    if "policy" in intraday:
        intraday["policy"] = str(Path(source).resolve().parent / intraday["policy"])
    edit(data)
    bad = tmp_path / "edited.yaml"
    bad.write_text(yaml.safe_dump(data))
    return bad


@pytest.mark.parametrize("option", ["max_restarts", "max_task_retries", "max_concurrency"])
def test_actor_options_that_break_site_guarantees_exit_2(tmp_path, monkeypatch, option):
    monkeypatch.setenv("BESS_TWIN_DATA", str(tmp_path))
    bad = _quickstart_with(tmp_path, lambda d: d["sites"][1].update(actor_options={option: 3}))
    result = runner.invoke(app, ["backtest", str(bad), "--runtime", "local", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"sites.1.actor_options = {{'{option}': 3}}: {option} is not allowed" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.data
def test_placement_actor_options_are_accepted(tmp_path, data_dir):
    ok = _quickstart_with(tmp_path, lambda d: d["sites"][0].update(actor_options={"num_cpus": 0.5, "memory": 2**28}))
    result = runner.invoke(app, ["validate", str(ok)])
    assert result.exit_code == 0, result.output


def test_unset_env_var_exits_2_naming_key(tmp_path, monkeypatch):
    monkeypatch.delenv("BESS_TWIN_DATA", raising=False)
    result = runner.invoke(app, ["validate", QUICKSTART])
    assert result.exit_code == 2
    assert "market.prices.path" in result.output
    assert "environment variable BESS_TWIN_DATA is not set" in result.output


def test_unset_env_var_in_policy_path_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", str(tmp_path))
    monkeypatch.delenv("BESS_TWIN_POLICIES", raising=False)
    bad = _quickstart_with(
        tmp_path, lambda d: d["market"]["intraday"].update(policy="${BESS_TWIN_POLICIES}/policy.yaml"),
        INTRADAY_2021,
    )
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "market.intraday.policy" in result.output
    assert "BESS_TWIN_POLICIES is not set" in result.output


def _rebap_scenario(tmp_path: Path, column: str, start: str | None, end: str | None) -> Path:
    data = yaml.safe_load(Path(QUICKSTART).read_text())
    data["market"]["prices"] = {
        "path": "${BESS_TWIN_DATA}/day_ahead_prices_de_lu_2019_2022_entsoe/day_ahead_prices_de_lu_2019_2022_hourly.csv"}
    data["market"]["imbalance"] = {"prices": {
        "path": "${BESS_TWIN_DATA}/imbalance_prices_rebap_de/rebap_imbalance_price_de_2021_2022_15min.csv",
        "column": column}}
    data["market"]["intraday"] = {"enabled": False}
    data["backtest"] = {k: v for k, v in {"start": start, "end": end}.items() if v}
    path = tmp_path / "rebap.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.data
def test_imbalance_coverage_is_checked_on_the_backtest_period_only(tmp_path, data_dir):
    ok = _rebap_scenario(tmp_path, "rebap_pos_eur_per_mwh", "2021-03-01", "2021-03-03")
    result = runner.invoke(app, ["validate", str(ok)])
    assert result.exit_code == 0, result.output
    assert "measured imbalance prices" in result.output
    whole = _rebap_scenario(tmp_path, "rebap_pos_eur_per_mwh", None, None)
    result = runner.invoke(app, ["validate", str(whole)])
    assert result.exit_code == 2
    assert "market.imbalance.prices" in result.output and "of the backtest period" in result.output


@pytest.mark.data
def test_validate_names_the_imbalance_column_key(tmp_path, data_dir):
    bad = _rebap_scenario(tmp_path, "rebap_eur_per_mwh", "2021-03-01", "2021-03-03")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "market.imbalance.prices.column = 'rebap_eur_per_mwh' is not in the file" in result.output


@pytest.mark.data
def test_report_week_and_out_are_checked_before_the_run(tmp_path, data_dir):
    args = ["backtest", QUICKSTART, "--runtime", "local", "--start", "2023-05-01", "--end", "2023-05-03"]
    result = runner.invoke(app, [*args, "--report-week", "2023-06-01", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--report-week 2023-06-01 is outside the backtest period" in result.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, [*args, "--out", str(blocker / "run")])
    assert result.exit_code == 2 and f"--out {blocker / 'run'}: cannot write there" in result.output
    result = runner.invoke(app, ["validate", QUICKSTART, "--report-week", "2022-12-01"])
    assert result.exit_code == 2


def test_start_after_end_says_so(tmp_path, monkeypatch, data_dir):
    result = runner.invoke(app, ["backtest", QUICKSTART, "--runtime", "local", "--start", "2023-05-10",
                                 "--end", "2023-05-01"])
    assert result.exit_code == 2
    assert "starts on 2023-05-10 after it ends on 2023-05-01" in result.output


@pytest.mark.parametrize(("text", "message"), [
    (b"name: a\nname: b\n", "key 'name' appears twice"),
    (b"name: \xe9t\xe9\n", "not UTF-8 text"),
    (b"x: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    (b"\x00\x01\x02\xff", "not UTF-8 text"),
])
def test_unreadable_yaml_exits_2(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_bytes(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize(("edit", "key"), [
    (lambda d: d["sites"][0]["battery"].update(energy_kwh=float("inf")), "sites.0.battery.energy_kwh"),
    (lambda d: d["sites"][0]["battery"].update(energy_kwh=1e12), "sites.0.battery.energy_kwh"),
    (lambda d: d["strategy"].update(terminal_soc={"policy": "value", "value_eur_per_mwh": float("nan")}),
     "strategy.terminal_soc.value_eur_per_mwh"),
    (lambda d: d["market"]["intraday"].update(liquidity_provider={"spread_eur_per_mwh": 0}),
     "market.intraday.liquidity_provider.spread_eur_per_mwh"),
])
def test_non_finite_or_implausible_numbers_exit_2(tmp_path, monkeypatch, edit, key):
    monkeypatch.setenv("BESS_TWIN_DATA", str(tmp_path))
    bad = _quickstart_with(tmp_path, edit, INTRADAY_2021)
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2 and key in result.output
