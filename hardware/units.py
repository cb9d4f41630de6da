"""One table of device units: what a Modbus register or an MQTT message may say, and its factor.

Devices speak in their vendor's units; inside the product SoC is a fraction,
power is in kW (positive discharges) and temperature in °C. The Modbus register
maps (:mod:`hardware.modbus.register_map`) and the MQTT envelope
(:mod:`hardware.mqtt.codec`) both convert through :func:`to_canonical` /
:func:`from_canonical`, so a unit means the same thing on every wire.
"""

from __future__ import annotations

import math
from typing import Literal

Quantity = Literal["soc", "power", "setpoint", "temperature", "heartbeat"]

UNITS: dict[str, dict[str, float]] = {
    "soc": {"%": 0.01, "percent": 0.01, "fraction": 1.0},
    "power": {"W": 1e-3, "kW": 1.0, "MW": 1e3},
    "setpoint": {"W": 1e-3, "kW": 1.0, "MW": 1e3},
    "temperature": {"degC": 1.0, "°C": 1.0, "C": 1.0},
    "heartbeat": {"count": 1.0},
}
"""Allowed units per quantity and the factor to the canonical unit (fraction, kW, °C, count)."""


PLAUSIBLE: dict[str, tuple[float, float]] = {
    "soc": (0.0, 1.0),
    "temperature": (-40.0, 150.0),
}
"""What a sensor can physically report, in canonical units (fraction, °C), for every device kind.

Outside it a reading is a sensor fault (``invalid``). Inside it a value is
real, even an alarming one: a 105 °C cell is an over-temperature, which trips
the site's safe state at once (``hardware.safety``), not a fault to wait out.
"""


def plausible(quantity: str, value: float) -> bool:
    """True when ``value`` (canonical unit) is something a sensor of ``quantity`` can report."""
    low, high = PLAUSIBLE.get(quantity, (-math.inf, math.inf))
    return math.isfinite(value) and low <= value <= high


def unit_factor(quantity: str, unit: object) -> float:
    """Factor from ``unit`` to the canonical unit of ``quantity``.

    Raises
    ------
    ValueError
        If ``unit`` is not allowed for ``quantity``; lists the allowed units.
    """
    factors = UNITS[quantity]
    if not isinstance(unit, str) or unit not in factors:
        raise ValueError(f"unit {unit!r} is not one of {', '.join(factors)}")
    return factors[unit]


def to_canonical(quantity: str, value: float, unit: object) -> float:
    """``value`` in ``unit`` converted to the canonical unit of ``quantity``."""
    return float(value) * unit_factor(quantity, unit)


def from_canonical(quantity: str, value: float, unit: object) -> float:
    """A canonical ``value`` of ``quantity`` expressed in ``unit``."""
    return float(value) / unit_factor(quantity, unit)
