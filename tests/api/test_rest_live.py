"""``serve --live``: a real uvicorn serving the live demo (SimPy, Modbus simulator, MQTT broker) on loopback.

An operator's setpoint reaches the Modbus site, holds, and lapses after its
expiry (60 s of wall time by default, 3 s here); a viewer of one site sees only that site, in the state
routes and the event stream; a viewer cannot post setpoints.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pandas as pd
import pytest
import uvicorn
import yaml

from api.main import create_app
from api.settings import ApiSettings
from hardware.mqtt.broker import free_port
from tests.actors.live.test_live import live_scenario

pytestmark = pytest.mark.data
PASSWORD = "correct horse battery"


@pytest.fixture
def server(tmp_path, data_dir):
    path = live_scenario(tmp_path, speed_up=60, control_interval_s=0.25)
    data = yaml.safe_load(path.read_text())
    data["sites"].append({"site_id": "bregenz", "device": {"kind": "rest"},
                          "battery": {"energy_kwh": 100, "p_charge_max_kw": 50, "p_discharge_max_kw": 50}})  # fmt: skip
    for site in data["sites"]:  # the default 60 s lapse, shortened so the test need not wait a minute of wall time
        site["safety"] = {**site.get("safety", {}), "external_setpoint_expiry_s": 3.0}
    path.write_text(yaml.safe_dump(data))
    app = create_app(ApiSettings(jwt_secret="s" * 48, state_dir=tmp_path / "state"), None, path, "local")
    for name, role, sites in (("op", "operator", ["salzburg", "graz"]), ("view", "viewer", ["graz"])):
        app.state.store.add(name, PASSWORD, role, sites)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not (srv.started and app.state.live.sites and len(app.state.live.latest) == 4):
            assert time.monotonic() < deadline, "live run did not start"
            time.sleep(0.1)
        yield app, base
    finally:
        srv.should_exit = True
        thread.join(60)


def _login(base: str, user: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _until(predicate, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_operator_setpoint_reaches_the_modbus_site_and_lapses(server):
    app, base = server
    op = _login(base, "op")
    state = httpx.get(f"{base}/api/v1/sites/salzburg/state", headers=op).json()
    assert state["quality"] == "good" and 10 <= state["soc_percent"] <= 90
    power = 40.0 if state["soc_percent"] > 50 else -40.0  # a direction the SoC allows
    ack = httpx.post(f"{base}/api/v1/sites/salzburg/setpoint", json={"power_kw": power}, headers=op)
    assert ack.status_code == 202 and ack.json()["expires_in_s"] == 3.0
    held = _until(lambda: (s := httpx.get(f"{base}/api/v1/sites/salzburg/state", headers=op).json())["external"] and s)
    assert held["commanded_kw"] == pytest.approx(power), held
    row = app.state.live.latest["salzburg"]
    assert row["setpoint_confirmed"] == 1 and row["source"] == "modbus"  # the Modbus device took the write
    lapsed_at = time.monotonic()
    _until(lambda: not httpx.get(f"{base}/api/v1/sites/salzburg/state", headers=op).json()["external"])
    assert time.monotonic() - lapsed_at <= 3.5  # wall clock, as a real operator's setpoint
    plan = httpx.get(f"{base}/api/v1/sites/salzburg/plan", headers=op).json()
    assert len(plan["power_kw"]) == len(plan["soc_percent"]) == len(plan["price_eur_per_mwh"]) == 36
    assert 0 < plan["published_steps"] <= 36 and all(10 - 1e-6 <= x <= 90 + 1e-6 for x in plan["soc_percent"])
    n = round(24 / plan["dt_h"])
    assert plan["expected_revenue_24h_eur"] == pytest.approx(sum(p * q for p, q in zip(plan["price_eur_per_mwh"][:n], plan["power_kw"][:n], strict=True)) * plan["dt_h"] / 1000)
    rows = httpx.get(f"{base}/api/v1/sites/salzburg/history?limit=5", headers=op).json()
    assert len(rows) == 5 and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    more = httpx.get(f"{base}/api/v1/sites/salzburg/history?after_id={rows[-1]['id']}&limit=5", headers=op).json()
    assert more and more[0]["id"] > rows[-1]["id"] and all(r["market_utc"] >= rows[-1]["market_utc"] for r in more)
    assert any(r["external"] for r in rows + more + httpx.get(f"{base}/api/v1/sites/salzburg/history?limit=5000", headers=op).json())
    every = httpx.get(f"{base}/api/v1/sites/salzburg/history?limit=5000", headers=op).json()
    ticks = [r for r in every if r["event"] == "tick"]
    stats = httpx.get(f"{base}/api/v1/sites/salzburg/analytics?days=30", headers=op).json()
    spans = [(pd.Timestamp(b["market_utc"]) - pd.Timestamp(a["market_utc"])).total_seconds() / 3600 for a, b in zip(ticks, ticks[1:], strict=False)]
    upto = max(d["steps"] for d in stats["days"]) and sum(d["steps"] for d in stats["days"])
    discharged = sum(max(r["power_kw"] or 0.0, 0.0) * h for r, h in zip(ticks[: upto - 1], spans, strict=False))
    assert stats["total_discharged_kwh"] == pytest.approx(discharged, rel=0.05, abs=0.5)  # the server's history grows meanwhile
    fleet = httpx.get(f"{base}/api/v1/fleet", headers=op).json()
    assert fleet["sites"] == 2 and fleet["capacity_kwh"] == 500.0
    bad = httpx.post(f"{base}/api/v1/sites/salzburg/setpoint", json={"power_kw": "lots"}, headers=op)
    assert bad.status_code == 422
    assert httpx.get(f"{base}/metrics", headers=op).status_code == 403  # admin only
    admin = app.state.store
    admin.add("root", PASSWORD, "admin", ["*"])
    text = httpx.get(f"{base}/metrics", headers=_login(base, "root")).text
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(text)}
    socs = {s.labels["site"]: s.value for s in families["bess_twin_site_soc_ratio"].samples}
    assert {"graz", "salzburg", "innsbruck"} <= set(socs) and all(0.09 <= socs[s] <= 0.91 for s in ("graz", "salzburg", "innsbruck"))
    assert any(s.labels["route"] == "/api/v1/sites/{site_id}/setpoint" for s in families["bess_twin_api_requests"].samples)


def test_a_viewer_sees_one_site_everywhere_and_cannot_steer(server):
    _, base = server
    view = _login(base, "view")
    assert [s["site_id"] for s in httpx.get(f"{base}/api/v1/sites", headers=view).json()] == ["graz"]
    assert httpx.get(f"{base}/api/v1/sites/salzburg/state", headers=view).status_code == 404
    assert httpx.post(f"{base}/api/v1/sites/graz/setpoint", json={"power_kw": 1.0}, headers=view).status_code == 403
    assert httpx.post(f"{base}/api/v1/sites/salzburg/setpoint", json={"power_kw": 1.0}, headers=view).status_code in (403, 404)
    seen = []
    with httpx.stream("GET", f"{base}/api/v1/events", headers=view, timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
            if line.startswith("id:"):
                seen.append(int(line[3:]))
            if len(seen) >= 12:
                break
    ids = [x for x in seen if isinstance(x, int)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {d["site_id"] for d in seen if isinstance(d, dict)} == {"graz"}
    assert httpx.get(f"{base}/api/v1/events").status_code == 401


def test_a_rest_device_pushes_telemetry_with_its_key_and_gets_its_setpoint(server):
    app, base = server
    key = app.state.store.add_device_key("bregenz")
    other = app.state.store.add_device_key("graz")
    url = f"{base}/api/v1/telemetry/bregenz"
    good = {"soc_percent": 62.5, "power_kw": 0.0, "temperature_c": 24.0}
    assert httpx.post(url, json=good).status_code == 401
    assert httpx.post(url, json=good, headers={"X-API-Key": key + "x"}).status_code == 401
    assert httpx.post(url, json=good, headers={"X-API-Key": other}).status_code == 404
    for bad, why in (({**good, "soc_percent": 140}, "soc_percent 140 outside"), ({**good, "power_kw": "high"}, "power_kw must be a number"),
                     ({**good, "timestamp": "yesterday"}, "not ISO 8601"), ([1, 2], "JSON object")):  # fmt: skip
        r = httpx.post(url, json=bad, headers={"X-API-Key": key})
        assert r.status_code == 422 and why in r.text, r.text
    root = "admin"
    app.state.store.add(root, PASSWORD, "admin", ["*"])
    h = _login(base, root)

    def pushed():
        r = httpx.post(url, json=good, headers={"X-API-Key": key})
        assert r.status_code == 200, r.text
        state = httpx.get(f"{base}/api/v1/sites/bregenz/state", headers=h).json()
        return state if state["quality"] == "good" else None

    state = _until(pushed)
    assert state["soc_percent"] == pytest.approx(62.5)
    reply = httpx.post(url, json=good, headers={"X-API-Key": key}).json()
    assert reply["setpoint_kw"] == pytest.approx(app.state.live.latest["bregenz"]["commanded_kw"], abs=1e-6)


def test_live_etrm_routes_and_gauges(server):
    app, base = server
    view = _login(base, "view")
    grid = httpx.get(f"{base}/api/v1/grid", headers=view).json()
    assert 49.8 < grid["frequency_hz"] < 50.2  # the live demo replays the RTE samples
    assert httpx.get(f"{base}/api/v1/risk", headers=view).status_code == 200
    assert httpx.get(f"{base}/api/v1/credit", headers=view).status_code == 403  # the fleet's exposures: traders and admins
    app.state.store.add("boss", PASSWORD, "admin", ["*"])
    boss = _login(base, "boss")
    assert httpx.get(f"{base}/api/v1/credit", headers=boss).status_code == 200
    text = httpx.get(f"{base}/metrics", headers=boss).text
    assert "bess_twin_grid_frequency_hz" in text and "bess_twin_site_soc_ratio" in text
    for seed_name in ("mark_price_eur_per_mwh", "ema_price_eur_per_mwh", "vwap_price_eur_per_mwh", "exposure_mwh", "realised_pnl_eur"):
        assert f"# TYPE bess_twin_{seed_name} gauge" in text  # G_MARK, G_EMA, G_VWAP, G_EXPO_E/N, G_PNL_REAL
    assert "# TYPE bess_twin_price_updates_total counter" in text  # C_EVENTS
    from prometheus_client.parser import text_string_to_metric_families

    names = [f.name for f in text_string_to_metric_families(text)]
    assert len(names) == len(set(names))  # one exposition, no family twice


FUTURE = "DE-LU:2030-01-01T00:00Z:60"  # well-formed, never opened: no side effect for anyone
WRITES = {  # (method, path): (roles besides admin, success status, body)
    ("post", "/api/v1/sites/{site_id}/setpoint"): (("operator",), 202, {"power_kw": 0.0}),
    ("post", "/api/v1/sites/{site_id}/strategy"): (("operator",), 200, {"strategy": "arbitrage"}),
    ("post", "/api/v1/sites/{site_id}/strategy/auto"): (("operator",), 200, {"enabled": False}),
    ("post", "/api/v1/sites/{site_id}/orders"): (("trader",), 409, {"product": FUTURE, "side": "BUY", "quantity_mwh": 0.1, "price_eur_per_mwh": 1.0}),
    ("delete", "/api/v1/sites/{site_id}/orders/{order_id}"): (("trader",), 404, None),
    ("put", "/api/v1/sites/{site_id}/device"): ((), 422, {"timeout_s": 2.0}),  # graz is simulated, innsbruck MQTT: no timeout_s
    ("post", "/api/v1/sites/{site_id}/device/test"): ((), 200, None),
}
ADMIN_ONLY = ("/metrics", "/api/v1/audit/ledger", "/api/v1/sites/{site_id}/device")


def test_every_live_route_x_role_x_own_and_other_site(server):
    """The OpenAPI schema of the live server, walked for every caller: a route without its checks fails here."""
    app, base = server
    for name, role, sites in (("trader_g", "trader", ["graz"]), ("admin_g", "admin", ["*"])):
        app.state.store.add(name, PASSWORD, role, sites)
    callers = {None: None, "view": "viewer", "op": "operator", "trader_g": "trader", "admin_g": "admin"}
    home = {"view": "graz", "op": "salzburg", "trader_g": "graz", "admin_g": "graz", None: "graz"}
    paths = app.openapi()["paths"]

    def expected(path: str, method: str, role: str | None, own: bool) -> int:
        if path.startswith("/api/v1/telemetry"):
            return 401  # a device key, never a bearer token
        if role is None:
            return 401
        if path in ADMIN_ONLY or "/device" in path:
            if role != "admin":
                return 403
            return WRITES[(method, path)][1] if (method, path) in WRITES else 200
        if "{site_id}" in path and not own and role != "admin":
            return 404
        if path == "/api/v1/credit":
            return 200 if role in ("trader", "admin") else 403
        if (method, path) in WRITES:
            roles, ok, _ = WRITES[(method, path)]
            return ok if role == "admin" or role in roles else 403
        if "{product}" in path or "{number}" in path:
            return 404  # the route's check passed; the product or invoice does not exist
        return 200

    checked = 0
    for user, role in callers.items():
        headers = _login(base, user) if user else {}
        for path, methods in paths.items():
            if path == "/api/v1/auth/token":
                continue
            for method in methods:
                assert method == "get" or (method, path) in WRITES or path.startswith("/api/v1/telemetry"), f"new write route {method} {path}: add it to WRITES"
                for site, own in ((home[user], True), ("innsbruck", False)):
                    url = base + path.replace("{site_id}", site).replace("{product}", FUTURE).replace("{number}", "INV-0").replace("{order_id}", "999999")
                    if path == "/api/v1/events" and role is not None:
                        with httpx.stream("GET", url, headers=headers, timeout=10) as r:
                            status = r.status_code
                    elif method == "get":
                        status = httpx.get(url, headers=headers).status_code
                    else:
                        body = WRITES.get((method, path), (None, None, {"power_kw": 0.0}))[2]
                        status = httpx.request(method.upper(), url, headers=headers, json=body).status_code
                    assert status == expected(path, method, role, own), (user, method, url, status)
                    checked += 1
    assert checked >= 5 * 2 * 25


def test_admin_reads_device_config_and_tests_the_connections(server):
    app, base = server
    app.state.store.add("dev_admin", PASSWORD, "admin", ["*"])
    h = _login(base, "dev_admin")
    modbus = httpx.get(f"{base}/api/v1/sites/salzburg/device", headers=h).json()
    assert modbus["kind"] == "modbus" and modbus["config"]["port"] > 0
    ok = httpx.post(f"{base}/api/v1/sites/salzburg/device/test", headers=h).json()
    assert ok["ok"] and ok["latency_ms"] > 0 and ok["target"] == f"127.0.0.1:{modbus['config']['port']}"
    assert httpx.post(f"{base}/api/v1/sites/innsbruck/device/test", headers=h).json()["ok"]  # its MQTT broker
    assert httpx.post(f"{base}/api/v1/sites/graz/device/test", headers=h).json()["target"] is None  # simulated
    assert httpx.get(f"{base}/api/v1/sites/nowhere/device", headers=h).status_code == 404


def test_operator_switches_strategy_and_auto_mode(server):
    app, base = server
    h = _login(base, "op")
    state = httpx.get(f"{base}/api/v1/sites/salzburg/strategy", headers=h).json()
    assert state["strategy"] == "arbitrage" and not state["auto"] and "arbitrage" in state["available"]
    bad = httpx.post(f"{base}/api/v1/sites/salzburg/strategy", headers=h, json={"strategy": "peak_shaving"})
    assert bad.status_code == 409 and "choose one of" in bad.json()["detail"]
    assert httpx.post(f"{base}/api/v1/sites/salzburg/strategy", headers=h, json={"strategy": "stacked"}).json()["strategy"] == "stacked"
    _until(lambda: httpx.get(f"{base}/api/v1/sites/salzburg/state", headers=h).json()["strategy"] == "stacked")
    auto = httpx.post(f"{base}/api/v1/sites/salzburg/strategy/auto", headers=h, json={"enabled": True}).json()
    assert auto["auto"]
    values = _until(lambda: (v := httpx.get(f"{base}/api/v1/sites/salzburg/strategy", headers=h).json()["values_eur"]) and "idle" in v and v)
    assert set(values) - {"idle"} <= set(auto["candidates"])
    history = httpx.get(f"{base}/api/v1/sites/salzburg/optimisations?limit=5", headers=h).json()
    assert history[0]["auto"] and history[0]["strategy"] in auto["candidates"] and 0 <= history[0]["soc"] <= 1
    assert any(o["strategy"] == "stacked" and not o["auto"] for o in httpx.get(f"{base}/api/v1/sites/salzburg/optimisations", headers=h).json())
    forecast = httpx.get(f"{base}/api/v1/sites/salzburg/forecast", headers=h).json()
    assert len(forecast["price_eur_per_mwh"]) == len(forecast["published"]) >= 24 and forecast["published"][0]
    assert httpx.post(f"{base}/api/v1/sites/salzburg/strategy", headers=_login(base, "view"), json={"strategy": "stacked"}).status_code == 404


def test_traders_trade_on_the_live_exchange_and_the_sites_deliver_it(server):
    import asyncio

    import websockets

    app, base = server
    for name, sites in (("trader_g", ["graz"]), ("trader_s", ["salzburg"])):
        app.state.store.add(name, PASSWORD, "trader", sites)
    tg, ts = _login(base, "trader_g"), _login(base, "trader_s")
    products = _until(lambda: httpx.get(f"{base}/api/v1/exchange/products", headers=tg).json())
    product = products[2]["product"]  # its gate closes 2 market hours on (2 min of wall time): not during the test
    received: list[dict] = []

    async def listen() -> None:
        async with websockets.connect(f"ws://{base[7:]}/api/v1/exchange/ws", additional_headers={"Authorization": tg["Authorization"]}) as ws:
            while len([m for m in received if m["kind"] == "trade"]) < 1:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=20)))

    listener = threading.Thread(target=asyncio.run, args=(listen(),))
    listener.start()
    sse: list[str] = []

    def read_sse() -> None:
        with httpx.stream("GET", f"{base}/api/v1/events", headers=tg, timeout=60) as stream:
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    sse.append(line[7:])
                if "trade" in sse:
                    return

    sse_reader = threading.Thread(target=read_sse, daemon=True)
    sse_reader.start()
    time.sleep(1.0)
    too_big = httpx.post(f"{base}/api/v1/sites/graz/orders", headers=tg, json={"product": product, "side": "SELL", "quantity_mwh": 5.0, "price_eur_per_mwh": 10.0})
    assert too_big.status_code == 409 and set(too_big.json()["detail"]["reasons"]) & {"DISCHARGE_POWER", "SOC_FLOOR"}
    assert httpx.get(f"{base}/api/v1/exchange/book/{product}", headers=tg).json()["asks"] == []  # book unchanged
    product = _room_for_both(base, tg, ts, products[2:])
    assert httpx.get(f"{base}/api/v1/exchange/book/{product}", headers=ts).json()["asks"][0]["quantity_mwh"] == pytest.approx(0.02)
    assert httpx.post(f"{base}/api/v1/sites/graz/orders", headers=ts, json={"product": product, "side": "BUY", "quantity_mwh": 0.02, "price_eur_per_mwh": 10.0}).status_code == 404
    buy = httpx.post(f"{base}/api/v1/sites/salzburg/orders", headers=ts, json={"product": product, "side": "BUY", "quantity_mwh": 0.02, "price_eur_per_mwh": 20.0}).json()
    assert buy["trades"][0]["price_eur_per_mwh"] == 10.0 and buy["trades"][0]["seller"] == "other"  # salzburg's trader does not see graz
    listener.join(30)
    trade = next(m for m in received if m["kind"] == "trade")
    assert trade["data"]["seller"] == "graz" and trade["data"]["buyer"] == "other"
    assert any(m["kind"] == "book" for m in received)
    mine = _until(lambda: httpx.get(f"{base}/api/v1/exchange/trades", headers=tg).json())  # booked at the next tick
    assert mine[0]["seller"] == "graz" and mine[0]["quantity_mwh"] == pytest.approx(0.02)
    resting = httpx.post(f"{base}/api/v1/sites/graz/orders", headers=tg, json={"product": product, "side": "BUY", "quantity_mwh": 0.01, "price_eur_per_mwh": 1.0}).json()
    oid = resting["order"]["order_id"]
    assert httpx.delete(f"{base}/api/v1/sites/salzburg/orders/{oid}", headers=ts).status_code == 404  # not salzburg's
    assert httpx.delete(f"{base}/api/v1/sites/graz/orders/{oid}", headers=tg).json()["order"]["status"] == "CANCELLED"
    # the trade is in both sites' schedules for its MTU: graz discharges 20 kW more, salzburg charges 20 kW more
    start = pd.Timestamp(product.split(":", 1)[1].rsplit(":", 1)[0].replace("Z", "+00:00"))

    def traded(site: str) -> float:
        plan = httpx.get(f"{base}/api/v1/sites/{site}/plan", headers=tg if site == "graz" else ts).json()
        offset = round((start - pd.Timestamp(plan["mtu_start_utc"])) / pd.Timedelta(hours=plan["dt_h"]))
        return plan["traded_kw"][offset]

    assert _until(lambda: traded("graz") == pytest.approx(20.0)) and _until(lambda: traded("salzburg") == pytest.approx(-20.0))
    sse_reader.join(60)
    assert "trade" in sse and "order" in sse and "state" in sse
    ws_bad = asyncio.run(_ws_refused(base))
    assert ws_bad == 1008


def _order(base: str, h: dict, site: str, product: str, side: str, price: float) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/sites/{site}/orders", headers=h, json={"product": product, "side": side, "quantity_mwh": 0.02, "price_eur_per_mwh": price})


def _room_for_both(base: str, tg: dict, ts: dict, products: list[dict]) -> str:
    """A product where graz's plan leaves room to sell 0.02 MWh and salzburg's to buy it; graz's ask of 10 EUR/MWh rests there."""
    for p in (p["product"] for p in products):
        sell = _order(base, tg, "graz", p, "SELL", 10.0)
        if sell.status_code != 201:
            continue
        probe = _order(base, ts, "salzburg", p, "BUY", 5.0)  # below the ask: rests, matches nothing
        if probe.status_code == 201:
            assert httpx.delete(f"{base}/api/v1/sites/salzburg/orders/{probe.json()['order']['order_id']}", headers=ts).status_code == 200
            return p
        assert httpx.delete(f"{base}/api/v1/sites/graz/orders/{sell.json()['order']['order_id']}", headers=tg).status_code == 200
    raise AssertionError("no product with room for both sites")


