"""Which class implements ``device: {kind: ...}``: the one place that maps kinds to code.

Factories are named as ``"module:Class.method"`` and imported on first use, so a
site with a simulated battery never imports paho or pymodbus. Vendors add a
kind with :func:`register_device`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from hardware.clock import VirtualClock
from hardware.protocol import BatteryDevice
from twin.config import SiteConfig

DeviceFactory = Callable[..., BatteryDevice]

_FACTORIES: dict[str, str | DeviceFactory] = {
    "simulated": "hardware.simulated:SimulatedDevice.from_site",
    "modbus": "hardware.modbus.client:ModbusDevice.from_site",
    "mqtt": "hardware.mqtt.client:MqttDevice.from_site",
    "rest": "hardware.rest:RestDevice.from_site",
}


def register_device(kind: str, factory: str | DeviceFactory) -> None:
    """Add or replace the implementation of a device kind.

    Parameters
    ----------
    kind : str
        The value of ``device.kind`` in a scenario.
    factory : str or callable
        ``factory(site, clock) -> BatteryDevice``, or its ``"module:attr.path"``.
    """
    _FACTORIES[kind] = factory


def device_kinds() -> list[str]:
    """Registered kinds."""
    return sorted(_FACTORIES)


def _resolve(spec: str | DeviceFactory) -> DeviceFactory:
    if callable(spec):
        return spec
    module, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def open_device(site: SiteConfig, clock: VirtualClock) -> BatteryDevice:
    """Build the device a site's scenario names.

    Parameters
    ----------
    site : SiteConfig
    clock : VirtualClock
        Market time (the simulated device runs on it).

    Raises
    ------
    KeyError
        If no implementation is registered for ``site.device.kind``.
    """
    kind = site.device.kind
    if kind not in _FACTORIES:
        raise KeyError(f"device kind {kind!r} has no implementation; registered: {', '.join(device_kinds())}")
    return _resolve(_FACTORIES[kind])(site, clock)
