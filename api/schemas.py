"""Response models of the API: every field with its unit in the name."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Token(BaseModel):
    """An OAuth2 access token."""

    access_token: str
    token_type: str = "bearer"
    expires_in_s: int


class Me(BaseModel):
    """The calling user."""

    username: str
    role: str
    sites: list[str]


class RunInfo(BaseModel):
    """A finished backtest run the user may see."""

    run_id: str
    scenario: str
    start: str
    end: str
    days: int
    sites: list[str] = Field(description="The run's sites this user may see")


class SiteSummary(BaseModel):
    """One site's results of a run (the site block of ``summary.json``)."""

    run_id: str
    site_id: str
    revenue_eur: float | None
    capture_ratio: float | None
    values: dict[str, Any] = Field(description="Every figure of the site's summary, units in the names")


class SeriesPage(BaseModel):
    """A page of one site's time series (rows of ``sites.parquet``)."""

    run_id: str
    site_id: str
    offset: int
    limit: int
    total_rows: int
    columns: list[str]
    rows: list[list[Any]]


class RiskRow(BaseModel):
    """One VaR figure of a run. [EUR]"""

    date: str
    participant: str
    method: str
    confidence: float
    var_eur: float
    es_eur: float
    gross_position_mwh: float
    realised_pnl_eur: float
    utilisation_pct: float | None


class InvoiceInfo(BaseModel):
    """One issued invoice. [EUR]"""

    number: str
    site_id: str
    counterparty: str
    period_start: str
    period_end: str
    net_eur: str
    vat_eur: str
    gross_eur: str


class LedgerStatus(BaseModel):
    """Result of verifying a run's ledger."""

    ok: bool
    entries: int
    head: str
    expected_head: str | None
    reason: str
