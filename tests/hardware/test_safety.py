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


def make_at(wall: dt.datetime, **safety):
    """A guard whose run clock stands at ``wall`` (the device's timestamps are T0 + n s)."""
    device, clock = FakeDevice(), Clock()
    guard = DeviceGuard(device, SPEC, SafetyConfig(**safety), monotonic=clock, clock=lambda: wall)
    return device, clock, guard


@pytest.mark.parametrize("temperature_c", [60.0, 105.0, 149.0])
def test_over_temperature_trips_at_once_not_through_the_watchdog(temperature_c):
    device, clock, guard = make(watchdog_s=5.0, temperature_trip_c=55.0)
    device.set()
    run(guard.read())
    device.set(temperature_c=temperature_c)
    reading = run(guard.read())  # same instant: no watchdog involved
    assert guard.safe and "trip limit" in guard.safe_reason
    assert reading.quality is Quality.GOOD or temperature_c > 100  # 105 °C is a real reading now
    assert run(guard.apply(-50.0)).setpoint_kw == 0.0


def test_a_sensor_fault_beyond_the_plausible_range_does_not_trip():
    device, clock, guard = make(watchdog_s=5.0)
    device.set()
    run(guard.read())
    device.set(temperature_c=400.0)
    assert run(guard.read()).quality is Quality.INVALID and not guard.safe


def test_codec_and_guard_share_one_plausibility_table():
    from hardware.mqtt.codec import parse_payload
    from hardware.units import PLAUSIBLE

    low, high = PLAUSIBLE["temperature"]
    value, _ = parse_payload("temperature", f'{{"value": {high}, "unit": "degC"}}'.encode(), T0)
    assert value == high
    with pytest.raises(ValueError, match="outside"):
        parse_payload("temperature", f'{{"value": {high + 1}, "unit": "degC"}}'.encode(), T0)


def test_far_future_timestamps_are_refused_and_never_become_the_reference():
    device, clock, guard = make_at(T0 + dt.timedelta(seconds=10), watchdog_s=5.0, stale_after_s=3.0)
    device.reading = Telemetry(dt.datetime(9999, 12, 31, tzinfo=dt.UTC), 0.5, 0.0, 25.0, device.source)
    for step in range(3):
        clock.t = step
        reading = run(guard.read())
        assert reading.quality is Quality.INVALID and "ahead of the clock" in reading.reason
    device.set()  # T0 + 1 s: a normal reading
    clock.t = 3.0
    assert run(guard.read()).is_good
    assert not guard.safe and guard.rejected["timestamp"] == 3


def test_a_device_clock_off_by_hours_still_reads_fresh():
    device, clock, guard = make_at(T0 + dt.timedelta(hours=3), watchdog_s=5.0, stale_after_s=3.0)
    for step in range(20):
        device.set()  # the device's clock is 3 h behind, but its readings arrive and advance
        clock.t = float(step)
        assert run(guard.read()).is_good
    assert not guard.safe


def test_a_backwards_clock_step_is_not_frozen():
    device, clock, guard = make(watchdog_s=5.0, stale_after_s=1.0)
    device.set()
    run(guard.read())
    device.n = -3600  # NTP steps the device clock back an hour
    device.set()
    clock.t = 2.0
    assert run(guard.read()).is_good
