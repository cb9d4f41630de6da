"""Device configuration of the live sites (admins): read it, and test the network connection to a device."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from api.auth.store import User
from api.deps import ERRORS, not_found, require
from api.routes.sites import Hub
from twin.config.devices import DeviceConfig

router = APIRouter(prefix="/api/v1", tags=["devices"], responses=ERRORS)
Admin = Annotated[User, Depends(require())]


class DeviceInfo(BaseModel):
    """A site's device as its scenario configures it (secrets are never stored there: only the names of their variables)."""

    site_id: str
    kind: str
    config: dict[str, Any]


class ConnectionTest(BaseModel):
    """Whether a TCP connection to the device (Modbus server, MQTT broker) opens."""

    site_id: str
    kind: str
    target: str | None
    ok: bool
    latency_ms: float | None = Field(description="Time to open the connection [ms]")
    message: str


def _device(live: Any, site_id: str) -> Any:
    if site_id not in live.capacity_kwh:
        raise not_found(f"site {site_id}")
    return live.site_config(site_id).device


class DeviceUpdate(BaseModel):
    """Connection settings of a site's Modbus or MQTT device to change at run time.

    The device kind, its register profile, its password variable and its
    simulator are the scenario's: they cannot be changed over the network.
    """

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(None, min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:_-]+$", description="Host name or IP address")
    port: int | None = Field(None, ge=1, le=65535)
    device_id: int | None = Field(None, ge=0, le=255, description="Modbus unit id (Modbus only)")
    timeout_s: float | None = Field(None, gt=0, le=60, description="Per-request timeout, Modbus only [s]")
    prefix: str | None = Field(None, max_length=200, pattern=r"^[^#+]*$", description="Topic prefix (MQTT only)")
    qos: Literal[0, 1, 2] | None = Field(None, description="MQTT quality of service (MQTT only)")


_FIELDS = {"modbus": {"host", "port", "device_id", "timeout_s"}, "mqtt": {"host", "port", "prefix", "qos"}}


@router.get("/sites/{site_id}/device", response_model=DeviceInfo)
def device(site_id: str, live: Hub, admin: Admin) -> DeviceInfo:
    """The site's device configuration (admin)."""
    dev = _device(live, site_id)
    return DeviceInfo(site_id=site_id, kind=dev.kind, config=dev.model_dump(mode="json"))


@router.put("/sites/{site_id}/device", response_model=DeviceInfo,
            responses={409: {"description": "site not running, or the device cannot be opened"},
                       422: {"description": "a field this device kind does not have, or an invalid value"}})  # fmt: skip
async def update_device(site_id: str, body: DeviceUpdate, live: Hub, admin: Admin) -> DeviceInfo:
    """Change the connection of a site's Modbus or MQTT device while it runs (admin); the site reconnects at once."""
    dev = _device(live, site_id)
    changes = body.model_dump(exclude_none=True)
    allowed = _FIELDS.get(dev.kind, set())
    if not allowed or not changes or set(changes) - allowed:
        wrong = sorted(set(changes) - allowed) or ["(no change)"]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"a {dev.kind} device can change {sorted(allowed) or 'nothing over the API'}; got {wrong}")  # fmt: skip
    try:
        new = TypeAdapter(DeviceConfig).validate_python({**dev.model_dump(), **changes})
    except ValidationError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, err.errors(include_url=False, include_context=False)) from None
    try:
        await live.reconfigure(site_id, new, admin.username)
    except ValueError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    return DeviceInfo(site_id=site_id, kind=new.kind, config=new.model_dump(mode="json"))


@router.post("/sites/{site_id}/device/test", response_model=ConnectionTest)
async def connection_test(site_id: str, live: Hub, admin: Admin) -> ConnectionTest:
    """Open (and close) a TCP connection to the site's Modbus server or MQTT broker, within 3 s (admin)."""
    dev = _device(live, site_id)
    if dev.kind not in ("modbus", "mqtt"):
        return ConnectionTest(site_id=site_id, kind=dev.kind, target=None, ok=True, latency_ms=None,
                              message=f"a {dev.kind} device has no network connection to test")  # fmt: skip
    target = f"{dev.host}:{dev.port}"
    started = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(dev.host, dev.port), timeout=3.0)
    except (OSError, TimeoutError) as err:
        return ConnectionTest(site_id=site_id, kind=dev.kind, target=target, ok=False, latency_ms=None,
                              message=f"no connection to {target}: {err or type(err).__name__}")  # fmt: skip
    writer.close()
    await writer.wait_closed()
    return ConnectionTest(site_id=site_id, kind=dev.kind, target=target, ok=True,
                          latency_ms=(time.perf_counter() - started) * 1000, message=f"connected to {target}")  # fmt: skip
