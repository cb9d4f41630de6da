"""Every page over backtest run folders (local mode, AppTest): the key numbers equal the run's own files."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from tests.dashboards.conftest import metrics, page, summary

pytestmark = pytest.mark.data


def _eur(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f} EUR"


def test_fleet_and_site_pages_show_the_runs_numbers(dash_runs, app_test):
    at = app_test(dash_runs)
    source = at.sidebar.selectbox[0]
    assert set(source.options) >= {"Run: qs", "Run: qs_seasonal"}
    source.set_value("qs").run()
    s = summary(dash_runs, "qs")
    m = metrics(at)
    assert m["Revenue"] == _eur(s["fleet"]["revenue_eur"])
    assert m["Capture ratio"] == f"{s['fleet']['capture_ratio']:.3f}"
    sites = pd.read_parquet(dash_runs / "qs" / "sites.parquet").sort_values("timestamp_utc").groupby("site_id").tail(1).set_index("site_id")
    cap = {x["site_id"]: x["energy_kwh"] for x in s["sites"]}
    weighted = sum(cap[i] * sites.loc[i, "soc"] for i in cap) / sum(cap.values())
    assert m["Fleet SoC at the end (capacity-weighted)"] == f"{100 * weighted:.1f} %"
    assert len(at.get("plotly_chart")) == 2
    page(at, "site")
    daily = pd.read_parquet(dash_runs / "qs" / "daily.parquet")
    first = at.selectbox(key="site_pick").value
    best = daily[daily["site_id"] == first].sort_values("revenue_eur").iloc[-1]
    m = metrics(at)
    assert m["Revenue of the day"] == _eur(best["revenue_eur"], 2)
    assert m["Perfect foresight that day"] == _eur(best["perfect_foresight_revenue_eur"], 2)
    assert len(at.get("plotly_chart")) == 2


def test_analytics_forecasts_and_trading(dash_runs, app_test):
    at = app_test(dash_runs)
    at.sidebar.selectbox[0].set_value("qs").run()
    daily = pd.read_parquet(dash_runs / "qs" / "daily.parquet")
    m = metrics(page(at, "analytics"))
    assert m["Profit"] == _eur(daily["revenue_eur"].sum())
    assert m["Equivalent full cycles"] == f"{daily['full_cycles'].sum():,.1f}"
    assert m["Days"] == str(daily["delivery_date"].nunique())
    assert len(at.get("plotly_chart")) == 4
    page(at, "forecasts")
    assert len(at.get("plotly_chart")) == 1
    value = at.dataframe[-1].value  # the forecast value table: both runs of the period
    assert sorted(value["forecaster"]) == ["persistence", "seasonal_naive"]
    seasonal = summary(dash_runs, "qs_seasonal")["fleet"]
    assert value.set_index("forecaster").loc["seasonal_naive", "DA revenue (EUR)"] == pytest.approx(seasonal["day_ahead_revenue_eur"])
    positions = pd.read_parquet(dash_runs / "qs" / "positions.parquet")
    sites = positions[positions["participant"] != "fleet"]  # the fleet's rows are the sites' sum
    m = metrics(page(at, "trading"))
    assert m["Day-ahead volume"] == f"{sites['day_ahead_mwh'].abs().sum():,.1f} MWh"


def test_risk_credit_billing_and_grid(dash_runs, app_test):
    at = app_test(dash_runs)
    at.sidebar.selectbox[0].set_value("qs").run()
    risk = pd.read_parquet(dash_runs / "qs" / "risk.parquet")
    m = metrics(page(at, "risk"))
    assert m["Days assessed"] == str(risk[risk["method"] == sorted(risk["method"].unique())[0]]["date"].nunique())
    credit = pd.read_parquet(dash_runs / "qs" / "credit.parquet")
    latest = credit.sort_values("date").groupby("counterparty").tail(1)
    assert metrics(page(at, "credit"))["Total exposure"] == _eur(latest["exposure_eur"].sum())
    invoices = pd.read_csv(dash_runs / "qs" / "invoices.csv", dtype=str)
    m = metrics(page(at, "billing"))
    assert m["Invoices"] == str(len(invoices))
    assert m["Gross total"] == f"{sum(Decimal(v) for v in invoices['gross_eur']):,.2f} EUR"
    assert at.get("download_button")  # the picked invoice's PDF
    events = pd.read_parquet(dash_runs / "qs" / "grid_events.parquet")
    assert metrics(page(at, "grid"))["Frequency events"] == str(int((events["kind"] == "frequency").sum()))


def test_backtest_explorer_compares_two_runs(dash_runs, app_test):
    at = app_test(dash_runs)
    page(at, "backtest")
    at.multiselect[0].set_value(["qs", "qs_seasonal"]).run()
    assert not at.exception
    shown = [m.value for m in at.metric if m.label == "Profit"]
    expected = []
    for name in ("qs", "qs_seasonal"):
        f = summary(dash_runs, name)["fleet"]
        expected.append(_eur(f["day_ahead_revenue_eur"] + f["intraday_net_eur"] + f["imbalance_eur"] + f["fcr_revenue_eur"] - f["degradation_cost_eur"]))
        assert f["profit_eur"] == pytest.approx(f["day_ahead_revenue_eur"] + f["intraday_net_eur"] + f["imbalance_eur"] + f["fcr_revenue_eur"] - f["degradation_cost_eur"], abs=0.01)
    assert shown == expected
    capture = [m.value for m in at.metric if m.label == "Capture ratio vs perfect foresight"]
    assert capture[0] == f"{summary(dash_runs, 'qs')['fleet']['capture_ratio']:.3f}"
    table = at.dataframe[0].value
    assert set(table["run"]) == {"qs", "qs_seasonal"} and len(table) == 4
    assert len(at.get("plotly_chart")) == 4  # two waterfalls, cumulative revenue, the richest week


def test_a_user_of_one_site_sees_only_that_site_of_a_run(dash_runs, app_test):
    at = app_test(dash_runs)
    ctx = at.session_state["ctx"]
    ctx.allowed = ["linz"]
    at.run()
    assert at.sidebar.multiselect[0].options == ["linz"]
    page(at, "backtest")
    assert set(at.dataframe[0].value["site_id"]) == {"linz"}


def test_pv_and_load_forecasts_of_a_household_run(household_runs, app_test):
    from twin.forecast.profile_evaluation import profile_metrics, walk_forward_profile

    at = app_test(household_runs)
    page(at, "forecasts")
    at.selectbox[1].set_value("pv_kw").run()  # the series picker
    assert not at.exception
    s = summary(household_runs, "hh")
    site = s["sites"][0]
    sites = pd.read_parquet(household_runs / "hh" / "sites.parquet")
    part = sites[sites["site_id"] == site["site_id"]]
    series = pd.Series(part["pv_kw"].to_numpy(dtype=float), index=pd.to_datetime(part["timestamp_utc"], utc=True))
    first = pd.Timestamp(s["period"]["start"]).date()
    days = [first + pd.Timedelta(days=35 + i) for i in range(7)]
    expected = profile_metrics(walk_forward_profile(series, site["pv_forecast"], [d for d in days], s["period"]["timezone"]))
    m = metrics(at)
    assert m[f"MAE of {site['pv_forecast']}"] == f"{expected['mae_kw']:.3f} kW"
    assert m["MAE of persistence"] == f"{expected['persistence_mae_kw']:.3f} kW"
    assert len(at.get("plotly_chart")) == 2  # the price forecast and the PV forecast


def test_risk_gauges_show_each_sites_limit_utilisation(limits_runs, app_test):
    at = app_test(limits_runs)
    page(at, "risk")
    method, level = at.selectbox[0].value, at.selectbox[1].value
    assert level == 0.99  # the limit's level is the default shown
    risk = pd.read_parquet(limits_runs / "lim" / "risk.parquet")
    latest = risk[(risk["method"] == method) & (risk["confidence"] == level)].sort_values("date").groupby("participant").tail(1)
    latest = latest[latest["participant"] != "fleet"].dropna(subset=["utilisation_pct"])
    assert len(latest) == 2
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    gauges = {f["data"][0]["title"]["text"].split()[0]: f["data"][0]["value"] for f in figures if f["data"][0]["type"] == "indicator"}
    assert gauges == pytest.approx(dict(zip(latest["participant"], latest["utilisation_pct"], strict=True)))
