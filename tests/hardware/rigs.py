"""Test rigs: a SimPy battery behind each kind of device, on real loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass

from hardware.clock import VirtualClock
from hardware.modbus.client import ModbusDevice
from hardware.modbus.register_map import load_profile
from hardware.modbus.server import ModbusBatteryServer
from hardware.mqtt.broker import EmbeddedBroker, MosquittoBroker, free_port
from hardware.mqtt.client import MqttDevice
from hardware.mqtt.sim import MqttBatteryPublisher
from hardware.protocol import BatteryDevice, Telemetry
from hardware.simulated import SimulatedBattery, SimulatedDevice
from twin.config import BatterySpec
from twin.config.battery import BatteryDynamics
from twin.config.devices import ModbusDeviceConfig, MqttDeviceConfig

START = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
SPEC = BatterySpec(energy_kwh=200, p_charge_max_kw=100, p_discharge_max_kw=100,
                   soc_min=0.1, soc_max=0.9, soc_initial=0.5)
KINDS = ["simulated", "modbus-seed", "modbus-float32_le", "mqtt-amqtt", "mqtt-mosquitto"]


@dataclass
class Rig:
    kind: str
    battery: SimulatedBattery
    device: BatteryDevice
    server: object = None
    broker: object = None


async def good_reading(device: BatteryDevice, timeout_s: float = 10.0) -> Telemetry:
    """Poll until the device gives a good reading."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    reading = await device.read_telemetry()
    while not reading.is_good:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no good reading within {timeout_s} s: {reading.reason}")
        await asyncio.sleep(0.05)
        reading = await device.read_telemetry()
    return reading


@contextlib.asynccontextmanager
async def rig(kind: str, speed_up: float = 600.0, dynamics: BatteryDynamics | None = None,
              spec: BatterySpec = SPEC, stale_after_s: float = 1.0, monotonic=time.monotonic):
    clock = VirtualClock(START, speed_up)
    battery = SimulatedBattery(spec, dynamics, start_utc=START)
    if kind == "simulated":
        yield Rig(kind, battery, SimulatedDevice(battery, clock))
        return
    if kind.startswith("modbus"):
        profile = kind.split("-", 1)[1]
        port = free_port()
        server = ModbusBatteryServer(battery, load_profile(profile), clock, port=port)
        await server.start()
        config = ModbusDeviceConfig(kind="modbus", port=port, profile=profile, timeout_s=0.3,
                                    retries=0, reconnect_delay_s=0.1, reconnect_delay_max_s=0.5)
        device = ModbusDevice(config, heartbeat_timeout_s=stale_after_s + 1.5, monotonic=monotonic)
        try:
            await good_reading(device)
            yield Rig(kind, battery, device, server=server)
        finally:
            await device.close()
            await server.stop()
        return
    broker_cls = {"mqtt-amqtt": EmbeddedBroker, "mqtt-mosquitto": MosquittoBroker}[kind]
    broker = broker_cls()
    broker.start()
    config = MqttDeviceConfig(kind="mqtt", port=broker.port, prefix="phoenyra/site1",
                              reconnect_delay_s=1, reconnect_delay_max_s=1)
    publisher = MqttBatteryPublisher(battery, config, clock, interval_s=0.1)
    await publisher.start()
    device = MqttDevice(config, stale_after_s=stale_after_s)
    try:
        await good_reading(device)
        yield Rig(kind, battery, device, server=publisher, broker=broker)
    finally:
        await device.close()
        await publisher.stop()
        broker.stop()
