"""``bess-twin invoices`` on a real run: totals recomputed from sites.parquet to the cent, PDFs, ledger."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
pytestmark = pytest.mark.data


def _cents(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_invoices_match_sites_parquet_to_the_cent(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_DATA", str(data_dir))
    run = tmp_path / "run"
    result = runner.invoke(app, ["backtest", "scenarios/quickstart.yaml", "--runtime", "local", "--out", str(run),
                                 "--start", "2023-03-30", "--end", "2023-04-02", "--no-etrm"])  # fmt: skip
    assert result.exit_code == 0, result.output
    done = runner.invoke(app, ["invoices", str(run), "--vat", "0.2"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(run / "invoices.csv", dtype=str)
    sites = pd.read_parquet(run / "sites.parquet")
    local = pd.to_datetime(sites.timestamp_utc, utc=True).dt.tz_convert("Europe/Berlin")
    sites["month"] = local.dt.strftime("%Y-%m")
    # two months (March, April) x two sites x {day-ahead, imbalance}
    assert set(table.counterparty) == {"day-ahead exchange", "TSO (imbalance)"} and len(table) == 8
    for (site, month), part in sites.groupby(["site_id", "month"]):
        row = table[(table.site_id == site) & (table.counterparty == "day-ahead exchange") & table.period_start.str.startswith(month)]
        sold, bought = part[part.day_ahead_kw > 1e-9], part[part.day_ahead_kw < -1e-9]
        expected = _cents(sold.day_ahead_revenue_eur.sum()) + _cents(bought.day_ahead_revenue_eur.sum())
        assert Decimal(row.net_eur.iloc[0]) == expected
        assert Decimal(row.gross_eur.iloc[0]) == expected + (expected * Decimal("0.2")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    first = table.number.iloc[0]
    text = PdfReader(run / "invoices" / f"{first}.pdf").pages[0].extract_text()
    assert first in text and "Day-ahead energy sold" in text
    verify = runner.invoke(app, ["ledger", "verify", str(run / "ledger.sqlite")])
    assert verify.exit_code == 0 and "ok: 8 entries" in verify.output
    again = runner.invoke(app, ["invoices", str(run)])
    assert again.exit_code == 2 and "invoiced already" in again.output
    assert runner.invoke(app, ["invoices", str(tmp_path)]).exit_code == 2
