"""What every battery device offers the site: telemetry in, a power setpoint out.

A device is anything that implements :class:`BatteryDevice`: the SimPy battery
(``hardware.simulated``), a battery behind Modbus TCP (``hardware.modbus.client``) or
behind MQTT (``hardware.mqtt.client``). Sites never branch on the kind; the registry
(``hardware.registry``) builds the right one from the scenario.

Sign convention at the PCC, as in :mod:`twin.physics.battery`: ``power_kw > 0`` discharges.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable


class TelemetrySource(StrEnum):
    """Where a reading came from (the dashboards tell automatic from manual)."""

    SIMULATED = "simulated"
    MODBUS = "modbus"
    MQTT = "mqtt"
    REST = "rest"
    MANUAL = "manual"


class Quality(StrEnum):
    """Whether a reading may be acted on.

    ``good``: fresh and plausible; ``stale``: too old, or the device did not answer;
    ``invalid``: the device answered with a value that fails validation.
    """

    GOOD = "good"
    STALE = "stale"
    INVALID = "invalid"


@dataclass(frozen=True)
class Telemetry:
    """One reading of a battery.

    Attributes
    ----------
    timestamp : datetime.datetime
        When the device says the values were measured, on the run's clock
        (timezone-aware, UTC): wall time for real hardware, the fleet's market
        time under a :class:`~hardware.clock.VirtualClock` (simulators and every
        client of a live replay stamp with it). It is checked for plausibility
        only (not in the future beyond ``safety.max_clock_skew_s``, advancing
        between readings); freshness is judged by arrival on the host's
        monotonic clock.
    soc : float
        State of charge. [fraction]
    power_kw : float
        Active power at the PCC; positive discharges. [kW]
    temperature_c : float
        Cell (or enclosure) temperature. [°C]
    source : TelemetrySource
    quality : Quality
    reason : str
        Why the quality is not ``good`` (empty when it is).
    soh : float or None
        State of health when the device reports it. [fraction]
    """

    timestamp: dt.datetime
    soc: float
    power_kw: float
    temperature_c: float
    source: TelemetrySource
    quality: Quality = Quality.GOOD
    reason: str = ""
    soh: float | None = None

    @property
    def is_good(self) -> bool:
        """True when the reading may be acted on."""
        return self.quality is Quality.GOOD

    def degraded(self, quality: Quality, reason: str) -> Telemetry:
        """The same values marked ``quality`` for ``reason``."""
        return replace(self, quality=quality, reason=reason)


def unavailable(source: TelemetrySource, reason: str, now: dt.datetime | None = None) -> Telemetry:
    """A ``stale`` reading with NaN values: the device could not be read.

    Parameters
    ----------
    source : TelemetrySource
    reason : str
        What failed (e.g. ``"modbus: connection refused"``).
    now : datetime.datetime, optional
        Timestamp; default the current UTC time.
    """
    return Telemetry(
        timestamp=now or dt.datetime.now(dt.UTC),
        soc=math.nan,
        power_kw=math.nan,
        temperature_c=math.nan,
        source=source,
        quality=Quality.STALE,
        reason=reason,
    )


@runtime_checkable
class BatteryDevice(Protocol):
    """A battery the site can read and command.

    Implementations never return an old value as if it were new: when a read
    fails they return a ``stale`` :class:`Telemetry` (see :func:`unavailable`).
    """

    source: TelemetrySource

    async def read_telemetry(self) -> Telemetry:
        """Read SoC, power and temperature now."""
        ...

    async def write_setpoint(self, power_kw: float) -> None:
        """Command active power at the PCC (positive discharges). [kW]

        Raises
        ------
        hardware.errors.DeviceError
            When the device cannot be reached or refuses the write.
        """
        ...

    async def close(self) -> None:
        """Release connections; the device holds its last setpoint until it expires."""
        ...
