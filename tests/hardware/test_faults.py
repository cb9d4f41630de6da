"""Faults: servers and brokers stopped mid-run, frozen and hot batteries; the guard goes safe and recovers."""

from __future__ import annotations

import asyncio
import time

import pytest

from hardware.protocol import Quality
from hardware.safety import DeviceGuard
from hardware.simulated import Fault
from tests.hardware.rigs import SPEC, good_reading, rig
from twin.config.devices import SafetyConfig

WATCHDOG_S = 1.0


async def until(predicate, guard, timeout_s):
    """Read through the guard until ``predicate(reading)``; return the wall time it took."""
    started = time.monotonic()
    while True:
        reading = await guard.read()
        if predicate(reading):
            return time.monotonic() - started
        assert time.monotonic() - started < timeout_s, f"not reached in {timeout_s} s: {reading.reason}"
        await asyncio.sleep(0.05)


def _guard(device):
    return DeviceGuard(device, SPEC, SafetyConfig(watchdog_s=WATCHDOG_S, stale_after_s=0.5))


async def _stop(r):
    if r.broker is not None:
        r.broker.stop()
    else:
        await r.server.stop()


async def _start(r):
    if r.broker is not None:
        r.broker.start()
    else:
        await r.server.start()


@pytest.mark.parametrize("kind", ["modbus-seed", "mqtt-amqtt", "mqtt-mosquitto"])
def test_server_stopped_mid_run_goes_stale_safe_and_recovers(kind):
    if kind == "mqtt-mosquitto":
        pytest.importorskip("shutil").which("mosquitto") or pytest.skip("mosquitto not on PATH")

    async def scenario():
        async with rig(kind, stale_after_s=0.5) as r:
            guard = _guard(r.device)
            await until(lambda t: t.is_good, guard, 5)
            await guard.apply(-50.0)
            assert not guard.safe and guard.setpoint_kw == -50.0
            await _stop(r)
            await until(lambda t: t.quality is Quality.STALE, guard, 3)
            took = await until(lambda _t: guard.safe, guard, WATCHDOG_S + 3)
            assert took <= WATCHDOG_S + 1.0  # safe within the watchdog time (plus one poll)
            state = await guard.apply(-50.0)  # the EMS still asks; the guard writes 0
            assert state.safe and "no good telemetry" in state.reason
            await _start(r)
            await until(lambda t: t.is_good and not guard.safe, guard, 10)
            state = await guard.apply(-50.0)
            assert not state.safe and state.setpoint_kw == -50.0
    asyncio.run(scenario())


def test_frozen_modbus_heartbeat_marks_readings_stale():
    async def scenario():
        async with rig("modbus-seed", stale_after_s=0.5) as r:
            await good_reading(r.device)
            r.battery.inject(Fault.FROZEN)
            await asyncio.sleep(3.5)  # heartbeat timeout is stale_after_s + 1.5 s
            reading = await r.device.read_telemetry()
            assert reading.quality is Quality.STALE and "heartbeat frozen" in reading.reason
            r.battery.clear(Fault.FROZEN)
            await asyncio.sleep(1.2)
            assert (await r.device.read_telemetry()).is_good
    asyncio.run(scenario())


@pytest.mark.parametrize("kind", ["simulated", "mqtt-amqtt"])
def test_frozen_values_are_not_taken_for_fresh_ones(kind):
    async def scenario():
        async with rig(kind, stale_after_s=0.5) as r:
            guard = _guard(r.device)
            await until(lambda t: t.is_good, guard, 5)
            r.battery.inject(Fault.FROZEN)
            await until(lambda t: t.quality is Quality.STALE, guard, 3)
            await until(lambda _t: guard.safe, guard, WATCHDOG_S + 2)
            r.battery.clear()
            await until(lambda t: t.is_good and not guard.safe, guard, 5)
    asyncio.run(scenario())


def test_communication_loss_and_over_temperature_make_the_site_safe():
    async def scenario():
        async with rig("simulated") as r:
            guard = _guard(r.device)
            await until(lambda t: t.is_good, guard, 2)
            r.battery.inject(Fault.COMM_LOSS)
            reading = await guard.read()
            assert reading.quality is Quality.STALE and "communication loss" in reading.reason
            await until(lambda _t: guard.safe, guard, WATCHDOG_S + 2)
            r.battery.clear()
            await until(lambda _t: not guard.safe, guard, 2)
            r.battery.inject(Fault.OVER_TEMPERATURE)
            await asyncio.sleep(0.05)
            await guard.read()
            assert guard.safe and "trip" in guard.safe_reason
            assert (await guard.apply(80.0)).setpoint_kw == 0.0
    asyncio.run(scenario())
