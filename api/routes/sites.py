"""The live sites: state, fleet aggregate, operator setpoints, and the Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from api.auth.store import User
from api.deps import ERRORS, CurrentUser, not_found, require, visible_site
from api.live import LiveHub
from twin.backtest.history_kpis import daily_from_history
from twin.io.history import read_history

router = APIRouter(prefix="/api/v1", tags=["live"], responses=ERRORS)


def hub(request: Request) -> LiveHub:
    """The live run this server serves."""
    live: LiveHub | None = request.app.state.live
    if live is None:
        raise not_found("live run")
    return live


Hub = Annotated[LiveHub, Depends(hub)]


class SiteState(BaseModel):
    """The latest reading and control state of a site."""

    site_id: str
    market_utc: str | None
    soc_percent: float | None = Field(description="State of charge [%]")
    power_kw: float | None = Field(description="Power at the PCC, discharge positive [kW]")
    temperature_c: float | None
    quality: str | None
    safe: bool | None = Field(description="The guard holds the site in its safe state")
    safe_reason: str | None
    schedule_kw: float | None = Field(description="The EMS schedule for now [kW]")
    commanded_kw: float | None = Field(description="What the guard commanded [kW]")
    external: bool | None = Field(description="An operator setpoint is in force")
    strategy: str = Field(description="The site's active strategy")


class FleetState(BaseModel):
    """The fleet of the user's sites."""

    sites: int
    soc_percent: float | None = Field(description="Capacity-weighted SoC of the sites with a reading [%]")
    power_kw: float = Field(description="Total power, discharge positive [kW]")
    capacity_kwh: float


class Setpoint(BaseModel):
    """An operator setpoint; it expires unless renewed."""

    power_kw: float = Field(ge=-1e7, le=1e7, description="Power at the PCC, discharge positive [kW]")


class SetpointAck(BaseModel):
    """The setpoint in force and when it lapses."""

    site_id: str
    power_kw: float
    expires_in_s: float


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _state(live: LiveHub, site_id: str) -> SiteState:
    row = live.latest.get(site_id, {})
    soc = _num(row.get("soc"))
    return SiteState(
        site_id=site_id, market_utc=row.get("market_utc"), soc_percent=None if soc is None else 100.0 * soc,
        power_kw=_num(row.get("power_kw")), temperature_c=_num(row.get("temperature_c")), quality=row.get("quality"),
        safe=None if row.get("safe") is None else bool(row["safe"]), safe_reason=row.get("safe_reason"),
        schedule_kw=_num(row.get("schedule_kw")), commanded_kw=_num(row.get("commanded_kw")),
        external=None if row.get("external") is None else bool(row["external"]),
        strategy=row.get("strategy") or live.scenario.strategy_of(live.site_config(site_id)).kind,
    )  # fmt: skip


def _known(live: LiveHub, site_id: str) -> str:
    if site_id not in live.capacity_kwh:
        raise not_found(f"site {site_id}")
    return site_id


@router.get("/sites", response_model=list[SiteState])
def sites(live: Hub, user: CurrentUser) -> list[SiteState]:
    """Every site of the user's, with its latest state."""
    return [_state(live, s) for s in live.capacity_kwh if user.sees(s)]


@router.get("/sites/{site_id}/state", response_model=SiteState, responses={404: {"description": "no such site for this user"}})
def site_state(site_id: Annotated[str, Depends(visible_site)], live: Hub) -> SiteState:
    """One site's latest state."""
    return _state(live, _known(live, site_id))


@router.get("/fleet", response_model=FleetState)
def fleet(live: Hub, user: CurrentUser) -> FleetState:
    """Capacity-weighted SoC and total power of the user's sites."""
    mine = [s for s in live.capacity_kwh if user.sees(s)]
    weighted = [(live.capacity_kwh[s], _num(live.latest.get(s, {}).get("soc"))) for s in mine]
    known = [(c, soc) for c, soc in weighted if soc is not None]
    capacity = sum(c for c, _ in known)
    power = sum(_num(live.latest.get(s, {}).get("power_kw")) or 0.0 for s in mine)
    return FleetState(sites=len(mine), soc_percent=100.0 * sum(c * soc for c, soc in known) / capacity if capacity else None,
                      power_kw=power, capacity_kwh=sum(live.capacity_kwh[s] for s in mine))  # fmt: skip


