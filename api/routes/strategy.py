"""A live site's strategy (the original EMS's ``/api/strategy`` and ``/api/strategy/auto``) and its price forecast."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from actors.live.site import LiveSiteClient
from api.auth.store import User
from api.deps import ERRORS, CurrentUser, not_found, require, visible_site
from api.live import LiveHub
from api.routes.sites import Hub
from twin.ems.live_strategy import STRATEGIES

router = APIRouter(prefix="/api/v1", tags=["strategy"], responses=ERRORS)
_SITE_404: dict[int | str, dict[str, Any]] = {404: {"description": "no such site for this user, or not running yet"}}
_DESCRIPTIONS = {
    "arbitrage": "Buy low, sell high on the day-ahead price",
    "peak_shaving": "Keep the period's peak import down (needs a demand charge)",
    "self_consumption": "Store PV surplus, cover deficits (needs a tariff, PV and load)",
    "load_balancing": "Smooth the grid power (needs load_balancing_eur_per_kw > 0)",
    "fcr": "Hold an FCR band (needs FCR prices)",
    "stacked": "Every term that applies at the site, in one optimisation",
}


class StrategyInfo(BaseModel):
    """One strategy the EMS knows."""

    name: str
    description: str


class StrategyState(BaseModel):
    """The strategy a site plans with and how it is chosen."""

    site_id: str
    strategy: str = Field(description="The strategy in force (auto mode: the last one chosen)")
    auto: bool = Field(description="Auto mode: the site re-chooses among the candidates at every re-plan")
    available: list[str] = Field(description="Strategies that apply at this site")
    candidates: list[str] = Field(description="What auto mode chooses from")
    switch_threshold: float = Field(description="Auto switches when the best beats the current by more than this fraction")
    values_eur: dict[str, float] = Field(description="Forecast money value of each candidate at the last auto re-plan [EUR]")


class SetStrategy(BaseModel):
    """Which strategy to run from the next re-plan (auto mode off)."""

    strategy: str = Field(description=f"One of {', '.join(STRATEGIES)} that applies at the site", max_length=40)


class SetAuto(BaseModel):
    """Switch auto mode."""

    enabled: bool


class Forecast(BaseModel):
    """The day-ahead prices a site's plan uses: published ones, then the forecaster's."""

    site_id: str
    mtu_start_utc: str
    dt_h: float = Field(description="MTU length [h]")
    price_eur_per_mwh: list[float] = Field(description="One price per MTU [EUR/MWh]")
    published: list[bool] = Field(description="True where the price is published, false where it is forecast")
    forecaster: str


def _client(live: LiveHub, site_id: str) -> LiveSiteClient:
    client = live.sites.get(site_id)
    if client is None:
        raise not_found(f"running site {site_id}")
    return client


def _state(site_id: str, got: dict[str, Any]) -> StrategyState:
    return StrategyState(site_id=site_id, **got)


class Optimisation(BaseModel):
    """One re-plan of a site."""

    market_utc: str
    mtu_start_utc: str = Field(description="First MTU of the plan")
    strategy: str
    auto: bool
    soc: float = Field(description="Measured SoC the plan started from [fraction]")
    expected_revenue_24h_eur: float = Field(description="The plan's revenue over its first 24 h at the prices it used [EUR]")
    values_eur: dict[str, float] = Field(description="Forecast money value of each candidate (auto mode) [EUR]")
    published_steps: int = Field(description="Leading MTUs whose price was published; the rest were forecast")


@router.get("/strategies", response_model=list[StrategyInfo])
def strategies(user: CurrentUser) -> list[StrategyInfo]:
    """Every strategy the EMS knows (which apply differs by site: see a site's strategy)."""
    return [StrategyInfo(name=n, description=_DESCRIPTIONS[n]) for n in STRATEGIES]


@router.get("/sites/{site_id}/strategy", response_model=StrategyState, responses=_SITE_404)
async def site_strategy(site_id: Annotated[str, Depends(visible_site)], live: Hub) -> StrategyState:
    """The site's strategy, whether auto mode chooses it, and the candidates' forecast values."""
    return _state(site_id, await _client(live, site_id).strategy_state())


@router.post("/sites/{site_id}/strategy", response_model=StrategyState,
             responses={**_SITE_404, 409: {"description": "the strategy does not apply at this site"}})  # fmt: skip
async def set_strategy(
    site_id: Annotated[str, Depends(visible_site)], body: SetStrategy, live: Hub,
    user: Annotated[User, Depends(require("operator"))],
) -> StrategyState:  # fmt: skip
    """Run ``strategy`` from now on (the site re-plans at its next tick; auto mode off)."""
    try:
        got = await _client(live, site_id).set_strategy(body.strategy)
    except ValueError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    live.publish("strategy", site_id, {**got, "by": user.username})
    return _state(site_id, got)


@router.post("/sites/{site_id}/strategy/auto", response_model=StrategyState, responses=_SITE_404)
async def set_auto(
    site_id: Annotated[str, Depends(visible_site)], body: SetAuto, live: Hub,
    user: Annotated[User, Depends(require("operator"))],
) -> StrategyState:  # fmt: skip
    """Switch auto mode: on, the site chooses its strategy at every re-plan; off, it keeps the current one."""
    got = await _client(live, site_id).set_auto(body.enabled)
    live.publish("strategy", site_id, {**got, "by": user.username})
    return _state(site_id, got)


@router.get("/sites/{site_id}/optimisations", response_model=list[Optimisation], responses=_SITE_404)
async def optimisations(
    site_id: Annotated[str, Depends(visible_site)], live: Hub, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[Optimisation]:  # fmt: skip
    """The site's last re-plans, newest first (the optimisation history of the original's ``/api/history``)."""
    return [Optimisation(**o) for o in await _client(live, site_id).optimisation_history(limit)]


@router.get("/sites/{site_id}/forecast", response_model=Forecast, responses=_SITE_404)
async def forecast(site_id: Annotated[str, Depends(visible_site)], live: Hub) -> Forecast:
    """The day-ahead prices of the site's current plan horizon (24-36 h): published, then forecast."""
    got = await _client(live, site_id).plan()
    if got is None:
        raise not_found(f"forecast of site {site_id}")
    n = len(got["price_eur_per_mwh"])
    name = live.scenario.strategy_of(live.site_config(site_id)).forecaster
    return Forecast(site_id=site_id, mtu_start_utc=got["mtu_start_utc"], dt_h=got["dt_h"],
                    price_eur_per_mwh=got["price_eur_per_mwh"], published=[i < got["published_steps"] for i in range(n)],
                    forecaster="persistence" if name == "perfect" else name)  # fmt: skip
