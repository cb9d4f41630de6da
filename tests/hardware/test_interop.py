"""Interop with clients nobody here wrote: Debian's mbpoll (libmodbus) and mosquitto_pub."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess

import pytest

from hardware.clock import VirtualClock
from hardware.modbus.register_map import load_profile
from hardware.modbus.server import ModbusBatteryServer
from hardware.mqtt.broker import MosquittoBroker, free_port
from hardware.mqtt.client import MqttDevice
from hardware.simulated import SimulatedBattery
from tests.hardware.rigs import START, good_reading
from twin.config import BatterySpec
from twin.config.battery import BatteryDynamics
from twin.config.devices import MqttDeviceConfig

needs_mbpoll = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not on PATH (CI installs it)")
needs_mosquitto = pytest.mark.skipif(
    shutil.which("mosquitto_pub") is None or shutil.which("mosquitto") is None,
    reason="mosquitto and mosquitto-clients not on PATH (CI installs them)",
)


def _mbpoll(*args: str) -> str:
    done = subprocess.run(["mbpoll", "-m", "tcp", "-a", "1", "-0", "-1", *args],
                          capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_mbpoll
def test_mbpoll_reads_the_seed_registers_and_writes_the_setpoint():
    spec = BatterySpec(energy_kwh=200, p_charge_max_kw=100, p_discharge_max_kw=100, soc_initial=0.75)
    # One second of losses cannot move the temperature off 21.5 °C ambient by 0.05 K.
    dynamics = BatteryDynamics(response_delay_s=0.0, thermal={"ambient_c": 21.5})
    battery = SimulatedBattery(spec, dynamics, start_utc=START)
    battery.set_setpoint(-42.0)
    battery.advance(1.0)  # ramped to -42 kW within 1 s; SoC still 75.00 % to 0.01 %

    async def scenario():
        port = free_port()
        clock = VirtualClock(START, speed_up=1e-9)  # market time stands still
        async with ModbusBatteryServer(battery, load_profile("seed"), clock, port=port) as server:
            out = await asyncio.to_thread(_mbpoll, "-r", "0", "-c", "5", "-t", "4", "-p", str(port), "127.0.0.1")
            registers = {int(k): v for k, v in re.findall(r"\[(\d+)\]:\s+(-?\d+(?: \(-?\d+\))?)", out)}
            assert registers[0] == "7500"  # 75.00 %
            assert registers[1].endswith("(-42)")  # signed kW
            assert registers[2] == "215"  # 21.5 °C in 0.1 °C
            await asyncio.to_thread(_mbpoll, "-r", "4", "-p", str(port), "127.0.0.1", "30")
            assert battery.setpoint_kw == 30.0 and server.writes_applied == 1
            # register 0 is read-only: libmodbus gets an exception and nothing changes
            done = await asyncio.to_thread(subprocess.run, ["mbpoll", "-m", "tcp", "-a", "1", "-0", "-1", "-r", "0",
                                           "-p", str(port), "127.0.0.1", "1234"], capture_output=True, text=True)
            assert done.returncode != 0
            assert battery.soc == pytest.approx(0.75, abs=1e-4)
    asyncio.run(scenario())


@needs_mosquitto
def test_mosquitto_pub_messages_reach_the_device_and_bad_ones_are_dropped():
    broker = MosquittoBroker()
    broker.start()
    try:
        config = MqttDeviceConfig(kind="mqtt", port=broker.port, prefix="phoenyra/site7")

        def pub(topic: str, payload: str) -> None:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                            "-t", topic, "-m", payload], check=True, timeout=10)

        async def scenario():
            device = MqttDevice(config, stale_after_s=30)
            try:
                for _ in range(100):
                    if device._connected.is_set():  # noqa: SLF001
                        break
                    await asyncio.sleep(0.05)
                base = "phoenyra/site7/telemetry/bess"
                pub(f"{base}/soc", '{"value": 62.5, "unit": "%"}')
                pub(f"{base}/power", '{"value": -0.05, "unit": "MW"}')
                pub(f"{base}/temperature", '{"value": 28.0, "unit": "degC"}')
                pub(f"{base}/soc", '{"value": NaN, "unit": "%"}')
                pub(f"{base}/soc", "not json")
                pub(f"{base}/power", '{"value": 5, "unit": "horsepower"}')
                reading = await good_reading(device)
                for _ in range(50):
                    if sum(device.rejected.values()) == 3:
                        break
                    await asyncio.sleep(0.05)
                assert reading.soc == pytest.approx(0.625)
                assert reading.power_kw == pytest.approx(-50.0)
                assert reading.temperature_c == pytest.approx(28.0)
                assert sum(device.rejected.values()) == 3
                assert any("not finite" in reason for reason in device.rejected)
            finally:
                await device.close()
        asyncio.run(scenario())
    finally:
        broker.stop()
