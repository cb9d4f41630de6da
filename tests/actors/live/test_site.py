"""The live site service: no setpoint after stop, and the history records what was commanded."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pandas as pd

import actors.live.site as live_site
from actors.live.site import LiveSiteService
from hardware.clock import VirtualClock
from hardware.errors import DeviceConnectionError
from hardware.protocol import Telemetry, TelemetrySource
from twin.config import SiteConfig, StrategyConfig

START = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
SITE = SiteConfig(site_id="s", battery={"energy_kwh": 200, "p_charge_max_kw": 100, "p_discharge_max_kw": 100,
                                        "soc_min": 0.1, "soc_max": 0.9})


class SlowDevice:
    """Answers after ``delay_s``; records every setpoint it took."""

    source = TelemetrySource.MANUAL

    def __init__(self, delay_s: float = 0.05) -> None:
        self.delay_s, self.writes, self.fail, self.n, self.temperature_c = delay_s, [], False, 0, 25.0

    async def read_telemetry(self) -> Telemetry:
        await asyncio.sleep(self.delay_s)
        self.n += 1
        return Telemetry(START + dt.timedelta(milliseconds=self.n), 0.5, 0.0, self.temperature_c, self.source)

    async def write_setpoint(self, power_kw: float) -> None:
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise DeviceConnectionError("no answer")
        self.writes.append(power_kw)

    async def close(self) -> None:
        pass


def _window(price: float = 50.0) -> dict:
    return {"mtu_start_utc": pd.Timestamp(START), "price_eur_per_mwh": np.full(36, price),
            "known_steps": 36, "end_of_data": False}


def _service(monkeypatch, device) -> LiveSiteService:
    monkeypatch.setattr(live_site, "open_device", lambda site, clock: device)
    return LiveSiteService(SITE, StrategyConfig(), 1.0, 36, VirtualClock(START, 1.0))


def test_no_setpoint_follows_stop(monkeypatch):
    device = SlowDevice()

    async def scenario():
        svc = _service(monkeypatch, device)
        await svc.start()
        await svc.tick(_window())
        in_flight = asyncio.create_task(svc.tick(_window(80.0)))
        await asyncio.sleep(0.01)  # the tick is reading the device
        final = await svc.stop()
        row = await in_flight
        late = await svc.tick(_window())
        return final, row, late

    final, row, late = asyncio.run(scenario())
    assert device.writes[-1] == 0.0 and final["event"] == "stopped"
    assert late["event"] == "tick skipped: site stopped"
    assert row["event"] in ("tick", "tick skipped: site stopped")


def test_history_records_commanded_and_confirmed(monkeypatch):
    device = SlowDevice(delay_s=0.0)

    async def scenario():
        svc = _service(monkeypatch, device)
        await svc.start()
        ok = await svc.tick(_window(-50.0))  # paid to charge: the plan charges now
        device.fail, device.temperature_c = True, 60.0  # too hot: safe, 0 kW; and the write fails
        failed = await svc.tick(_window(-50.0))
        return ok, failed

    ok, failed = asyncio.run(scenario())
    assert ok["quality"] == "good" and ok["safe"] == 0
    assert ok["setpoint_confirmed"] == 1 and ok["commanded_kw"] == ok["setpoint_kw"] < 0
    assert failed["safe"] == 1 and failed["commanded_kw"] == 0.0 and failed["setpoint_confirmed"] == 0
    assert failed["setpoint_kw"] == ok["setpoint_kw"]  # the last setpoint the device took
