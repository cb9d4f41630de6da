"""The device-edge guard, hand-timed with a fake clock and a fake device."""

from __future__ import annotations

import asyncio
import datetime as dt
import math

import pytest

from hardware.errors import DeviceConnectionError
from hardware.protocol import Quality, Telemetry, TelemetrySource, unavailable
from hardware.safety import DeviceGuard
from tests.hardware.rigs import SPEC
from twin.config.devices import SafetyConfig

T0 = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)


class FakeDevice:
    source = TelemetrySource.MANUAL

    def __init__(self):
        self.reading = None
        self.writes = []
        self.fail_writes = False
        self.n = 0

    def set(self, soc=0.5, power_kw=0.0, temperature_c=25.0):
        self.n += 1
        self.reading = Telemetry(T0 + dt.timedelta(seconds=self.n), soc, power_kw, temperature_c, self.source)

    async def read_telemetry(self):
        return self.reading or unavailable(self.source, "nothing yet", T0)

    async def write_setpoint(self, power_kw):
        if self.fail_writes:
            raise DeviceConnectionError("down")
        self.writes.append(power_kw)

    async def close(self):
        pass


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def make(**safety):
    device, clock = FakeDevice(), Clock()
    guard = DeviceGuard(device, SPEC, SafetyConfig(**safety), monotonic=clock)
    return device, clock, guard


def run(coro):
    return asyncio.run(coro)


def test_watchdog_trips_exactly_after_its_time_and_clears_on_good_data():
    device, clock, guard = make(watchdog_s=5.0)
    device.set()
    run(guard.read())
    clock.t = 5.0
    run(guard.read())  # same timestamp again: stale, but 5.0 s is not more than 5 s
    assert not guard.safe
    clock.t = 5.01
    assert run(guard.read()).quality is Quality.STALE
    assert guard.safe and "no good telemetry for 5.0 s" in guard.safe_reason
    assert run(guard.apply(80.0)).setpoint_kw == 0.0 and device.writes[-1] == 0.0
    device.set()
    run(guard.read())
    assert not guard.safe
    assert run(guard.apply(80.0)).setpoint_kw == 80.0


@pytest.mark.parametrize(("reading", "reason"), [
    ({"soc": math.nan}, "non-finite"), ({"soc": 1.2}, "soc"), ({"temperature_c": 300.0}, "temperature"),
    ({"power_kw": 1e6}, "|power|"),
])
def test_implausible_readings_are_invalid_counted_and_not_acted_on(reading, reason):
    device, _, guard = make()
    device.set()
    run(guard.read())
    good = guard.last_good
    device.set(**reading)
    out = run(guard.read())
    assert out.quality is Quality.INVALID and out.reason.startswith(reason)
    assert guard.last_good is good
    assert sum(guard.rejected.values()) == 1


def test_setpoints_are_clipped_to_ratings_and_soc_window():
    device, _, guard = make()
    device.set(soc=0.5)
    run(guard.read())
    assert run(guard.apply(500.0)).setpoint_kw == SPEC.p_discharge_max_kw
    assert run(guard.apply(-500.0)).setpoint_kw == -SPEC.p_charge_max_kw
    device.set(soc=SPEC.soc_min)
    run(guard.read())
    assert run(guard.apply(50.0)).setpoint_kw == 0.0  # no discharge at soc_min
    assert run(guard.apply(-50.0)).setpoint_kw == -50.0
    device.set(soc=SPEC.soc_max)
    run(guard.read())
    assert run(guard.apply(-50.0)).setpoint_kw == 0.0  # no charge at soc_max
    assert run(guard.apply(math.nan)).setpoint_kw == 0.0
    assert guard.rejected["schedule not finite"] == 1


def test_external_setpoint_overrides_then_expires():
    device, clock, guard = make(external_setpoint_expiry_s=60.0, watchdog_s=1e9)
    device.set()
    run(guard.read())
    guard.set_external(-30.0)
    state = run(guard.apply(70.0))
    assert state.external and state.setpoint_kw == -30.0
    clock.t = 59.9
    assert run(guard.apply(70.0)).setpoint_kw == -30.0
    clock.t = 60.0
    state = run(guard.apply(70.0))
    assert not state.external and state.setpoint_kw == 70.0
    with pytest.raises(ValueError, match="must be finite"):
        guard.set_external(math.inf)


def test_over_temperature_is_safe_and_failed_writes_are_counted():
    device, _, guard = make(temperature_trip_c=55.0)
    device.set(temperature_c=55.0)
    run(guard.read())
    assert guard.safe and "trip" in guard.safe_reason
    device.fail_writes = True
    run(guard.apply(10.0))
    assert guard.rejected["setpoint write failed"] == 1
