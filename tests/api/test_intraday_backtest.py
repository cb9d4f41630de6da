"""Backtests with intraday trading on real EPEX intraday prices and imbalance at the real reBAP.

Every fill is recomputed from the intraday file itself (read here with pandas,
independently of the product's readers), the books must add up, the perfect
forecaster may not lose money intraday, and a run without intraday data shows
no intraday revenue unless it opts into ``mark: day_ahead``, which is labelled a bound.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
IDA = "scenarios/de_lu_2021_da_ida.yaml"
ID3 = "scenarios/de_lu_2022_da_id3.yaml"
QUICKSTART = "scenarios/quickstart.yaml"
pytestmark = pytest.mark.data


def _run(out: Path, scenario: str, start: str, end: str, *extra: str) -> tuple[Path, str]:
    result = runner.invoke(app, ["backtest", scenario, "--runtime", "local", "--out", str(out),
                                 "--start", start, "--end", end, *extra])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def ida_run(tmp_path_factory, data_dir):
    return _run(tmp_path_factory.mktemp("ida"), IDA, "2021-03-25", "2021-04-01")


@pytest.fixture(scope="module")
def id3_run(tmp_path_factory, data_dir):
    return _run(tmp_path_factory.mktemp("id3"), ID3, "2022-06-01", "2022-06-03")


@pytest.fixture(scope="module")
def intraday_file(data_dir) -> pd.DataFrame:
    path = data_dir / "intraday_prices_de_2019_2022_energy_charts" / "intraday_prices_de_2019_2022_15min.csv.gz"
    frame = pd.read_csv(path, parse_dates=["timestamp_utc"])
    return frame.set_index("timestamp_utc")


def _load(out: Path):
    summary = json.loads((out / "summary.json").read_text())
    return summary, pd.read_parquet(out / "sites.parquet"), pd.read_parquet(out / "trades.parquet")


def test_auction_fills_are_at_the_real_auction_price(ida_run, intraday_file):
    out, output = ida_run
    summary, sites, trades = _load(out)
    assert "intraday auction" in output and summary["intraday"]["basis"] == "data"
    assert summary["intraday"]["days_traded"] == 8  # the spring DST day (92 quarter hours) included
    assert len(trades) > 500
    ida = intraday_file["ida_15min_eur_per_mwh"]
    np.testing.assert_array_equal(trades["price_eur_per_mwh"], ida.reindex(trades["delivery_start_utc"]).to_numpy())
    assert set(trades["buyer"]) | set(trades["seller"]) == {"vienna", "linz", "intraday_auction"}
    # decided at D-1 15:00 local, before any quarter hour of D is delivered
    lead = trades["delivery_start_utc"] - trades["traded_utc"]
    assert (lead >= pd.Timedelta(hours=9)).all()
    fee = 0.10  # scenarios/policies/policy.yaml
    np.testing.assert_allclose(trades["fee_per_side_eur"], trades["quantity_mwh"] * fee)
    _books_add_up(summary, sites, trades, fee, venue="intraday_auction")


def test_continuous_fills_are_at_the_real_index_or_the_lp_quote(id3_run, intraday_file):
    out, output = id3_run
    summary, sites, trades = _load(out)
    assert "continuous trading around id3" in output
    assert len(trades) > 20
    mark = intraday_file["id3_eur_per_mwh"].reindex(trades["delivery_start_utc"]).round(2).to_numpy()
    half = 4.0 / 2  # the scenario's LP spread
    lp_sells = (trades["seller"] == "lp").to_numpy()
    lp_buys = (trades["buyer"] == "lp").to_numpy()
    between_sites = ~(lp_sells | lp_buys)
    price = trades["price_eur_per_mwh"].to_numpy()
    np.testing.assert_allclose(price[lp_sells], mark[lp_sells] + half, atol=1e-9)  # a site lifted the ask
    np.testing.assert_allclose(price[lp_buys], mark[lp_buys] - half, atol=1e-9)  # a site hit the bid
    np.testing.assert_allclose(price[between_sites], mark[between_sites], atol=1e-9)
    # traded in a round at least the gate closure (60 min) before delivery
    assert (trades["delivery_start_utc"] - trades["traded_utc"] >= pd.Timedelta(minutes=60)).all()
    _books_add_up(summary, sites, trades, 0.10, venue="lp")


def _books_add_up(summary, sites, trades, fee, venue):
    assert summary["intraday"]["trades"] == len(trades)
    assert summary["intraday"]["cash_sum_eur"] == pytest.approx(0.0, abs=1e-6)
    for site in summary["sites"]:
        who = site["site_id"]
        sold, bought = trades[trades["seller"] == who], trades[trades["buyer"] == who]
        cash = sold["value_eur"].sum() - bought["value_eur"].sum()
        assert site["intraday_revenue_eur"] == pytest.approx(cash)
        assert site["fees_eur"] == pytest.approx((sold["quantity_mwh"].sum() + bought["quantity_mwh"].sum()) * fee)
        assert site["intraday_net_eur"] == pytest.approx(cash - site["fees_eur"])
        rows = sites[sites["site_id"] == who]
        net_mwh = sold["quantity_mwh"].sum() - bought["quantity_mwh"].sum()
        assert rows["intraday_kw"].sum() * 0.25 / 1000 == pytest.approx(net_mwh)
        np.testing.assert_allclose(
            rows["revenue_eur"],
            rows["day_ahead_revenue_eur"] + rows["intraday_revenue_eur"] - rows["fees_eur"] + rows["imbalance_eur"],
            atol=1e-12,
        )
        assert site["revenue_eur"] == pytest.approx(
            site["day_ahead_revenue_eur"] + site["intraday_net_eur"] + site["imbalance_eur"])
        assert site["perfect_foresight_revenue_eur"] >= site["perfect_foresight_day_ahead_revenue_eur"] - 1e-6
        assert site["capture_ratio"] <= 1.0
    counterparty = summary["intraday"]["participants"][venue]
    assert counterparty["cash_eur"] == pytest.approx(
        -sum(summary["intraday"]["participants"][s["site_id"]]["cash_eur"] for s in summary["sites"]))


def test_hourly_day_ahead_awards_hold_for_each_quarter_hour(ida_run):
    out, _ = ida_run
    _, sites, _ = _load(out)
    for _, rows in sites.groupby("site_id"):
        award = rows.set_index("timestamp_utc")["day_ahead_kw"]
        per_hour = award.groupby(award.index.floor("h"))
        assert (per_hour.nunique() == 1).all()  # one power per hourly auction product
        price = rows.set_index("timestamp_utc")["price_eur_per_mwh"]
        assert (price.groupby(price.index.floor("h")).nunique() == 1).all()
        assert rows["intraday_kw"].abs().sum() > 0  # ... which the 15-min auction re-shapes


def test_imbalance_settles_at_the_real_rebap(ida_run, data_dir):
    out, _ = ida_run
    _, sites, _ = _load(out)
    rebap = pd.read_csv(data_dir / "imbalance_prices_rebap_de" / "rebap_imbalance_price_de_2021_2022_15min.csv",
                        parse_dates=["timestamp_utc"]).set_index("timestamp_utc")["rebap_pos_eur_per_mwh"]
    deviating = sites[sites["imbalance_kwh"] != 0]
    assert len(deviating) > 0
    expected = rebap.reindex(deviating["timestamp_utc"]).to_numpy()
    np.testing.assert_array_equal(deviating["imbalance_price_eur_per_mwh"], expected)
    np.testing.assert_allclose(deviating["imbalance_eur"], deviating["imbalance_kwh"] / 1000 * expected)


@pytest.mark.parametrize(("scenario", "start", "end"), [(IDA, "2021-06-07", "2021-06-10"),
                                                        (ID3, "2022-06-01", "2022-06-02")])
def test_perfect_foresight_never_loses_money_intraday(tmp_path, data_dir, scenario, start, end):
    out, _ = _run(tmp_path, scenario, start, end, "--forecaster", "perfect")
    daily = pd.read_parquet(out / "daily.parquet")
    net = daily["intraday_revenue_eur"] - daily["fees_eur"]
    assert (net >= -0.01).all(), daily[net < -0.01]
    assert net.sum() > 0
    # the schedule stays deliverable: what deviates is the plant's ramps and response delay
    throughput = daily["energy_charged_kwh"] + daily["energy_discharged_kwh"]
    assert (daily["imbalance_energy_kwh"] <= 0.02 * throughput).all()


def _with_intraday(tmp_path: Path, intraday: dict) -> Path:
    data = yaml.safe_load(Path(QUICKSTART).read_text())
    data["market"]["intraday"] = {**intraday, "policy": str(Path("scenarios/policies/policy.yaml").resolve())}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_intraday_without_data_is_refused_unless_marked_day_ahead(tmp_path, data_dir):
    result = runner.invoke(app, ["validate", str(_with_intraday(tmp_path, {"enabled": True}))])
    assert result.exit_code == 2
    assert "market.intraday" in result.output and "names no intraday price file" in result.output
    assert "mark: day_ahead" in result.output


def test_a_period_the_intraday_file_does_not_cover_is_not_traded(tmp_path, data_dir):
    scenario = _with_intraday(tmp_path, {"enabled": True, "reference": "ida", "prices": {
        "path": "${BESS_TWIN_DATA}/intraday_prices_de_2019_2022_energy_charts/intraday_prices_de_2019_2022_15min.csv.gz"}})
    out, output = _run(tmp_path / "o", str(scenario), "2023-05-01", "2023-05-03")
    summary, sites, trades = _load(out)
    assert "no intraday prices for this period" in output
    assert summary["intraday"]["days_traded"] == 0 and len(trades) == 0
    assert summary["fleet"]["intraday_net_eur"] == 0 and (sites["intraday_kw"] == 0).all()


def test_mark_day_ahead_is_labelled_an_optimistic_bound(tmp_path, data_dir):
    scenario = _with_intraday(tmp_path, {"enabled": True, "mark": "day_ahead"})
    out, output = _run(tmp_path / "o", str(scenario), "2023-05-01", "2023-05-03")
    summary, _, trades = _load(out)
    assert "optimistic bound" in output
    assert summary["intraday"]["basis"] == "day_ahead"
    assert summary["intraday"]["label"].startswith("optimistic bound")
    assert "OPTIMISTIC BOUND" in (out / "report.html").read_text()
    assert len(trades) > 0


@pytest.mark.ray
@pytest.mark.parametrize(("scenario", "start", "end"), [(IDA, "2021-03-27", "2021-03-28"),
                                                        (ID3, "2022-06-01", "2022-06-01")])
def test_ray_and_local_runtimes_trade_identically(tmp_path, data_dir, ray_session, scenario, start, end):
    local, _ = _run(tmp_path / "local", scenario, start, end)
    result = runner.invoke(app, ["backtest", scenario, "--out", str(tmp_path / "ray"), "--start", start,
                                 "--end", end])
    assert result.exit_code == 0, result.output
    for name in ("sites.parquet", "trades.parquet", "daily.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(local / name), pd.read_parquet(tmp_path / "ray" / name))
    assert len(pd.read_parquet(local / "trades.parquet")) > 0


def test_intraday_gaps_are_never_filled(tmp_path, data_dir):
    scenario = _with_intraday(tmp_path, {"enabled": True, "prices": {
        "path": "${BESS_TWIN_DATA}/intraday_prices_de_2019_2022_energy_charts/intraday_prices_de_2019_2022_15min.csv.gz",
        "fill": "ffill"}})
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert "market.intraday.prices" in result.output and "intraday gaps are never filled" in result.output
