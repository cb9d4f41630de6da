"""``POST /api/v1/telemetry/{site_id}``: a REST telemetry device pushes a reading with its API key.

The key (header ``X-API-Key``, from ``bess-twin devices add-key SITE``) must
belong to the site: an unknown key answers 401, another site's key 404. The
body goes to the site's :class:`~hardware.rest.RestDevice`, which validates
and counts it like a Modbus or MQTT reading; the reply carries the setpoint the
device should follow.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Request, status
from pydantic import BaseModel, Field

from api.auth.store import UserStore
from api.deps import ERRORS, not_found, store
from api.routes.sites import Hub

router = APIRouter(prefix="/api/v1", tags=["telemetry"], responses=ERRORS)


class TelemetryAck(BaseModel):
    """What the device should do now."""

    site_id: str
    setpoint_kw: float = Field(description="Power the device should follow, discharge positive [kW]")


@router.post("/telemetry/{site_id}", response_model=TelemetryAck,
             responses={401: {"description": "no or unknown API key"}, 404: {"description": "no such site for this key"},
                        422: {"description": "the reading does not validate"}})  # fmt: skip
async def push(
    site_id: str,
    request: Request,
    live: Hub,
    users: Annotated[UserStore, Depends(store)],
    body: Annotated[Any, Body(examples=[{"soc_percent": 55.0, "power_kw": -20.0, "temperature_c": 27.5,
                                         "timestamp": "2023-06-14T10:00:00Z"}])],  # fmt: skip
    x_api_key: Annotated[str | None, Header()] = None,
) -> TelemetryAck:
    """Push one reading of a site's REST device (SoC in percent, power in kW, temperature in °C, optional ISO time)."""
    owner = users.device_site(x_api_key) if x_api_key else None
    if owner is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "send the device's API key in X-API-Key")
    request.state.user = f"device:{owner}"
    if owner != site_id or site_id not in live.sites:
        raise not_found(f"site {site_id}")
    try:
        setpoint = await live.sites[site_id].push_telemetry(body)
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(err)) from None
    return TelemetryAck(site_id=site_id, setpoint_kw=setpoint)
