"""Finished backtest runs, read-only: list, site summary, time series pages, risk, invoices, ledger status.

A user sees a run only if it holds one of their sites, and only their sites of
it; anything else answers 404.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from api.deps import ERRORS, CurrentUser, not_found, visible_site
from api.runs import RunStore
from api.schemas import InvoiceInfo, LedgerStatus, RiskRow, RunInfo, SeriesPage, SiteSummary
from twin.etrm.ledger import verify

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], responses=ERRORS)
MAX_PAGE_ROWS = 5000


def runs(request: Request) -> RunStore:
    """The app's run folders (404 when the server serves none)."""
    store: RunStore | None = request.app.state.runs
    if store is None:
        raise not_found("runs")
    return store


Runs = Annotated[RunStore, Depends(runs)]


def _visible_run(store: RunStore, run_id: str, user: Any) -> list[str]:
    sites = [s for s in store.sites(run_id) if user.sees(s)]
    if not sites:
        raise not_found(f"run {run_id}")
    return sites


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


@router.get("", response_model=list[RunInfo])
def list_runs(store: Runs, user: CurrentUser) -> list[RunInfo]:
    """The runs holding at least one of the user's sites, newest first."""
    out = []
    for run_id in store.run_ids():
        sites = [s for s in store.sites(run_id) if user.sees(s)]
        if sites:
            summary = store.summary(run_id) or {}
            period = summary.get("period", {})
            out.append(RunInfo(run_id=run_id, scenario=str(summary.get("scenario", "")),
                               start=str(period.get("start", "")), end=str(period.get("end", "")),
                               days=int(period.get("days", 0)), sites=sites))  # fmt: skip
    return out


@router.get("/{run_id}/sites/{site_id}/summary", response_model=SiteSummary, responses={404: {"description": "no such run or site for this user"}})
def site_summary(run_id: str, site_id: Annotated[str, Depends(visible_site)], store: Runs, user: CurrentUser) -> SiteSummary:
    """One site's results of a run."""
    _visible_run(store, run_id, user)
    block = next((s for s in (store.summary(run_id) or {}).get("sites", []) if s.get("site_id") == site_id), None)
    if block is None:
        raise not_found(f"site {site_id}")
    return SiteSummary(run_id=run_id, site_id=site_id, revenue_eur=_clean(block.get("revenue_eur")),
                       capture_ratio=_clean(block.get("capture_ratio")),
                       values={k: _clean(v) for k, v in block.items() if not isinstance(v, dict | list)})  # fmt: skip


@router.get("/{run_id}/sites/{site_id}/series", response_model=SeriesPage, responses={404: {"description": "no such run or site for this user"}})
def site_series(
    run_id: str, site_id: Annotated[str, Depends(visible_site)], store: Runs, user: CurrentUser,
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=MAX_PAGE_ROWS)] = 1000,
) -> SeriesPage:  # fmt: skip
    """A page of the site's rows of ``sites.parquet`` (every column, units in the names)."""
    _visible_run(store, run_id, user)
    table = store.table(run_id, "sites")
    if table is None:
        raise not_found(f"series of run {run_id}")
    part = table[table["site_id"] == site_id]
    if part.empty:
        raise not_found(f"site {site_id}")
    page = part.iloc[offset : offset + limit]
    columns = list(page.columns)
    rows = [[_clean(v) for v in row] for row in page.itertuples(index=False, name=None)]
    return SeriesPage(run_id=run_id, site_id=site_id, offset=offset, limit=limit, total_rows=len(part), columns=columns, rows=rows)


@router.get("/{run_id}/sites/{site_id}/risk", response_model=list[RiskRow], responses={404: {"description": "no such run or site for this user"}})
def site_risk(run_id: str, site_id: Annotated[str, Depends(visible_site)], store: Runs, user: CurrentUser) -> list[RiskRow]:
    """The site's daily VaR and ES by method and level (``risk.parquet``)."""
    _visible_run(store, run_id, user)
    risk = store.table(run_id, "risk")
    if risk is None:
        raise not_found(f"risk of run {run_id}")
    part = risk[risk["participant"] == site_id]
    return [RiskRow(date=str(r["date"]), participant=site_id, method=str(r["method"]), confidence=float(r["confidence"]),
                    var_eur=float(r["var_eur"]), es_eur=float(r["es_eur"]), gross_position_mwh=float(r["gross_position_mwh"]),
                    realised_pnl_eur=float(r["realised_pnl_eur"]), utilisation_pct=_clean(r["utilisation_pct"]))
            for r in part.to_dict(orient="records")]  # fmt: skip


@router.get("/{run_id}/sites/{site_id}/invoices", response_model=list[InvoiceInfo], responses={404: {"description": "no such run or site for this user"}})
def site_invoices(run_id: str, site_id: Annotated[str, Depends(visible_site)], store: Runs, user: CurrentUser) -> list[InvoiceInfo]:
    """The site's issued invoices (``invoices.csv``)."""
    _visible_run(store, run_id, user)
    path = store.file(run_id, "invoices.csv")
    if path is None:
        raise not_found(f"invoices of run {run_id}")
    table = pd.read_csv(path, dtype=str)
    part = table[table["site_id"] == site_id]
    return [InvoiceInfo(**{k: r[k] for k in InvoiceInfo.model_fields}) for r in part.to_dict(orient="records")]


@router.get("/{run_id}/sites/{site_id}/invoices/{number}.pdf", response_class=FileResponse,
            responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "no such invoice for this user"}})  # fmt: skip
def invoice_pdf(run_id: str, site_id: Annotated[str, Depends(visible_site)], number: str, store: Runs, user: CurrentUser) -> FileResponse:
    """One invoice's PDF."""
    _visible_run(store, run_id, user)
    mine = {i.number for i in site_invoices(run_id, site_id, store, user)}
    path = store.file(run_id, f"invoices/{number}.pdf") if number in mine else None
    if path is None:
        raise not_found(f"invoice {number}")
    return FileResponse(path, media_type="application/pdf", filename=f"{number}.pdf")


@router.get("/{run_id}/ledger", response_model=LedgerStatus, responses={404: {"description": "no such run for this user"}})
def ledger_status(run_id: str, store: Runs, user: CurrentUser) -> LedgerStatus:
    """Verify the run's hash-chained ledger against the head recorded in its summary."""
    _visible_run(store, run_id, user)
    path = store.file(run_id, "ledger.sqlite")
    if path is None:
        raise not_found(f"ledger of run {run_id}")
    head = ((store.summary(run_id) or {}).get("etrm") or {}).get("ledger", {}).get("head")
    result = verify(path, head)
    return LedgerStatus(ok=result.ok, entries=result.entries, head=result.head, expected_head=head, reason=result.reason)
