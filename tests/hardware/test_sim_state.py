"""A restarted simulator resumes from its state file instead of its initial SoC."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from pymodbus.client import ModbusTcpClient

from hardware.mqtt.broker import free_port, wait_for_port
from hardware.sim_state import load_state, save_state
from hardware.simulated import SimulatedBattery
from tests.hardware.rigs import SPEC, START


def test_state_round_trips_and_bad_files_are_ignored(tmp_path):
    battery = SimulatedBattery(SPEC, start_utc=START)
    battery.set_setpoint(-80.0)
    battery.advance(2 * 3600)
    path = tmp_path / "s.json"
    save_state(battery, path)
    again = SimulatedBattery(SPEC, start_utc=START)
    assert load_state(again, path)
    assert again.soc == battery.soc and again.temperature_c == battery.temperature_c
    assert again.soh == battery.soh and again.energy_charged_kwh == battery.energy_charged_kwh
    for bad in ("{", json.dumps({"energy_kwh": 1e9}), json.dumps({**battery.snapshot(), "soh": float("nan")})):
        path.write_text(bad)
        fresh = SimulatedBattery(SPEC, start_utc=START)
        assert not load_state(fresh, path) and fresh.soc == SPEC.soc_initial
    assert not load_state(SimulatedBattery(SPEC, start_utc=START), tmp_path / "missing.json")


def _soc_register(port: int) -> float:
    client = ModbusTcpClient("127.0.0.1", port=port)
    client.connect()
    try:
        return client.read_holding_registers(0, count=1, device_id=1).registers[0] / 10_000
    finally:
        client.close()


def test_a_killed_modbus_simulator_restarts_where_it_stopped(tmp_path):
    port, state = free_port(), tmp_path / "site.sim-state.json"
    command = [sys.executable, "-m", "api.cli", "modbus-sim", "--port", str(port), "--soc", "0.5",
               "--speed-up", "600", "--start-utc", START.isoformat(), "--state-file", str(state)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port("127.0.0.1", port, timeout_s=30)
        client = ModbusTcpClient("127.0.0.1", port=port)
        client.connect()
        client.write_register(4, (-100) & 0xFFFF, device_id=1)  # charge at 100 kW
        client.close()
        deadline = time.monotonic() + 20
        while not (state.exists() and json.loads(state.read_text())["energy_kwh"] > 0.6 * SPEC.energy_kwh):
            assert time.monotonic() < deadline, "the simulator did not charge or save its state"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # a crash: only the periodic save survives
        proc.wait(10)
        saved = json.loads(state.read_text())["energy_kwh"] / SPEC.energy_kwh
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_port("127.0.0.1", port, timeout_s=30)
        resumed = _soc_register(port)
        assert resumed >= saved - 0.01 and resumed > 0.55  # not back at the --soc 0.5 it was started with
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