@router.post("/sites/{site_id}/setpoint", response_model=SetpointAck, status_code=status.HTTP_202_ACCEPTED,
             responses={403: {"description": "role may not"}, 404: {"description": "no such site for this user"}, 409: {"description": "site not running"}})  # fmt: skip
async def setpoint(
    site_id: Annotated[str, Depends(visible_site)], body: Setpoint, live: Hub, user: Annotated[User, Depends(require("operator"))]
) -> SetpointAck:
    """Override the site's schedule with an operator setpoint; it expires after the site's ``external_setpoint_expiry_s``."""
    _known(live, site_id)
    try:
        expires = await live.set_setpoint(site_id, body.power_kw, user.username)
    except ValueError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    return SetpointAck(site_id=site_id, power_kw=body.power_kw, expires_in_s=expires)


class Plan(BaseModel):
    """A site's current plan: one value per MTU from ``mtu_start_utc``."""

    site_id: str
    mtu_start_utc: str
    dt_h: float = Field(description="MTU length [h]")
    power_kw: list[float] = Field(description="Planned power, discharge positive [kW]")
    traded_kw: list[float] = Field(description="Power the site's internal-exchange trades add in each MTU, discharge positive [kW]")
    soc_percent: list[float] = Field(description="Planned SoC at the end of each MTU [%]")
    price_eur_per_mwh: list[float] = Field(description="Prices the plan used: published, then forecast [EUR/MWh]")
    published_steps: int = Field(description="How many leading prices are published; the rest are forecasts")
    expected_revenue_24h_eur: float = Field(description="The plan's market revenue over the next 24 h at those prices [EUR]")


@router.get("/sites/{site_id}/plan", response_model=Plan, responses={404: {"description": "no such site for this user, or no plan yet"}})
async def plan(site_id: Annotated[str, Depends(visible_site)], live: Hub) -> Plan:
    """The site's current plan for the next horizon (24-36 h) with the price forecast it used."""
    _known(live, site_id)
    client = live.sites.get(site_id)
    got = await client.plan() if client is not None else None
    if got is None:
        raise not_found(f"plan of site {site_id}")
    return Plan(site_id=site_id, mtu_start_utc=got["mtu_start_utc"], dt_h=got["dt_h"], power_kw=got["power_kw"], traded_kw=got["traded_kw"],
                soc_percent=[100.0 * x for x in got["soc"]], price_eur_per_mwh=got["price_eur_per_mwh"],
                published_steps=got["published_steps"], expected_revenue_24h_eur=_revenue_24h(got))  # fmt: skip


def _revenue_24h(plan: dict[str, Any]) -> float:
    n = round(24 / plan["dt_h"])
    return float(sum(p * q for p, q in zip(plan["price_eur_per_mwh"][:n], plan["power_kw"][:n], strict=False)) * plan["dt_h"] / 1000.0)


class HistoryRow(BaseModel):
    """One recorded control step of a site."""

    id: int = Field(description="Row id; page on with after_id")
    market_utc: str
    soc_percent: float | None
    power_kw: float | None
    schedule_kw: float | None
    commanded_kw: float | None
    temperature_c: float | None
    quality: str | None
    safe: bool | None
    external: bool | None
    price_eur_per_mwh: float | None
    event: str | None


