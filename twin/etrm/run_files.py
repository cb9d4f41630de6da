"""The ETRM part of a run folder: ``risk.parquet``, ``credit.parquet``, ``grid_events.parquet``, ``invoices/``, ``ledger.sqlite``.

The ledger holds, per delivery day in order, each site's day-ahead award
(``day_ahead_award``: MWh and price per MTU), the day's intraday trades
(``trade``, as in ``trades.parquet``), and after each billing period its
settlements (``settlement``) and invoices (``invoice``, with the PDF's
SHA-256). Its head hash goes to ``summary.json``, so cutting entries off the
end is detected too (``bess-twin ledger verify FILE --head HASH``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from twin.etrm.billing_service import IssuedInvoice
from twin.etrm.invoice_pdf import render_invoice
from twin.etrm.ledger import Ledger
from twin.etrm.positions import site_positions
from twin.etrm.slots import step_hours


@dataclass(frozen=True)
class EtrmResults:
    """What the ETRM services produced over a run (None: that service was off)."""

    risk: pd.DataFrame | None
    risk_alerts: pd.DataFrame | None
    var_backtest: pd.DataFrame | None
    credit: pd.DataFrame | None
    invoices: list[IssuedInvoice] | None
    grid_events: pd.DataFrame | None
    frequency_replayed: bool


def _invoice_record(issued: IssuedInvoice, pdf_sha256: str | None) -> dict[str, Any]:
    inv, s = issued.invoice, issued.settlement
    return {
        "number": inv.number, "kind": inv.kind, "site_id": s.site_id, "counterparty": s.counterparty,
        "period_start": str(inv.period_start), "period_end": str(inv.period_end), "issued": str(inv.issued),
        "net_eur": str(inv.net_eur), "vat_eur": str(inv.vat_eur), "gross_eur": str(inv.gross_eur),
        "pdf_sha256": pdf_sha256,
    }  # fmt: skip


def _awards(sites: pd.DataFrame, tz: str) -> dict[dt.date, list[dict[str, Any]]]:
    """Per local delivery day, one ``day_ahead_award`` payload per site that traded."""
    stamps = pd.DatetimeIndex(pd.to_datetime(sites["timestamp_utc"], utc=True))
    dt_h = step_hours(stamps)
    frame = sites.assign(date=stamps.tz_convert(tz).date)
    out: dict[dt.date, list[dict[str, Any]]] = {}
    for key, part in frame.groupby(["date", "site_id"], sort=True):
        date, site_id = cast("tuple[dt.date, str]", key)
        mwh = np.round(part["day_ahead_kw"].to_numpy(dtype=float) * dt_h / 1000.0, 6)
        if not np.any(mwh):
            continue
        out.setdefault(date, []).append({
            "site_id": str(site_id), "delivery_date": str(date),
            "first_mtu_utc": pd.Timestamp(part["timestamp_utc"].iloc[0]).isoformat(),
            "sell_mwh": [float(x) for x in mwh],
            "price_eur_per_mwh": [round(float(x), 4) for x in part["price_eur_per_mwh"]],
            "value_eur": round(float(part["day_ahead_revenue_eur"].sum()), 2),
        })  # fmt: skip
    return out


def write_tables(results: EtrmResults, out_dir: Path) -> dict[str, Any]:
    """Write ``risk.parquet``, ``risk_alerts.parquet``, ``credit.parquet`` and ``grid_events.parquet``; their summary."""
    summary: dict[str, Any] = {}
    if results.risk is not None:
        results.risk.to_parquet(out_dir / "risk.parquet", index=False)
        alerts = results.risk_alerts if results.risk_alerts is not None else pd.DataFrame()
        alerts.to_parquet(out_dir / "risk_alerts.parquet", index=False)
        tests = results.var_backtest if results.var_backtest is not None else pd.DataFrame()
        summary["risk"] = {
            "alerts": len(alerts),
            "days_assessed": int(results.risk["date"].nunique()) if len(results.risk) else 0,
            "var_backtest": tests.to_dict(orient="records"),
            "position": "each site's day-ahead award, marked at the same MTU's price of the day before, realised at the day's clearing price",
        }
    if results.credit is not None:
        results.credit.to_parquet(out_dir / "credit.parquet", index=False)
        credit = results.credit
        peak = credit.groupby("counterparty")["exposure_eur"].max() if len(credit) else pd.Series(dtype=float)
        summary["credit"] = {
            "breaches": int(credit["breached"].sum()) if len(credit) else 0,
            "peak_exposure_eur": {str(k): round(float(v), 2) for k, v in peak.items()},
        }
    if results.grid_events is not None:
        events = results.grid_events
        events.to_parquet(out_dir / "grid_events.parquet", index=False)
        counts = events.groupby(["kind", "level"]).size() if len(events) else pd.Series(dtype=int)
        summary["grid"] = {
            "events": {":".join(map(str, cast("tuple[str, str]", key))): int(v) for key, v in counts.items()},
            "frequency": "replay of recorded samples, repeated from the first delivery day (not the frequency of the period)" if results.frequency_replayed else "none configured",
        }
    return summary


def append_invoice(ledger: Ledger, issued: IssuedInvoice, folder: Path | None) -> dict[str, Any]:
    """Append an invoice's settlement and the invoice (with its PDF's SHA-256 when ``folder`` is given); the invoice record."""
    digest = None
    if folder is not None:
        path = render_invoice(issued.invoice, folder / f"{issued.invoice.number}.pdf")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    s = issued.settlement
    ledger.append("settlement", {"site_id": s.site_id, "counterparty": s.counterparty, "period_start": str(s.period_start),
                                 "period_end": str(s.period_end),
                                 "lines": [[ln.description, str(ln.quantity), ln.unit, str(ln.amount_eur)] for ln in s.lines]})  # fmt: skip
    record = _invoice_record(issued, digest)
    ledger.append("invoice", record)
    return record


def award_payloads(sites: pd.DataFrame, tz: str) -> dict[dt.date, list[dict[str, Any]]]:
    """Per local delivery day, one ``day_ahead_award`` ledger payload per site that traded (rows as ``sites.parquet``)."""
    return _awards(sites, tz)


def write_etrm(
    results: EtrmResults, out_dir: Path, sites: pd.DataFrame, trades: pd.DataFrame | None, tz: str, pdf: bool = True
) -> dict[str, Any]:
    """Write the ETRM files of a run; returns the ``etrm`` block of ``summary.json``.

    Parameters
    ----------
    results : EtrmResults
    out_dir : Path
        The run folder.
    sites, trades : pd.DataFrame
        The run's ``sites.parquet`` and ``trades.parquet`` content.
    tz : str
        Local time zone of the delivery days.
    pdf : bool
        Render each invoice as a PDF in ``invoices/``.
    """
    summary = write_tables(results, out_dir)
    site_positions(sites).to_parquet(out_dir / "positions.parquet", index=False)
    ledger = Ledger(out_dir / "ledger.sqlite")
    ledger.begin()
    try:
        awards = _awards(sites, tz)
        by_day: dict[dt.date, pd.DataFrame] = {}
        if trades is not None and len(trades):
            day_of = pd.DatetimeIndex(pd.to_datetime(trades["delivery_start_utc"], utc=True)).tz_convert(tz).date
            by_day = {cast("dt.date", d): part for d, part in trades.assign(_d=day_of).groupby("_d", sort=True)}
        invoices = list(results.invoices or [])
        folder = out_dir / "invoices" if pdf else None
        if invoices and folder is not None:
            folder.mkdir(exist_ok=True)
        rows = []
        pending = sorted(invoices, key=lambda i: (i.invoice.issued, i.invoice.number))
        for date in sorted(set(awards) | set(by_day) | {i.invoice.issued for i in invoices}):
            while pending and pending[0].invoice.issued <= date:
                rows.append(append_invoice(ledger, pending.pop(0), folder))
            for payload in awards.get(date, []):
                ledger.append("day_ahead_award", payload)
            for t in by_day.get(date, pd.DataFrame()).to_dict(orient="records"):
                ledger.append("trade", {"trade_id": int(t["trade_id"]), "product": str(t["product"]), "buyer": str(t["buyer"]),
                                        "seller": str(t["seller"]), "quantity_mwh": float(t["quantity_mwh"]),
                                        "price_eur_per_mwh": float(t["price_eur_per_mwh"]), "traded_utc": str(t["traded_utc"])})  # fmt: skip
        if results.invoices is not None:
            pd.DataFrame(rows).to_csv(out_dir / "invoices.csv", index=False)
            summary["billing"] = {"invoices": len(rows), "gross_eur": str(sum((i.invoice.gross_eur for i in invoices), start=0))}
        ledger.commit()
        summary["ledger"] = {"file": "ledger.sqlite", "entries": ledger.entries, "head": ledger.head}
    finally:
        ledger.close()
    return summary
