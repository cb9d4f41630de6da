"""Dashboard benchmark: how long each page takes over a one-year, 16-site run folder.

A 16-site scenario (the quickstart's two batteries in eight sizes each) is run
as a one-year backtest on the real 2023 DE-LU prices (reused if the folder is
already there). Two measurements:

* **script**: each page run with Streamlit's AppTest in this process, cold
  (cache cleared) and warm, three times each; the medians are the page's
  server-side time, its figure data included;
* **browser**: a running ``bess-twin dashboard`` in headless Chromium; from a
  click in the sidebar until the page's title, all its plots drawn and nothing
  stale: the first visit (the server's cache cold) and the median of three
  more visits.

For the README, never asserted in tests. Run with BESS_TWIN_DATA set:
``python -m bench.dashboard [ROOT]``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

PAGES = ("fleet", "site", "analytics", "forecasts", "trading", "risk", "credit", "billing", "grid", "backtest")
BROWSER_PAGES = (("analytics", "Analytics", 4), ("site", "Site", 2), ("forecasts", "Forecasts", 1), ("trading", "Trading", 1),
                 ("risk", "Risk", 1), ("credit", "Credit", 2), ("backtest", "Backtest explorer", 3))  # fmt: skip


def _run_folder(root: Path) -> Path:
    out = root / "fleet16"
    if (out / "summary.json").is_file():
        return out
    from typer.testing import CliRunner

    from api.cli import app as cli

    data = yaml.safe_load(Path("scenarios/quickstart.yaml").read_text())
    base = data["sites"]
    data["name"] = "fleet16"
    data["sites"] = [{**base[i % 2], "site_id": f"site{i:02d}",
                      "battery": {**base[i % 2]["battery"], "energy_kwh": base[i % 2]["battery"]["energy_kwh"] * (1 + i // 2)}}
                     for i in range(16)]  # fmt: skip
    scenario = root / "fleet16.yaml"
    scenario.write_text(yaml.safe_dump(data))
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["backtest", str(scenario), "--runtime", "local", "--out", str(out)])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    print(f"backtest: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return out


def _scripts(root: Path) -> dict[str, dict[str, float]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["BESS_TWIN_DASHBOARD_RUNS_DIR"] = str(root)
    os.environ.pop("BESS_TWIN_DASHBOARD_API_URL", None)
    app = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
    timings: dict[str, dict[str, list[float]]] = {p: {"cold": [], "warm": []} for p in PAGES}
    for _ in range(3):
        at = AppTest.from_file(str(app), default_timeout=120)
        at.run()
        for page in PAGES:
            for kind in ("cold", "warm"):
                if kind == "cold":
                    st.cache_data.clear()
                started = time.perf_counter()
                at.switch_page(f"app_pages/{page}.py").run()
                timings[page][kind].append(time.perf_counter() - started)
                if at.exception:
                    raise SystemExit(f"{page}: {at.exception[0].message}")
    return {p: {k: round(statistics.median(v), 3) for k, v in t.items()} for p, t in timings.items()}


def _browser(root: Path) -> dict[str, Any]:
    """Seconds from a sidebar click until the page is drawn in headless Chromium: first visit, and the median of three more."""
    import httpx

    from hardware.mqtt.broker import free_port
    from tests.dashboards.browser import Chromium

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESS_TWIN_DASHBOARD_")}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "dashboard", "--runs", str(root), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        with Chromium() as chromium:
            fleet = chromium.check(base + "/", root / "shot_fleet", 2).ready_s
            first = {name: chromium.switch(name, title, plots) for name, title, plots in BROWSER_PAGES}
            again: dict[str, list[float]] = {name: [] for name, _, _ in BROWSER_PAGES}
            for _ in range(3):
                for name, title, plots in BROWSER_PAGES:
                    again[name].append(chromium.switch(name, title, plots))
        out: dict[str, Any] = {"fleet_full_load_s": round(fleet, 3)}
        for name, _, _ in BROWSER_PAGES:
            out[name] = {"first_s": round(first[name], 3), "again_median_s": round(statistics.median(again[name]), 3)}
        return out
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    """Build (or reuse) the run folder, time the pages, print a JSON report."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/bench_dashboard")
    root.mkdir(parents=True, exist_ok=True)
    run = _run_folder(root)
    summary = json.loads((run / "summary.json").read_text())
    scripts = _scripts(root)
    browser = _browser(root)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "run": {"sites": len(summary["sites"]), "days": summary["period"]["days"], "steps_per_site": summary["period"]["steps"]},
        "script_s": scripts,
        "slowest_script_cold_s": max(v["cold"] for v in scripts.values()),
        "browser": browser,
        "slowest_browser_first_s": max(v["first_s"] for k, v in browser.items() if isinstance(v, dict)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
