"""ETRM services in real backtests: invoices recomputed to the cent, the PDF read back, a hand-edited ledger
caught, every rejection reason named under tight limits, and the FCR droop recomputed from the frequency samples.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from api.cli import app
from twin.grid.frequency import fcr_response_kw
from twin.io.frequency import read_replay

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.data


def _backtest(out: Path, scenario: Path | str, start: str, end: str, *extra: str) -> dict:
    result = runner.invoke(app, ["backtest", str(scenario), "--runtime", "local", "--out", str(out),
                                 "--start", start, "--end", end, *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory, data_dir) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("qs")
    return out, _backtest(out, "scenarios/quickstart.yaml", "2023-02-20", "2023-04-03")


def _cents(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_invoices_recompute_from_sites_parquet_to_the_cent(quickstart):
    out, summary = quickstart
    sites = pd.read_parquet(out / "sites.parquet")
    invoices = pd.read_csv(out / "invoices.csv", dtype=str)
    month = pd.DatetimeIndex(sites["timestamp_utc"]).tz_convert("Europe/Berlin").strftime("%Y-%m")
    da = invoices[invoices["counterparty"] == "day-ahead exchange"]
    assert len(da) == 2 * 3  # two sites, Feb to Apr
    for row in da.itertuples():
        part = sites[(sites["site_id"] == row.site_id) & (month == row.period_start[:7])]
        kw, eur = part["day_ahead_kw"].to_numpy(), part["day_ahead_revenue_eur"].to_numpy()
        net = _cents(eur[kw > 1e-9].sum()) + _cents(eur[kw < -1e-9].sum())
        assert Decimal(row.net_eur) == net
        assert Decimal(row.vat_eur) == (net * Decimal("0.19")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(row.gross_eur) == Decimal(row.net_eur) + Decimal(row.vat_eur)
    assert summary["etrm"]["billing"]["invoices"] == len(invoices)
    first = invoices.iloc[0]
    text = PdfReader(out / "invoices" / f"{first['number']}.pdf").pages[0].extract_text()
    assert first["number"] in text and f"{Decimal(first['gross_eur']):,.2f}" in text


def test_risk_credit_and_var_backtest_are_in_the_run_folder(quickstart):
    out, summary = quickstart
    risk = pd.read_parquet(out / "risk.parquet")
    assert set(risk["method"]) == {"historical", "parametric", "monte_carlo"}
    assert set(risk["confidence"]) == {0.95, 0.99, 0.995}
    assert set(risk["participant"]) == {"vienna", "linz", "fleet"}
    assert (risk["es_eur"] >= risk["var_eur"] - 1e-9).all()
    fleet = risk[(risk["participant"] == "fleet") & (risk["method"] == "historical") & (risk["confidence"] == 0.99)]
    sites = risk[(risk["participant"] != "fleet") & (risk["method"] == "historical") & (risk["confidence"] == 0.99)]
    assert (fleet.set_index("date")["realised_pnl_eur"]
            - sites.groupby("date")["realised_pnl_eur"].sum()).abs().max() < 1e-6  # fmt: skip
    tests = summary["etrm"]["risk"]["var_backtest"]
    assert {t["method"] for t in tests} == {"historical", "parametric", "monte_carlo"}
    assert all(0 <= t["p_value"] <= 1 and t["observations"] == len(fleet) for t in tests)
    credit = pd.read_parquet(out / "credit.parquet")
    assert {"day-ahead exchange", "TSO (imbalance)"} <= set(credit["counterparty"])
    assert (credit["exposure_eur"] >= 0).all()


def test_a_hand_edited_ledger_entry_is_named(quickstart, tmp_path):
    out, summary = quickstart
    head = summary["etrm"]["ledger"]["head"]
    ok = runner.invoke(app, ["ledger", "verify", str(out / "ledger.sqlite"), "--head", head])
    assert ok.exit_code == 0, ok.output
    copy = tmp_path / "ledger.sqlite"
    copy.write_bytes((out / "ledger.sqlite").read_bytes())
    db = sqlite3.connect(copy)
    seq, payload = db.execute("SELECT seq, payload FROM ledger WHERE kind = 'invoice' LIMIT 1").fetchone()
    db.execute("UPDATE ledger SET payload = ? WHERE seq = ?", (payload.replace('"gross_eur":"', '"gross_eur":"1'), seq))
    db.commit()
    db.close()
    bad = runner.invoke(app, ["ledger", "verify", str(copy)])
    assert bad.exit_code == 1 and f"entry {seq}" in bad.output and "edited" in bad.output


def _scenario_copy(tmp_path: Path, source: str, edit) -> Path:
    data = yaml.safe_load((ROOT / source).read_text())
    intraday = data["market"].get("intraday", {})
    if isinstance(intraday.get("policy"), str):
        intraday["policy"] = str((ROOT / "scenarios" / intraday["policy"]).resolve())
    edit(data)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_tight_limits_reject_orders_naming_every_reason_and_the_books_add_up(tmp_path, data_dir):
    def tight(data):
        data["etrm"] = {"limits": {"default": {"var_eur": 1.0, "credit_eur": 5.0, "position_mwh": 0.02}}}
    out = tmp_path / "run"
    summary = _backtest(out, _scenario_copy(tmp_path, "scenarios/de_lu_2022_da_id3.yaml", tight), "2022-06-01", "2022-06-02")
    rejections = pd.read_parquet(out / "rejections.parquet")
    assert len(rejections) > 0
    several = rejections[rejections["reasons"].str.contains(r"\+")]
    assert len(several) > 0
    for row in several.itertuples():
        if "VAR_LIMIT" in row.reasons:
            assert "VaR" in row.message
        if "CREDIT_LIMIT" in row.reasons:
            assert "credit limit" in row.message
        if "POSITION_LIMIT" in row.reasons:
            assert "position limit" in row.message
    counts = summary["intraday"]["rejection_reasons"]
    assert counts.get("VAR_LIMIT", 0) > 0 and counts.get("POSITION_LIMIT", 0) > 0
    trades = pd.read_parquet(out / "trades.parquet")
    sites = pd.read_parquet(out / "sites.parquet")
    assert abs(summary["intraday"]["cash_sum_eur"]) < 1e-6  # the books add up
    for site in ("vienna", "linz"):
        sold = trades.loc[trades["seller"] == site, "quantity_mwh"].sum() - trades.loc[trades["buyer"] == site, "quantity_mwh"].sum()
        assert sites.loc[sites["site_id"] == site, "intraday_kw"].sum() * 0.25 / 1000 == pytest.approx(sold, abs=1e-9)
        small = trades[(trades["seller"] == site) | (trades["buyer"] == site)]
        assert (small["quantity_mwh"] <= 0.02 + 1e-9).all()  # no fill beyond the position limit


def test_fcr_response_recomputes_from_the_frequency_samples(tmp_path, data_dir):
    samples = data_dir / "grid_frequency_ce_rte_10s_samples" / "grid_frequency_rte_10s_samples.csv"

    def with_frequency(data):
        data["etrm"] = {"grid": {"frequency": {"path": str(samples)}}}
    out = tmp_path / "fcr"
    summary = _backtest(out, _scenario_copy(tmp_path, "scenarios/fcr_stacking.yaml", with_frequency), "2022-03-01", "2022-03-03")
    sites = pd.read_parquet(out / "sites.parquet")
    assert (sites["fcr_band_kw"] > 0).any()
    replay = read_replay(samples)
    per_step = replay.sample_s
    expected = []
    for k, band in enumerate(sites["fcr_band_kw"].to_numpy()):
        hz = replay.window(k * 3600.0, (k + 1) * 3600.0)
        expected.append(float(fcr_response_kw(hz, band).sum() * per_step / 3600.0))
    np.testing.assert_allclose(sites["fcr_activation_kwh"], expected, atol=1e-6)
    assert np.abs(expected).sum() > 1.0
    assert "replay" in summary["etrm"]["grid"]["frequency"]
    events = pd.read_parquet(out / "grid_events.parquet")
    assert set(events["kind"]) == {"frequency"} and "watch" in set(events["level"])
    plain = tmp_path / "plain"
    (tmp_path / "p").mkdir()
    without = _scenario_copy(tmp_path / "p", "scenarios/fcr_stacking.yaml", lambda data: data.pop("etrm", None))
    _backtest(plain, without, "2022-03-01", "2022-03-03")
    soc_plain = pd.read_parquet(plain / "sites.parquet")["soc"].to_numpy()
    assert np.abs(sites["soc"].to_numpy() - soc_plain).max() > 1e-3  # the droop moves the SoC


def test_report_shows_the_var_backtest_and_the_ledger_head(quickstart):
    out, summary = quickstart
    page = (out / "report.html").read_text()
    assert "VaR backtest (Kupiec proportion of failures)" in page
    fleet = next(t for t in summary["etrm"]["risk"]["var_backtest"]
                 if t["participant"] == "fleet" and t["method"] == "historical" and t["confidence"] == 0.99)  # fmt: skip
    assert f"<td>{fleet['exceedances']}</td><td>{fleet['expected_exceedances']:.1f}</td>" in page
    assert summary["etrm"]["ledger"]["head"] in page


def test_positions_settle_to_the_runs_revenue(quickstart):
    out, summary = quickstart
    positions = pd.read_parquet(out / "positions.parquet")
    fleet = positions[positions["participant"] == "fleet"]
    assert fleet["realised_pnl_eur"].sum() == pytest.approx(summary["fleet"]["revenue_eur"], abs=0.01)
    assert (fleet["scheduled_mwh"] + fleet["imbalance_mwh"] - fleet["delivered_mwh"]).abs().max() < 1e-9
