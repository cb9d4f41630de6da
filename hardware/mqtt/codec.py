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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from hardware.units import PLAUSIBLE, plausible, to_canonical

TelemetryQuantity = Literal["soc", "power", "temperature"]



class DeviceMessage(BaseModel):
    """The seed's JSON envelope of one telemetry or setpoint message.

    Attributes
    ----------
    value : float
        The reading or setpoint in ``unit``; a finite JSON number (not a bool
        or a string).
    unit : str or None
        One of the units of :data:`hardware.units.UNITS` for the topic's quantity.
    timestamp : datetime.datetime or None
        Measurement time: ISO 8601 text (naive means UTC) or Unix seconds;
        ``None``: the time of receipt.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    value: float
    unit: str | None = None
    timestamp: dt.datetime | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"value {raw!r} is not a number")
        try:
            value = float(raw)
        except OverflowError:
            raise ValueError(f"value with {len(str(raw))} digits is out of range") from None
        if not math.isfinite(value):
            raise ValueError(f"value {raw} is not finite")
        return value

    @field_validator("unit", mode="before")
    @classmethod
    def _unit_text(cls, raw: Any) -> Any:
        return raw if raw is None or isinstance(raw, str) else repr(raw)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _stamp(cls, raw: Any) -> dt.datetime | None:
        if raw is None or isinstance(raw, dt.datetime):
            return raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            try:
                return dt.datetime.fromtimestamp(float(raw), dt.UTC)
            except (OverflowError, OSError, ValueError):
                raise ValueError(f"timestamp {raw!r} is not a plausible Unix time") from None
        if isinstance(raw, str):
            try:
                parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"timestamp {raw!r} is not ISO 8601") from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        raise ValueError(f"timestamp {raw!r} is neither ISO 8601 text nor Unix seconds")


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


MAX_JSON_CONTAINERS = 16
"""Most objects and arrays a message may hold: a telemetry message is one flat object."""


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
    if payload.count(b"[") + payload.count(b"{") > MAX_JSON_CONTAINERS:
        # refused before parsing: a deeply nested document would hit the recursion limit
        raise ValueError("payload is not a flat JSON object")
    try:
        raw = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("payload is not JSON") from None
    if not isinstance(raw, dict):
        raise ValueError("payload is not a JSON object")
    try:
        message = DeviceMessage.model_validate(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        raise ValueError(str(first["msg"]).removeprefix("Value error, ")) from None
    canonical = to_canonical(quantity, message.value, message.unit)
    if not plausible(quantity, canonical):
        low, high = PLAUSIBLE.get(quantity, (-math.inf, math.inf))
        raise ValueError(
            f"{quantity} {message.value} {message.unit} is outside [{low}, {high}] (canonical units)"
        )
    return canonical, message.timestamp or received


def drop_reason(err: BaseException) -> str:
    """Why a message was dropped, for the per-reason counters of the client and the simulator.

    A :class:`ValueError` from :func:`parse_payload` carries its reason; anything
    else a decoder might raise is named by its type, so the counters stay few.
    """
    return str(err) if isinstance(err, ValueError) else f"{type(err).__name__} while decoding"


def make_payload(value: float, unit: str, timestamp: dt.datetime) -> bytes:
    """The seed's JSON message for ``value`` in ``unit`` measured at ``timestamp``."""
    return DeviceMessage(value=value, unit=unit, timestamp=timestamp).model_dump_json().encode()