async def _ws_refused(base: str) -> int:
    import websockets

    async with websockets.connect(f"ws://{base[7:]}/api/v1/exchange/ws") as ws:
        await ws.send(json.dumps({"token": "forged"}))
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
    return 0


def test_admin_changes_a_device_at_run_time_and_verifies_the_ledgers(server):
    app, base = server
    app.state.store.add("dev_admin2", PASSWORD, "admin", ["*"])
    h = _login(base, "dev_admin2")
    port = httpx.get(f"{base}/api/v1/sites/salzburg/device", headers=h).json()["config"]["port"]
    wrong = httpx.put(f"{base}/api/v1/sites/salzburg/device", headers=h, json={"prefix": "x"})
    assert wrong.status_code == 422 and "prefix" in wrong.text
    assert httpx.put(f"{base}/api/v1/sites/salzburg/device", headers=h, json={"password_env": "X"}).status_code == 422
    moved = httpx.put(f"{base}/api/v1/sites/salzburg/device", headers=h, json={"port": free_port()}).json()
    assert moved["config"]["port"] != port
    _until(lambda: httpx.get(f"{base}/api/v1/sites/salzburg/state", headers=h).json()["safe"], timeout_s=60)  # nobody listens there
    assert httpx.put(f"{base}/api/v1/sites/salzburg/device", headers=h, json={"port": port}).status_code == 200
    _until(lambda: httpx.get(f"{base}/api/v1/sites/salzburg/state", headers=h).json()["quality"] == "good", timeout_s=60)
    etrm = httpx.get(f"{base}/api/v1/ledger", headers=h).json()
    assert etrm["ok"]
    audit = httpx.get(f"{base}/api/v1/audit/ledger", headers=h).json()
    assert audit["ok"] and audit["entries"] == 5 and audit["head"] == audit["expected_head"]  # one login, four PUTs
