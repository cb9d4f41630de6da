"""A battery that pushes its telemetry over the REST API (the original system's third telemetry path).

The API hands each pushed body to :meth:`RestDevice.push` (through the site's
actor); the site reads it through the same :class:`~hardware.safety.DeviceGuard`
as Modbus and MQTT readings. A body that does not validate is counted per
reason and dropped, and never replaces the last good reading. The reply to a
push carries the setpoint the EMS last wrote.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from hardware.clock import VirtualClock
from hardware.protocol import Telemetry, TelemetrySource, unavailable

FIELDS = {"soc_percent": (0.0, 100.0), "power_kw": (-1e7, 1e7), "temperature_c": (-40.0, 150.0)}
"""Required fields of a push and their physical ranges (SoC in percent at this interface, as the original's)."""


def parse_push(body: Any, received: dt.datetime) -> tuple[float, float, float, dt.datetime]:
    """SoC (fraction), power (kW), temperature (°C) and measurement time of a pushed body.

    Raises
    ------
    ValueError
        Naming the field, the value and the range: a missing or non-numeric
        field, NaN, a value out of range, a bad timestamp.
    """
    if not isinstance(body, dict):
        raise ValueError(f"body must be a JSON object with {', '.join(FIELDS)}; got {type(body).__name__}")
    values = []
    for name, (low, high) in FIELDS.items():
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number; got {value!r}")
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"{name} {value} outside {low}..{high}")
        values.append(float(value))
    stamp = body.get("timestamp")
    when = received
    if stamp is not None:
        try:
            when = dt.datetime.fromisoformat(str(stamp))
        except ValueError:
            raise ValueError(f"timestamp {stamp!r} is not ISO 8601") from None
        if when.tzinfo is None:
            raise ValueError(f"timestamp {stamp!r} has no time zone; send UTC, e.g. 2023-06-14T10:00:00Z")
    return values[0] / 100.0, values[1], values[2], when.astimezone(dt.UTC)


class RestDevice:
    """The latest pushed reading of a site, and the setpoint waiting for the device.

    Parameters
    ----------
    clock : VirtualClock
        Market time (receipt time of a push without a timestamp).
    stale_after_s : float
        A reading older than this (host monotonic clock) is stale. [s]
    monotonic : callable
        Injected in tests.
    """

    source = TelemetrySource.REST

    def __init__(self, clock: VirtualClock, stale_after_s: float = 30.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.clock, self.stale_after_s, self._monotonic = clock, stale_after_s, monotonic
        self._latest: tuple[Telemetry, float] | None = None
        self.setpoint_kw = 0.0
        self.dropped: Counter[str] = Counter()
        self.received = 0

    @classmethod
    def from_site(cls, site: Any, clock: VirtualClock, **_: object) -> RestDevice:
        """Build from a :class:`~twin.config.SiteConfig` (registry factory)."""
        return cls(clock, site.device.stale_after_s)

    def push(self, body: Any) -> float:
        """Take one pushed body; returns the setpoint the device should follow. [kW]

        Raises
        ------
        ValueError
            For a body that does not validate (counted in ``dropped``; nothing changes).
        """
        try:
            soc, power, temperature, when = parse_push(body, self.clock.now())
        except ValueError as err:
            self.dropped[str(err).split(" ")[0]] += 1
            raise
        self._latest = (Telemetry(when, soc, power, temperature, self.source), self._monotonic())
        self.received += 1
        return self.setpoint_kw

    async def read_telemetry(self) -> Telemetry:
        """The last good push, or a stale reading when there is none or it is too old."""
        if self._latest is None:
            return unavailable(self.source, "rest: no telemetry pushed yet", self.clock.now())
        reading, at = self._latest
        if self._monotonic() - at > self.stale_after_s:
            return unavailable(self.source, f"rest: last push {self._monotonic() - at:.0f} s ago", self.clock.now())
        return reading

    async def write_setpoint(self, power_kw: float) -> None:
        """Keep the setpoint for the device's next push. [kW]"""
        self.setpoint_kw = float(power_kw)

    async def close(self) -> None:
        """Nothing to release."""
