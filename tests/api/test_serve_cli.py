"""``bess-twin serve --live SCENARIO`` as a user starts it: a process, a real port, a first admin from the environment, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from hardware.mqtt.broker import free_port
from tests.actors.live.test_live import live_scenario

pytestmark = pytest.mark.data


def test_serve_live_runs_the_demo_and_stops_cleanly_on_ctrl_c(tmp_path, data_dir):
    scenario = live_scenario(tmp_path, speed_up=60, control_interval_s=0.25)
    runs = tmp_path / "runs"
    runs.mkdir()
    port = free_port()
    env = {**os.environ, "BESS_TWIN_API_STATE_DIR": str(tmp_path / "state"), "BESS_TWIN_API_ADMIN_USER": "ops",
           "BESS_TWIN_API_ADMIN_PASSWORD": "a long enough first password"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--live", str(scenario), "--runs", str(runs), "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        sites: list = []
        while len([s for s in sites if s["soc_percent"] is not None]) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.5)
            try:
                token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "ops", "password": "a long enough first password"})
                if token.status_code == 200:
                    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
                    sites = httpx.get(f"{base}/api/v1/sites", headers=h).json()
            except httpx.TransportError:
                continue
        assert {s["site_id"] for s in sites} == {"graz", "salzburg", "innsbruck"}
        assert httpx.get(f"{base}/api/v1/me").status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-3000:]
    assert (tmp_path / "history.sqlite").is_file() and (tmp_path / "etrm.json").is_file() and (tmp_path / "exchange.sqlite").is_file()
    assert "created the first admin" in out and "a long enough first password" not in out
