"""REST API benchmark: site-state latency at a fixed request rate, and SSE fan-out, against ``bess-twin serve --live``.

The server runs as its own process (``bess-twin serve --live`` on the live demo
with 3 sites, free ports), as a user would start it; the load comes from this
process with httpx. Reports the p50/p99 latency of ``GET /api/v1/sites/{id}/state``
at a constant 200 requests/s for 10 s, and whether each of 100 concurrent
Server-Sent-Events subscribers received every event id in order. For the
README, never asserted in tests. Run with BESS_TWIN_DATA set.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from hardware.mqtt.broker import free_port

PASSWORD = "bench password 123"


def _scenario(folder: Path) -> Path:
    data = yaml.safe_load(Path("scenarios/live_demo.yaml").read_text())
    for site in data["sites"]:
        if site["device"]["kind"] in ("modbus", "mqtt"):
            site["device"]["port"] = free_port()
    data["live"].update({"history_path": str(folder / "history.sqlite"), "speed_up": 120, "control_interval_s": 0.5})
    path = folder / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def _rate(client: httpx.AsyncClient, url: str, headers: dict[str, str], rate_per_s: float, seconds: float) -> list[float]:
    latencies: list[float] = []

    async def one() -> None:
        t = time.perf_counter()
        r = await client.get(url, headers=headers)
        r.raise_for_status()
        latencies.append(time.perf_counter() - t)

    tasks = []
    start = time.perf_counter()
    for k in range(int(rate_per_s * seconds)):
        await asyncio.sleep(max(0.0, start + k / rate_per_s - time.perf_counter()))
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return latencies


async def _subscriber(base: str, headers: dict[str, str], seconds: float) -> list[int]:
    ids: list[int] = []
    async with httpx.AsyncClient(timeout=seconds + 10) as client, client.stream("GET", f"{base}/api/v1/events", headers=headers) as r:
        deadline = time.monotonic() + seconds
        async for line in r.aiter_lines():
            if line.startswith("id:"):
                ids.append(int(line[3:]))
            if time.monotonic() > deadline:
                break
    return ids


async def _run(base: str) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=50)) as client:
        token = (await client.post(f"{base}/api/v1/auth/token", data={"username": "bench", "password": PASSWORD})).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        latencies = await _rate(client, f"{base}/api/v1/sites/graz/state", headers, 200.0, 10.0)
    subs = await asyncio.gather(*(_subscriber(base, headers, 10.0) for _ in range(100)))
    in_order = all(s == sorted(s) and len(set(s)) == len(s) for s in subs)
    common = set.intersection(*(set(s) for s in subs)) if subs else set()
    span = [i for i in range(max(min(s) for s in subs), min(max(s) for s in subs) + 1)] if all(subs) else []
    return {
        "state_requests": len(latencies),
        "state_p50_ms": statistics.median(latencies) * 1000,
        "state_p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
        "sse_subscribers": len(subs),
        "sse_events_per_subscriber_median": statistics.median(len(s) for s in subs),
        "sse_all_in_order": in_order,
        "sse_every_subscriber_got_every_event_of_the_common_window": all(i in common for i in span),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = _scenario(folder)
        port = free_port()
        env = {**os.environ, "BESS_TWIN_API_STATE_DIR": str(folder / "state"), "BESS_TWIN_API_ADMIN_USER": "bench",
               "BESS_TWIN_API_ADMIN_PASSWORD": PASSWORD, "BESS_TWIN_API_JWT_SECRET": "b" * 48}  # fmt: skip
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--runs", str(folder), "--live", str(scenario),
                                   "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "bench", "password": PASSWORD})
                    if token.status_code == 200 and httpx.get(f"{base}/api/v1/sites/graz/state", headers={
                            "Authorization": f"Bearer {token.json()['access_token']}"}).json().get("quality") == "good":  # fmt: skip
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("server did not come up")
                time.sleep(0.5)
            result = asyncio.run(_run(base))
        finally:
            server.terminate()
            server.wait(30)
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    print(json.dumps({"machine": machine, **result}, indent=2))


if __name__ == "__main__":
    main()
