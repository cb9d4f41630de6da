"""The REST telemetry device: pushes validated and counted like any reading, staleness on an injected clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from hardware.clock import VirtualClock
from hardware.protocol import Quality
from hardware.rest import RestDevice, parse_push

T0 = dt.datetime(2023, 6, 14, 10, tzinfo=dt.UTC)


def test_parse_converts_percent_and_keeps_the_time():
    soc, power, temp, when = parse_push({"soc_percent": 50, "power_kw": -10.5, "temperature_c": 30, "timestamp": "2023-06-14T10:00:05+02:00"}, T0)
    assert (soc, power, temp) == (0.5, -10.5, 30.0) and when == dt.datetime(2023, 6, 14, 8, 0, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(("body", "why"), [
    ({"power_kw": 1, "temperature_c": 20}, "soc_percent must be a number; got None"),
    ({"soc_percent": float("nan"), "power_kw": 1, "temperature_c": 20}, "outside"),
    ({"soc_percent": 50, "power_kw": True, "temperature_c": 20}, "power_kw must be a number"),
    ({"soc_percent": 50, "power_kw": 1, "temperature_c": 400}, "temperature_c 400 outside"),
    ({"soc_percent": 50, "power_kw": 1, "temperature_c": 20, "timestamp": "2023-06-14T10:00:00"}, "no time zone"),
    ("50", "JSON object"),
])  # fmt: skip
def test_bad_pushes_name_the_field_and_are_counted(body, why):
    device = RestDevice(VirtualClock(T0, 1.0))
    with pytest.raises(ValueError, match=why):
        device.push(body)
    assert sum(device.dropped.values()) == 1 and device.received == 0


def test_a_reading_goes_stale_and_the_setpoint_rides_back():
    now = [0.0]
    device = RestDevice(VirtualClock(T0, 1.0), stale_after_s=30.0, monotonic=lambda: now[0])
    assert asyncio.run(device.read_telemetry()).quality is not Quality.GOOD
    asyncio.run(device.write_setpoint(-25.0))
    assert device.push({"soc_percent": 40, "power_kw": 0, "temperature_c": 25}) == -25.0
    assert asyncio.run(device.read_telemetry()).soc == 0.4
    now[0] = 31.0
    assert asyncio.run(device.read_telemetry()).quality is not Quality.GOOD