@router.get("/sites/{site_id}/history", response_model=list[HistoryRow])
def history(
    site_id: Annotated[str, Depends(visible_site)], live: Hub,
    after_id: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[HistoryRow]:  # fmt: skip
    """The site's recorded state, oldest first, from the live history (page with ``after_id``)."""
    _known(live, site_id)
    rows = read_history(live.scenario.live.history_path, site_id, after_id, limit)
    return [HistoryRow(
        id=r["id"], market_utc=r["market_utc"], soc_percent=None if _num(r["soc"]) is None else 100.0 * r["soc"],
        power_kw=_num(r["power_kw"]), schedule_kw=_num(r["schedule_kw"]), commanded_kw=_num(r["commanded_kw"]),
        temperature_c=_num(r["temperature_c"]), quality=r["quality"], safe=None if r["safe"] is None else bool(r["safe"]),
        external=None if r["external"] is None else bool(r["external"]), price_eur_per_mwh=_num(r["price_eur_per_mwh"]),
        event=r["event"],
    ) for r in rows]  # fmt: skip


class DayFigures(BaseModel):
    """One local day of a live site."""

    date: str
    charged_kwh: float
    discharged_kwh: float
    revenue_eur: float = Field(description="Metered energy valued at the day-ahead price [EUR]")
    soc_min_percent: float | None
    soc_max_percent: float | None
    steps: int
    safe_steps: int
    override_steps: int = Field(description="Steps under an operator setpoint")


class Analytics(BaseModel):
    """Daily figures of a site and their sum over the days shown."""

    site_id: str
    days: list[DayFigures]
    total_revenue_eur: float
    total_discharged_kwh: float
    equivalent_full_cycles: float = Field(description="(charged + discharged) / (2 x capacity) over the days shown")


@router.get("/sites/{site_id}/analytics", response_model=Analytics)
def analytics(site_id: Annotated[str, Depends(visible_site)], live: Hub, days: Annotated[int, Query(ge=1, le=366)] = 7) -> Analytics:
    """Daily energy, value, SoC range and control figures of the site over its last ``days`` days, from the live history."""
    _known(live, site_id)
    rows = read_history(live.scenario.live.history_path, site_id, 0, 10_000_000)
    table = daily_from_history([r for r in rows if r.get("event") == "tick"], live.scenario.market.timezone).tail(days)
    figures = [DayFigures(
        date=str(r["date"]), charged_kwh=float(r["charged_kwh"]), discharged_kwh=float(r["discharged_kwh"]),
        revenue_eur=float(r["revenue_eur"]), soc_min_percent=None if _num(r["soc_min"]) is None else 100.0 * r["soc_min"],
        soc_max_percent=None if _num(r["soc_max"]) is None else 100.0 * r["soc_max"], steps=int(r["steps"]),
        safe_steps=int(r["safe_steps"]), override_steps=int(r["override_steps"]),
    ) for r in table.to_dict(orient="records")]  # fmt: skip
    cap = live.capacity_kwh[site_id]
    return Analytics(site_id=site_id, days=figures, total_revenue_eur=sum(d.revenue_eur for d in figures),
                     total_discharged_kwh=sum(d.discharged_kwh for d in figures),
                     equivalent_full_cycles=sum(d.charged_kwh + d.discharged_kwh for d in figures) / (2 * cap))  # fmt: skip


def _visible(event: dict[str, Any], user: User) -> bool:
    """A user gets their sites' events, frequency alerts, and constraint alerts that name one of their sites."""
    data = event["data"]
    if event["kind"] == "alert" and data.get("kind") != "frequency":
        return any(user.sees(s) for s in str(data.get("subject", "")).split())
    return event["site_id"] is None or user.sees(event["site_id"])


@router.get("/events", responses={200: {"content": {"text/event-stream": {}}, "description": "state, setpoint, strategy, order, trade, device and alert events of the user's sites"}})
async def events(request: Request, live: Hub, user: CurrentUser) -> EventSourceResponse:
    """Server-Sent Events of the user's sites, with a keep-alive every 15 s.

    ``state`` (every tick), ``setpoint``, ``strategy``, ``order``, ``trade`` (power a new
    trade adds per MTU), ``device`` (a changed configuration) and ``alert`` (a grid event
    that ended: frequency for everyone, constraints for the sites they name).
    """

    async def stream() -> AsyncIterator[dict[str, str]]:
        async with live.subscribe() as queue:
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=1.0)
                except TimeoutError:
                    continue
                if _visible(event, user):
                    yield {"id": str(event["seq"]), "event": event["kind"], "data": json.dumps(event["data"], default=str)}

    return EventSourceResponse(stream(), ping=15)
