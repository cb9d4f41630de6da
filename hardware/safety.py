"""Protection at the device edge: validate every reading, guard every setpoint.

:class:`DeviceGuard` wraps any :class:`~hardware.protocol.BatteryDevice`:

- readings with NaN, an SoC outside [0, 1], a temperature no sensor can report
  (:data:`hardware.units.PLAUSIBLE`, the one table of every device kind), a
  power far beyond the rating, or a timestamp ahead of the run's clock by more
  than ``max_clock_skew_s`` are marked ``invalid``, counted by reason, logged
  and never acted on; a reading that repeats the last good timestamp is
  ``stale`` once that lasts ``stale_after_s`` (frozen values);
- freshness is judged on the guard's monotonic clock (when a good reading
  arrived), never by comparing the device's clock with the host's;
- a watchdog puts the site in its safe state (0 kW, no trading) when no good
  reading arrived for ``watchdog_s``; a cell at or above its trip temperature
  does so at once, whatever else the reading holds; the site leaves the safe
  state with the next good reading below the trip temperature;
- every setpoint is clipped to the power ratings and the SoC window: no
  discharge at or below ``soc_min``, no charge at or above ``soc_max``;
- an external (operator) setpoint overrides the EMS schedule until it expires
  (OpenEMS's external-setpoint timeout is 60 s).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.errors import DeviceError
from hardware.protocol import BatteryDevice, Quality, Telemetry
from hardware.units import PLAUSIBLE, plausible
from twin.config import BatterySpec
from twin.config.devices import SafetyConfig

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class GuardState:
    """What the guard knows after a read or a write.

    Attributes
    ----------
    safe : bool
        The site is in its safe state (0 kW, not trading).
    reason : str
        Why it is safe (empty otherwise).
    setpoint_kw : float
        Last setpoint the device took. [kW]
    external : bool
        The setpoint came from an operator override.
    commanded_kw : float
        What the guard commanded now (0 when safe), taken or not. [kW]
    confirmed : bool
        The device took ``commanded_kw``.
    """

    safe: bool
    reason: str
    setpoint_kw: float
    external: bool
    commanded_kw: float = 0.0
    confirmed: bool = False


class DeviceGuard:
    """Safety wrapper around one device.

    Parameters
    ----------
    device : BatteryDevice
    spec : BatterySpec
        Ratings and SoC window used for clipping and plausibility.
    config : SafetyConfig
    monotonic : callable
        Clock in seconds for the watchdog, freshness and expiry (tests pass a fake one).
    clock : callable
        The run's clock (UTC ``datetime``) that device timestamps are checked
        against: the wall clock, or ``VirtualClock.now`` in a live replay.

    Attributes
    ----------
    rejected : collections.Counter
        Readings and setpoints refused, by reason.
    """

    def __init__(
        self,
        device: BatteryDevice,
        spec: BatterySpec,
        config: SafetyConfig | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.device = device
        self.spec = spec
        self.config = config or SafetyConfig()
        self._now = monotonic
        self._clock = clock
        self.rejected: collections.Counter[str] = collections.Counter()
        self.last_good: Telemetry | None = None
        self._last_good_at = monotonic()  # the watchdog starts at construction
        self.safe = False
        self.safe_reason = ""
        self.setpoint_kw = 0.0
        self._external: tuple[float, float] | None = None  # (power_kw, expires_at)

    # ------------------------------------------------------------------ readings
    def check(self, reading: Telemetry) -> Telemetry:
        """Validate a reading; return it, or a copy marked ``invalid``/``stale`` with the reason."""
        if reading.quality is not Quality.GOOD:
            return reading
        problem = ""
        rating = max(self.spec.p_charge_max_kw, self.spec.p_discharge_max_kw)
        low_c, high_c = PLAUSIBLE["temperature"]
        ahead_s = (reading.timestamp - self._clock()).total_seconds()
        if not all(math.isfinite(v) for v in (reading.soc, reading.power_kw, reading.temperature_c)):
            problem = "non-finite value"
        elif not plausible("soc", reading.soc):
            problem = f"soc {reading.soc:.4f} outside [0, 1]"
        elif not plausible("temperature", reading.temperature_c):
            problem = f"temperature {reading.temperature_c:.1f} °C outside [{low_c}, {high_c}]"
        elif abs(reading.power_kw) > self.config.max_power_ratio * rating:
            problem = f"|power| {abs(reading.power_kw):.1f} kW above {self.config.max_power_ratio} x rating"
        elif ahead_s > self.config.max_clock_skew_s:
            problem = (
                f"timestamp {reading.timestamp.isoformat()} is {ahead_s:.0f} s ahead of the clock "
                f"(max_clock_skew_s = {self.config.max_clock_skew_s:g})"
            )
        if problem:
            self.rejected[problem.split(" ")[0]] += 1
            log.warning("%s reading rejected: %s", reading.source, problem)
            return reading.degraded(Quality.INVALID, problem)
        return reading

    async def read(self) -> Telemetry:
        """Read the device, validate, and update the watchdog."""
        raw = await self.device.read_telemetry()
        reading = self.check(raw)
        now = self._now()
        repeated = self.last_good is not None and reading.timestamp == self.last_good.timestamp
        if reading.is_good and not repeated:
            self.last_good, self._last_good_at = reading, now
        elif reading.is_good and now - self._last_good_at > self.config.stale_after_s:
            reading = reading.degraded(
                Quality.STALE,
                f"timestamp has not advanced for {now - self._last_good_at:.1f} s (frozen values)",
            )
        temperature_c = raw.temperature_c
        if plausible("temperature", temperature_c) and temperature_c >= self.config.temperature_trip_c:
            self._enter_safe(f"temperature {temperature_c:.1f} °C at or above the trip limit")
        elif now - self._last_good_at > self.config.watchdog_s:
            self._enter_safe(
                f"no good telemetry for {now - self._last_good_at:.1f} s ({reading.reason or reading.quality})"
            )
        elif reading.is_good and self.safe:
            log.info("site leaves safe state: good telemetry again")
            self.safe, self.safe_reason = False, ""
        return reading

    def _enter_safe(self, reason: str) -> None:
        if not self.safe:
            log.warning("site goes to safe state: %s", reason)
        self.safe, self.safe_reason = True, reason

    # ------------------------------------------------------------------ setpoints
    def clip(self, power_kw: float, soc: float | None) -> float:
        """Limit ``power_kw`` to the ratings and, given ``soc``, to the SoC window. [kW]"""
        power = min(max(power_kw, -self.spec.p_charge_max_kw), self.spec.p_discharge_max_kw)
        if soc is not None and math.isfinite(soc):
            if power > 0 and soc <= self.spec.soc_min:
                return 0.0
            if power < 0 and soc >= self.spec.soc_max:
                return 0.0
        return power

    def set_external(self, power_kw: float) -> None:
        """Override the schedule with an operator setpoint for ``external_setpoint_expiry_s``.

        Raises
        ------
        ValueError
            If ``power_kw`` is not finite (nothing changes).
        """
        if not math.isfinite(power_kw):
            self.rejected["external setpoint not finite"] += 1
            raise ValueError(f"external setpoint power_kw must be finite, got {power_kw}")
        self._external = (float(power_kw), self._now() + self.config.external_setpoint_expiry_s)

    def external_active(self) -> bool:
        """True while an operator setpoint is in force."""
        return self._external is not None and self._now() < self._external[1]

    async def apply(self, schedule_kw: float) -> GuardState:
        """Write the guarded setpoint: 0 when safe, else the override or the schedule, clipped.

        A non-finite schedule value is rejected (counted) and 0 kW is written instead.
        A device that refuses the write is counted; the guard keeps going.
        """
        external = self.external_active()
        if self.safe:
            target = 0.0
        elif external:
            target = self._external[0]  # type: ignore[index]
        elif math.isfinite(schedule_kw):
            target = schedule_kw
        else:
            self.rejected["schedule not finite"] += 1
            target = 0.0
        soc = self.last_good.soc if self.last_good is not None else None
        target = self.clip(target, soc)
        confirmed = False
        try:
            await self.device.write_setpoint(target)
            self.setpoint_kw, confirmed = target, True
        except (DeviceError, ValueError, OSError) as err:
            self.rejected["setpoint write failed"] += 1
            log.warning("setpoint write failed: %s", err)
        return GuardState(
            self.safe, self.safe_reason, self.setpoint_kw, external and not self.safe,
            commanded_kw=target, confirmed=confirmed,
        )
