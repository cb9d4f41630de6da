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


class FakeClock:
    """The guard's monotonic clock, advanced by the test: the watchdog does not race the machine."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


POLL_S = 0.05


async def until(predicate, guard, timeout_s):
    """Read through the guard until ``predicate(reading)``; return the guard-clock time it took.

    Each poll advances the guard's clock by ``POLL_S``; ``timeout_s`` bounds the wall time
    (the servers, brokers and devices on the other side run in real time).
    """
    clock = guard._now
    started, wall_started = clock(), time.monotonic()
    while True:
        reading = await guard.read()
        if predicate(reading):
            return clock() - started
        assert time.monotonic() - wall_started < timeout_s, f"not reached in {timeout_s} s: {reading.reason}"
        await asyncio.sleep(POLL_S)
        clock.t += POLL_S


def _guard(device):
    return DeviceGuard(device, SPEC, SafetyConfig(watchdog_s=WATCHDOG_S, stale_after_s=0.5),
                       monotonic=FakeClock())


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
            # wall-time bounds only catch a hang; generous, since a loaded machine is slow
            await until(lambda t: t.is_good, guard, 20)
            await guard.apply(-50.0)
            assert not guard.safe and guard.setpoint_kw == -50.0
            await _stop(r)
            await until(lambda t: t.quality is Quality.STALE, guard, 20)
            took = await until(lambda _t: guard.safe, guard, 30)
            assert took <= WATCHDOG_S + POLL_S + 1e-9  # safe within the watchdog time (plus one poll)
            state = await guard.apply(-50.0)  # the EMS still asks; the guard writes 0
            assert state.safe and "no good telemetry" in state.reason
            await _start(r)
            await until(lambda t: t.is_good and not guard.safe, guard, 60)
            state = await guard.apply(-50.0)
            assert not state.safe and state.setpoint_kw == -50.0
    asyncio.run(scenario())


def test_frozen_modbus_heartbeat_marks_readings_stale():
    async def scenario():
        clock = FakeClock()
        async with rig("modbus-seed", stale_after_s=0.5, monotonic=clock) as r:
            await good_reading(r.device)
            r.battery.inject(Fault.FROZEN)
            await r.device.read_telemetry()
            clock.t += 1.9  # within the heartbeat timeout (stale_after_s + 1.5 s): still good
            assert (await r.device.read_telemetry()).is_good
            clock.t += 0.2
            reading = await r.device.read_telemetry()
            assert reading.quality is Quality.STALE and "heartbeat frozen" in reading.reason
            r.battery.clear(Fault.FROZEN)
            deadline = time.monotonic() + 10
            while not (await r.device.read_telemetry()).is_good:  # the heartbeat counts again
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
    asyncio.run(scenario())


@pytest.mark.parametrize("kind", ["simulated", "mqtt-amqtt"])
def test_frozen_values_are_not_taken_for_fresh_ones(kind):
    async def scenario():
        async with rig(kind, stale_after_s=0.5) as r:
            guard = _guard(r.device)
            await until(lambda t: t.is_good, guard, 5)
            r.battery.inject(Fault.FROZEN)
            await until(lambda t: t.quality is Quality.STALE, guard, 3)
            await until(lambda _t: guard.safe, guard, 30)
            r.battery.clear()
            await until(lambda t: t.is_good and not guard.safe, guard, 30)
    asyncio.run(scenario())


def test_communication_loss_and_over_temperature_make_the_site_safe():
    async def scenario():
        async with rig("simulated") as r:
            guard = _guard(r.device)
            await until(lambda t: t.is_good, guard, 2)
            r.battery.inject(Fault.COMM_LOSS)
            reading = await guard.read()
            assert reading.quality is Quality.STALE and "communication loss" in reading.reason
            await until(lambda _t: guard.safe, guard, 30)
            r.battery.clear()
            await until(lambda _t: not guard.safe, guard, 30)
            r.battery.inject(Fault.OVER_TEMPERATURE)
            await asyncio.sleep(0.05)
            await guard.read()
            assert guard.safe and "trip" in guard.safe_reason
            assert (await guard.apply(80.0)).setpoint_kw == 0.0
    asyncio.run(scenario())
