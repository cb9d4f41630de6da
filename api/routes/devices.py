"""Device configuration of the live sites (admins): read it, and test the network connection to a device."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth.store import User
from api.deps import ERRORS, not_found, require
from api.routes.sites import Hub

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
    site = next((s for s in live.scenario.sites if s.site_id == site_id), None)
    if site is None:
        raise not_found(f"site {site_id}")
    return site.device


@router.get("/sites/{site_id}/device", response_model=DeviceInfo)
def device(site_id: str, live: Hub, admin: Admin) -> DeviceInfo:
    """The site's device configuration (admin)."""
    dev = _device(live, site_id)
    return DeviceInfo(site_id=site_id, kind=dev.kind, config=dev.model_dump(mode="json"))


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
