"""The dashboards in a real browser: headless Chromium opens the fleet, site and backtest explorer pages of a running
``bess-twin dashboard`` and waits for the plots; no exception box, no JavaScript error, no plot without data.

Set ``BESS_TWIN_SCREENSHOTS=DIR`` to keep the screenshots (the README's come from here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hardware.mqtt.broker import free_port
from tests.dashboards.browser import Chromium

pytestmark = pytest.mark.data
PAGES = {"fleet": ("/?run=qs", 2), "site": ("/site?run=qs", 2), "backtest": ("/backtest?run=qs", 3)}


@pytest.fixture
def dashboard(dash_runs):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESS_TWIN_DASHBOARD_")}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "dashboard", "--runs", str(dash_runs), "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(30)
    with pytest.raises(httpx.TransportError):  # SIGTERM ended Streamlit itself: nothing is left listening
        httpx.get(f"{base}/_stcore/health", timeout=2)


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"), reason="no chromium (CI installs it)")
def test_pages_render_in_chromium(dashboard, tmp_path):
    keep = os.environ.get("BESS_TWIN_SCREENSHOTS")
    with Chromium() as browser:
        for name, (path, plots) in PAGES.items():
            seen = browser.check(dashboard + path, tmp_path / name, min_plots=plots, timeout_s=90)
            assert seen.exceptions == 0, (name, seen.text[:2000])
            assert seen.js_errors == [], (name, seen.js_errors)
            assert seen.plots >= plots and seen.empty_plots == 0, (name, seen.plots, seen.empty_plots)
            assert "Run: qs" in seen.html and "vienna" in seen.text  # the run of the link, its sites
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(tmp_path / f"{name}.png", Path(keep) / f"dashboard_{name}.png")
