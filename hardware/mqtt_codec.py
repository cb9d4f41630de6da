"""MQTT topics and payloads of a battery site: the seed's JSON, translated at the edge.

Telemetry topics carry ``{"value": <number>, "timestamp": <ISO 8601 or Unix s>,
"unit": <unit>}``; SoC in ``%`` (or ``fraction``), power in ``W``/``kW``/``MW``
(positive discharges), temperature in ``degC``. Inside the product SoC is a
fraction and power is in kW; everything else is rejected with a reason.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Literal

TelemetryQuantity = Literal["soc", "power", "temperature"]

_UNITS: dict[str, dict[str, float]] = {
    "soc": {"%": 0.01, "percent": 0.01, "fraction": 1.0},
    "power": {"W": 1e-3, "kW": 1.0, "MW": 1e3},
    "temperature": {"degC": 1.0, "°C": 1.0, "C": 1.0},
    "setpoint": {"W": 1e-3, "kW": 1.0, "MW": 1e3},
}
_RANGES = {"soc": (0.0, 1.0), "temperature": (-40.0, 120.0)}
"""Physically possible values; outside them a reading is malformed."""


@dataclass(frozen=True)
class SiteTopics:
    """Topics of one site under ``prefix`` (empty prefix: the seed's plain topics)."""

    soc: str
    power: str
    temperature: str
    setpoint: str
    device_status: str
    ems_status: str

    @classmethod
    def for_prefix(cls, prefix: str) -> SiteTopics:
        """``<prefix>/telemetry/bess/soc`` ... ``<prefix>/commands/bess/setpoint``."""
        base = prefix.strip("/")
        tel = f"{base}/telemetry/" if base else ""
        cmd = f"{base}/commands/" if base else ""
        status = f"{base}/status/" if base else "status/"
        return cls(
            soc=f"{tel}bess/soc",
            power=f"{tel}bess/power",
            temperature=f"{tel}bess/temperature",
            setpoint=f"{cmd}bess/setpoint",
            device_status=f"{status}bess",
            ems_status=f"{status}ems",
        )

    def telemetry(self) -> dict[str, TelemetryQuantity]:
        """Telemetry topic to quantity."""
        return {self.soc: "soc", self.power: "power", self.temperature: "temperature"}


def _timestamp(raw: object, received: dt.datetime) -> dt.datetime:
    if raw is None:
        return received
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return dt.datetime.fromtimestamp(float(raw), dt.UTC)
    if isinstance(raw, str):
        try:
            parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"timestamp {raw!r} is not ISO 8601") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise ValueError(f"timestamp {raw!r} is neither ISO 8601 text nor Unix seconds")


def parse_payload(
    quantity: str, payload: bytes, received: dt.datetime
) -> tuple[float, dt.datetime]:
    """Decode one telemetry or setpoint message into the canonical unit.

    Parameters
    ----------
    quantity : {"soc", "power", "temperature", "setpoint"}
    payload : bytes
        The MQTT payload.
    received : datetime.datetime
        Receipt time, used when the payload has no timestamp (UTC).

    Returns
    -------
    value : float
        SoC as a fraction, power in kW, temperature in °C.
    timestamp : datetime.datetime
        Measurement time (UTC).

    Raises
    ------
    ValueError
        With the reason: not JSON, no numeric ``value``, NaN, unknown or missing
        unit, out of the physical range, bad timestamp.
    """
    try:
        message = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("payload is not JSON") from None
    if not isinstance(message, dict):
        raise ValueError("payload is not a JSON object")
    value = message.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"value {value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"value {value} is not finite")
    unit = message.get("unit")
    factors = _UNITS[quantity]
    if unit not in factors:
        raise ValueError(f"unit {unit!r} is not one of {', '.join(factors)}")
    canonical = float(value) * factors[unit]
    low, high = _RANGES.get(quantity, (-math.inf, math.inf))
    if not low <= canonical <= high:
        raise ValueError(f"{quantity} {value} {unit} is outside [{low}, {high}] (canonical units)")
    return canonical, _timestamp(message.get("timestamp"), received)


def make_payload(value: float, unit: str, timestamp: dt.datetime) -> bytes:
    """The seed's JSON message for ``value`` in ``unit`` measured at ``timestamp``."""
    return json.dumps(
        {"value": value, "unit": unit, "timestamp": timestamp.isoformat()}
    ).encode()
