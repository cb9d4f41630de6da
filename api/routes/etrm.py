"""The live run's ETRM services: VaR and limits, credit exposure, grid events, invoices (of the user's sites)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.auth.store import User
from api.deps import ERRORS, CurrentUser, not_found, require, visible_site
from api.routes.sites import Hub
from api.schemas import InvoiceInfo, LedgerStatus
from twin.etrm.ledger import verify

router = APIRouter(prefix="/api/v1", tags=["etrm"], responses=ERRORS)


class VarRow(BaseModel):
    """The latest VaR of a participant by method and level. [EUR]"""

    participant: str
    date: str
    method: str
    confidence: float
    var_eur: float
    es_eur: float
    utilisation_pct: float | None
    gross_position_mwh: float
    realised_pnl_eur: float


class Exposure(BaseModel):
    """The latest credit exposure to a counterparty. [EUR]"""

    counterparty: str
    date: str
    receivables_eur: float
    pfe_eur: float
    exposure_eur: float
    limit_eur: float | None
    utilisation_pct: float | None
    breached: bool


class GridEvent(BaseModel):
    """A frequency excursion or a broken grid limit."""

    kind: str
    level: str
    subject: str
    start_utc: str
    end_utc: str
    value: float = Field(description="Largest |deviation| [mHz], or worst overshoot [kW]")
    message: str


class GridStatus(BaseModel):
    """The latest frequency reading and the recent events."""

    frequency_hz: float | None
    events: list[GridEvent]


async def _snapshot(live: Any) -> dict[str, Any]:
    if live.etrm is None:
        raise not_found("ETRM services of the live run")
    return await live.etrm.snapshot()


@router.get("/risk", response_model=list[VarRow])
async def risk(live: Hub, user: CurrentUser) -> list[VarRow]:
    """The latest VaR and ES of the user's sites (and of the fleet for users who see every site)."""
    snap = await _snapshot(live)
    every = all(user.sees(s) for s in live.capacity_kwh)
    return [VarRow(**r) for r in snap["risk"] if user.sees(r["participant"]) and (r["participant"] != "fleet" or every)]


@router.get("/credit", response_model=list[Exposure])
async def credit(live: Hub, user: Annotated[User, Depends(require("trader"))]) -> list[Exposure]:
    """The latest exposure to each counterparty (traders and admins: exposures are the fleet's, not a site's)."""
    snap = await _snapshot(live)
    return [Exposure(**r) for r in snap["credit"]]


@router.get("/grid", response_model=GridStatus)
async def grid(live: Hub, user: CurrentUser) -> GridStatus:
    """The latest frequency and the recent events (constraint events only of the user's sites)."""
    snap = await _snapshot(live)
    mine = [GridEvent(**{k: e[k] for k in GridEvent.model_fields}) for e in snap["grid_events"]
            if e["kind"] == "frequency" or any(user.sees(s) and s in e["subject"].split() for s in live.capacity_kwh)]  # fmt: skip
    return GridStatus(frequency_hz=snap["frequency_hz"], events=mine)


@router.get("/sites/{site_id}/invoices", response_model=list[InvoiceInfo], responses={404: {"description": "no such site for this user"}})
async def invoices(site_id: Annotated[str, Depends(visible_site)], live: Hub) -> list[InvoiceInfo]:
    """The site's invoices issued so far in the live run (a day's or a month's close issues them)."""
    snap = await _snapshot(live)
    return [InvoiceInfo(**{k: r[k] for k in InvoiceInfo.model_fields}) for r in snap["invoices"] if r["site_id"] == site_id]


@router.get("/sites/{site_id}/invoices/{number}.pdf", response_class=FileResponse,
            responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "no such invoice for this user"},
                       409: {"description": "the PDF does not match the SHA-256 the ledger recorded"}})  # fmt: skip
async def invoice_pdf(site_id: Annotated[str, Depends(visible_site)], number: str, live: Hub) -> FileResponse:
    """One invoice's PDF, served only if its bytes still hash to what the ledger recorded."""
    snap = await _snapshot(live)
    record = next((r for r in snap["invoices"] if r["site_id"] == site_id and r["number"] == number), None)
    path = Path(snap["invoice_dir"]) / f"{number}.pdf" if record is not None and record.get("pdf_sha256") else None
    if path is None or not path.is_file():
        raise not_found(f"invoice {number}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != record["pdf_sha256"]:  # type: ignore[index]
        raise HTTPException(status.HTTP_409_CONFLICT, f"invoice {number}: the PDF no longer matches the ledger's SHA-256")
    return FileResponse(path, media_type="application/pdf", filename=f"{number}.pdf")


@router.get("/ledger", response_model=LedgerStatus)
async def ledger(live: Hub, user: CurrentUser) -> LedgerStatus:
    """Verify the live run's ETRM ledger (awards, settlements, invoices): every entry re-hashed from the first."""
    snap = await _snapshot(live)
    path = live.scenario.live.history_path.parent / "ledger.sqlite"
    result = verify(path)
    return LedgerStatus(ok=result.ok, entries=result.entries, head=result.head, expected_head=snap["ledger"]["head"], reason=result.reason)

