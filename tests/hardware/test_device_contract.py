"""One contract for every device kind: setpoints followed, SoC moves the right way, limits hold."""

from __future__ import annotations

import asyncio

import pytest

from hardware.protocol import BatteryDevice, TelemetrySource
from tests.hardware.rigs import SPEC, good_reading, rig

SOURCE = {"simulated": TelemetrySource.SIMULATED, "modbus": TelemetrySource.MODBUS,
          "mqtt": TelemetrySource.MQTT}


async def settle(device, wall_s=0.6):
    await asyncio.sleep(wall_s)
    return await good_reading(device)


@pytest.mark.parametrize("power_kw", [-60.0, 60.0])
def test_setpoint_is_followed_and_soc_moves_the_right_way(device_kind, power_kw):
    async def scenario():
        async with rig(device_kind) as r:
            assert isinstance(r.device, BatteryDevice)
            before = await good_reading(r.device)
            assert before.source is SOURCE[device_kind.split("-")[0]]
            assert before.soc == pytest.approx(0.5, abs=1e-3)
            await r.device.write_setpoint(power_kw)
            after = await settle(r.device)
            assert after.power_kw == pytest.approx(power_kw, abs=0.5)
            assert r.battery.setpoint_kw == pytest.approx(power_kw, abs=0.5)
            assert (after.soc - before.soc) * power_kw < 0  # discharge lowers SoC, charge raises it
            assert after.timestamp > before.timestamp
    asyncio.run(scenario())


def test_limits_hold_when_asked_for_too_much(device_kind):
    async def scenario():
        async with rig(device_kind, speed_up=36_000) as r:  # 1 s of wall time is 10 h
            await r.device.write_setpoint(-1000.0)
            reading = await settle(r.device, 0.8)
            assert -SPEC.p_charge_max_kw - 0.5 <= reading.power_kw <= 0.0
            assert reading.soc <= SPEC.soc_max + 1e-3
            await r.device.write_setpoint(1000.0)
            reading = await settle(r.device, 0.8)
            assert 0.0 <= reading.power_kw <= SPEC.p_discharge_max_kw + 0.5
            assert reading.soc >= SPEC.soc_min - 1e-3
    asyncio.run(scenario())
