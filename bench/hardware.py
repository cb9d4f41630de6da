"""Hardware benchmarks (make bench): SimPy battery speed, Modbus round trip, MQTT throughput.

Medians over repeats; the machine is printed with the figures. Not part of CI.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from hardware.clock import VirtualClock
from hardware.modbus.client import ModbusDevice
from hardware.modbus.register_map import load_profile
from hardware.modbus.server import ModbusBatteryServer
from hardware.mqtt.broker import EmbeddedBroker, MosquittoBroker, free_port
from hardware.simulated import SimulatedBattery
from twin.config import BatterySpec
from twin.config.battery import BatteryDynamics
from twin.config.devices import ModbusDeviceConfig

SPEC = BatterySpec(energy_kwh=200, p_charge_max_kw=100, p_discharge_max_kw=100, soc_min=0.1, soc_max=0.9)
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def quickstart_schedule_kw() -> tuple[BatterySpec, list[float], float]:
    """The first quickstart site's battery and its year of day-ahead setpoints (a local backtest), and the MTU [s]."""
    from actors.backtest.driver import plan_backtest, run_backtest
    from actors.runtime import LocalRuntime
    from twin.config import load_scenario
    from twin.io.prices import load_prices

    scenario = load_scenario("scenarios/quickstart.yaml")
    plan = plan_backtest(scenario, load_prices(scenario.market))
    run = run_backtest(plan, LocalRuntime())
    schedule = [float(p) for day in run.site_days for p in day[0].schedule_kw]
    return scenario.sites[0].battery, schedule, plan.prices.dt_h * 3600.0


def bench_simpy_year(repeats: int = 3) -> dict:
    """One site-year of real setpoints (the quickstart's first site) through the event-driven and the 60-s plant."""
    spec, schedule, mtu_s = quickstart_schedule_kw()
    results: dict = {"mtus": len(schedule)}
    for integration in ("event", "fixed"):
        times = []
        for _ in range(repeats):
            battery = SimulatedBattery(spec, BatteryDynamics(integration=integration), start_utc=START)
            t0 = time.perf_counter()
            for k, power_kw in enumerate(schedule):
                battery.set_setpoint(power_kw)
                battery.advance((k + 1) * mtu_s)
            times.append(time.perf_counter() - t0)
        results[f"{integration}_s"] = statistics.median(times)
    return results


async def _modbus(profile: str, n: int) -> dict:
    port = free_port()
    battery = SimulatedBattery(SPEC, start_utc=START)
    clock = VirtualClock(START, speed_up=60)
    async with ModbusBatteryServer(battery, load_profile(profile), clock, port=port):
        device = ModbusDevice(ModbusDeviceConfig(kind="modbus", port=port, profile=profile))
        await device.read_telemetry()
        reads, writes = [], []
        for i in range(n):
            t0 = time.perf_counter()
            await device.read_telemetry()
            reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await device.write_setpoint(float(i % 100 - 50))
            writes.append(time.perf_counter() - t0)
        await device.close()
    return {"profile": profile, "read_median_ms": statistics.median(reads) * 1e3,
            "read_p99_ms": sorted(reads)[int(0.99 * n)] * 1e3,
            "write_median_ms": statistics.median(writes) * 1e3}


def bench_mqtt(broker, n: int = 20_000, qos: int = 1) -> dict:
    """Messages per second from one publisher to one subscriber through ``broker``."""
    broker.start()
    got = threading.Event()
    count = [0]

    def on_message(_c, _u, _m):
        count[0] += 1
        if count[0] == n:
            got.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sub")
    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("bench/#", qos=qos)
    sub.loop_start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-pub")
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    time.sleep(0.5)
    payload = b'{"value": 75.0, "unit": "%", "timestamp": "2023-01-01T00:00:00+00:00"}'
    window = 500  # at most this many messages in flight: brokers drop beyond their queue limits
    t0 = time.perf_counter()
    for i in range(n):
        while i - count[0] >= window and time.perf_counter() - t0 < 120:
            time.sleep(0.0005)
        pub.publish("bench/site1/telemetry/bess/soc", payload, qos=qos)
    ok = got.wait(120)
    elapsed = time.perf_counter() - t0
    for client in (pub, sub):
        client.disconnect()
        client.loop_stop()
    broker.stop()
    return {"broker": broker.kind, "qos": qos, "messages": count[0], "complete": ok,
            "messages_per_s": count[0] / elapsed}


def main() -> None:
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    print(f"machine: {machine}")
    results: dict = {"machine": machine}
    results["simpy"] = bench_simpy_year()
    simpy = results["simpy"]
    print(f"SimPy battery, a year of real setpoints ({simpy['mtus']} MTUs): event-driven {simpy['event_s']:.2f} s, "
          f"fixed 60-s step {simpy['fixed_s']:.2f} s")
    results["modbus"] = [asyncio.run(_modbus(p, 2000)) for p in ("seed", "float32_le")]
    for row in results["modbus"]:
        print(f"Modbus TCP round trip ({row['profile']}): read median {row['read_median_ms']:.2f} ms "
              f"(p99 {row['read_p99_ms']:.2f}), write median {row['write_median_ms']:.2f} ms")
    brokers = [EmbeddedBroker()] + ([MosquittoBroker()] if MosquittoBroker.available() else [])
    results["mqtt"] = [bench_mqtt(b) for b in brokers]
    for row in results["mqtt"]:
        print(f"MQTT through {row['broker']} (QoS {row['qos']}): {row['messages_per_s']:,.0f} messages/s "
              f"({row['messages']} delivered)")
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "hardware.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
