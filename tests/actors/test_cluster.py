"""A real two-node Ray cluster on loopback: a 16-site backtest through ``--ray-address``.

The head and a worker node are started with ``ray start --block`` as separate
processes with one CPU each, token authentication on (``RAY_AUTH_MODE=token``
and the shared secret in ``RAY_AUTH_TOKEN``, as on any cluster since Ray 2.59).
The site groups must run on both nodes and give exactly the local runtime's
results. Terminating a ``--block`` process stops its node (``ray stop`` would
stop every Ray instance on the machine, the test session's too).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml

from twin.config import load_scenario
from twin.io.prices import load_prices

REPO = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive_nodes(address: str, env: dict[str, str]) -> int:
    code = f"import ray; ray.init(address={address!r}, logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    return int(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else 0


def _wait_for_nodes(address: str, env: dict[str, str], n: int, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _alive_nodes(address, env) >= n:
            return
        time.sleep(1.0)
    raise AssertionError(f"the cluster at {address} did not reach {n} alive nodes within {timeout_s:.0f} s")


@pytest.fixture
def cluster():
    """Head and worker node on 127.0.0.1, each in its own process; yields (address, env)."""
    temp_dir = tempfile.mkdtemp(prefix="bt-ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    token = secrets.token_hex(32)
    env = os.environ | {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    logs = Path(temp_dir)
    head = subprocess.Popen(
        [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp_dir}", *common],
        env=env, stdout=(logs / "head.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    nodes = [head]
    try:
        _wait_for_nodes(address, env, 1)
        worker = subprocess.Popen(
            [RAY, "start", f"--address={address}", *common],
            env=env, stdout=(logs / "worker.log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        nodes.insert(0, worker)
        _wait_for_nodes(address, env, 2)
        yield address, env
    finally:
        for proc in nodes:  # worker first, then the head
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        leftover = [p.pid for p in psutil.process_iter(["cmdline"]) if temp_dir in " ".join(p.info["cmdline"] or [])]
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not leftover, f"Ray processes of the test cluster still run: {leftover}"


def _fleet_scenario(tmp_path: Path) -> tuple[Path, str, str]:
    """16 sites on the quickstart's market, over 20 days of its data; the scenario and its period."""
    base = load_scenario(REPO / "scenarios" / "quickstart.yaml")
    index = load_prices(base.market).index.tz_convert(base.market.timezone)
    start = (index[0] + pd.Timedelta(days=10)).date()
    end = start + pd.Timedelta(days=19)
    raw = yaml.safe_load((REPO / "scenarios" / "quickstart.yaml").read_text())
    raw["name"] = "cluster16"
    raw["sites"] = [
        {"site_id": f"site{i:02d}", "battery": {"energy_kwh": 100 + 25 * i, "p_charge_max_kw": 50 + 10 * (i % 4),
                                                "p_discharge_max_kw": 50 + 10 * (i % 4), "soc_min": 0.1, "soc_max": 0.9}}
        for i in range(16)
    ]
    path = tmp_path / "cluster16.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path, start.isoformat(), end.isoformat()


def _backtest(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "api.cli", "backtest", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.cluster
def test_a_16_site_backtest_runs_on_both_nodes_of_a_real_cluster(cluster, tmp_path, data_dir):
    address, env = cluster
    scenario, start, end = _fleet_scenario(tmp_path)
    period = ["--start", start, "--end", end]
    _backtest([str(scenario), "--ray-address", address, "--sites-per-actor", "2", "--out", str(tmp_path / "ray"), *period], env)
    _backtest([str(scenario), "--runtime", "local", "--out", str(tmp_path / "local"), *period], env)
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["nodes"] == 2 and summary["sites_per_actor"] == 2
    remote = pd.read_parquet(tmp_path / "ray" / "sites.parquet")
    local = pd.read_parquet(tmp_path / "local" / "sites.parquet")
    assert remote["site_id"].nunique() == 16
    pd.testing.assert_frame_equal(remote, local)
