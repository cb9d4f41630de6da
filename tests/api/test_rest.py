"""The REST API over real backtest run folders: login, every route x role x own/other site, tokens, hardening, audit.

The matrix enumerates the OpenAPI schema, so a new route without an auth or a
site check fails here.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import time
from pathlib import Path

import httpx
import jwt
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.auth.tokens import issue
from api.cli import app as cli
from api.main import create_app
from api.settings import ApiSettings
from hardware.mqtt.broker import free_port
from twin.etrm.ledger import verify

pytestmark = pytest.mark.data
PASSWORD = "correct horse battery"
USERS = {  # name: (role, sites)
    "root": ("admin", ["*"]),
    "op_vienna": ("operator", ["vienna"]),
    "trader_vienna": ("trader", ["vienna"]),
    "viewer_linz": ("viewer", ["linz"]),
}
SECRET = "x" * 48


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, data_dir) -> Path:
    root = tmp_path_factory.mktemp("runs")
    result = CliRunner().invoke(cli, ["backtest", "scenarios/quickstart.yaml", "--runtime", "local", "--out",
                                      str(root / "qs"), "--start", "2023-03-25", "--end", "2023-04-02"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def api(runs_dir, tmp_path):
    settings = ApiSettings(jwt_secret=SECRET, state_dir=tmp_path / "state", login_per_minute=5, max_body_bytes=4096)
    app = create_app(settings, runs_dir)
    for name, (role, sites) in USERS.items():
        app.state.store.add(name, PASSWORD, role, sites)
    with TestClient(app) as client:
        yield app, client


def _token(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _expected(path: str, user: str | None, own: bool) -> int:
    if user is None:
        return 401
    role = USERS[user][0]
    if path in ("/metrics", "/api/v1/audit/ledger"):
        return 200 if role == "admin" else 403
    if "{site_id}" in path:
        return 200 if own or role == "admin" else 404
    return 200


def _fill(path: str, site: str, number: str) -> str:
    return path.replace("{run_id}", "qs").replace("{site_id}", site).replace("{number}", number)


def test_every_route_x_role_x_own_and_other_site(api, runs_dir):
    app, client = api
    invoices = {s: next(r["number"] for r in map(dict, __import__("csv").DictReader((runs_dir / "qs" / "invoices.csv").open()))
                        if r["site_id"] == s) for s in ("vienna", "linz")}  # fmt: skip
    paths = app.openapi()["paths"]
    checked = 0
    for user in [None, *USERS]:
        headers = _token(client, user) if user else {}
        home = "vienna" if user in ("op_vienna", "trader_vienna") else "linz"
        other = "linz" if home == "vienna" else "vienna"
        for path, methods in paths.items():
            if "get" not in methods:
                continue
            for site, own in ((home, True), (other, False)):
                url = _fill(path, site, invoices[site])
                r = client.get(url, headers=headers)
                assert r.status_code == _expected(path, user, own), (user, url, r.status_code, r.text[:200])
                checked += 1
    assert checked == 5 * 2 * sum("get" in m for m in paths.values())
    assert client.post("/api/v1/auth/token", data={"username": "root", "password": "wrong password!"}).status_code == 401


def test_a_viewer_sees_only_their_sites_and_numbers_match_the_run(api, runs_dir):
    _, client = api
    h = _token(client, "viewer_linz")
    runs = client.get("/api/v1/runs", headers=h).json()
    assert runs == [{"run_id": "qs", "scenario": "quickstart", "start": runs[0]["start"], "end": runs[0]["end"],
                     "days": runs[0]["days"], "sites": ["linz"]}]  # fmt: skip
    summary = json.loads((runs_dir / "qs" / "summary.json").read_text())
    linz = next(s for s in summary["sites"] if s["site_id"] == "linz")
    got = client.get("/api/v1/runs/qs/sites/linz/summary", headers=h).json()
    assert got["revenue_eur"] == pytest.approx(linz["revenue_eur"])
    page = client.get("/api/v1/runs/qs/sites/linz/series?offset=10&limit=5", headers=h).json()
    assert page["total_rows"] == 9 * 24 - 1 and len(page["rows"]) == 5  # 2023-03-26 has 23 hours
    soc = page["rows"][0][page["columns"].index("soc")]
    import pandas as pd

    sites = pd.read_parquet(runs_dir / "qs" / "sites.parquet")
    assert soc == pytest.approx(sites[sites.site_id == "linz"].soc.iloc[10])
    pdf = client.get(f"/api/v1/runs/qs/sites/linz/invoices/{client.get('/api/v1/runs/qs/sites/linz/invoices', headers=h).json()[0]['number']}.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    ledger = client.get("/api/v1/runs/qs/ledger", headers=h).json()
    assert ledger["ok"] and ledger["head"] == summary["etrm"]["ledger"]["head"]
    # another site's invoice number through an own site's path: 404
    vienna_number = next(r for r in __import__("csv").DictReader((runs_dir / "qs" / "invoices.csv").open()) if r["site_id"] == "vienna")["number"]
    assert client.get(f"/api/v1/runs/qs/sites/linz/invoices/{vienna_number}.pdf", headers=h).status_code == 404
    for bad in ("..", "qs%2F..", "nope"):
        assert client.get(f"/api/v1/runs/{bad}/ledger", headers=h).status_code == 404


def test_tampered_expired_foreign_and_none_tokens_are_refused(api):
    app, client = api
    good = _token(client, "root")["Authorization"].split()[1]
    head, body, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = "op_vienna"
    forged = head + "." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + "." + sig
    expired, _ = issue("root", SECRET, 1, now=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    foreign, _ = issue("root", "y" * 48, 15)
    unsigned = jwt.encode({"sub": "root", "exp": 9999999999, "iat": 1, "jti": "a"}, key=None, algorithm="none")
    for token in (forged, expired, foreign, unsigned, "garbage", good + "x"):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).json()["role"] == "admin"
    app.state.store.remove("root")  # a removed user's token stops working at once
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 401


def test_login_rate_limit_body_limit_headers_and_audit(api, tmp_path):
    app, client = api
    for _ in range(5):
        assert client.post("/api/v1/auth/token", data={"username": "op_vienna", "password": "wrong password!"}).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "op_vienna", "password": PASSWORD}).status_code == 429
    big = client.post("/api/v1/auth/token", content=b"x" * 5000, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413

    def endless():  # chunked: no Content-Length to refuse it by, so the bytes are counted as they arrive
        for _ in range(100):
            yield b"x" * 1000

    chunked = client.post("/api/v1/auth/token", content=endless(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert chunked.status_code == 413 and "over" in chunked.json()["detail"]
    r = client.get("/api/v1/me")
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert "server" not in {k.lower() for k in r.headers} or "uvicorn" not in r.headers.get("server", "")
    head = app.state.audit.head
    result = verify(tmp_path / "state" / "audit.sqlite", head)
    assert result.ok and result.entries == 8  # every POST, refused ones included
    db = __import__("sqlite3").connect(tmp_path / "state" / "audit.sqlite")
    payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM ledger")]
    assert [p["status"] for p in payloads] == [401] * 5 + [429, 413, 413]
    assert all(p["user"] in ("op_vienna", None) for p in payloads) and not any(PASSWORD in json.dumps(p) for p in payloads)


def test_no_stack_trace_reaches_a_client(api):
    app, client = api

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500 and "secret" not in r.text and "Traceback" not in r.text


def test_real_uvicorn_on_loopback_and_the_users_cli(runs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BESS_TWIN_API_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BESS_TWIN_NEW_PASSWORD", PASSWORD)
    runner = CliRunner()
    assert runner.invoke(cli, ["users", "add", "ops", "--role", "operator"]).exit_code == 2  # no sites: refused
    added = runner.invoke(cli, ["users", "add", "ops", "--role", "operator", "--sites", "vienna"])
    assert added.exit_code == 0, added.output
    assert "ops" in runner.invoke(cli, ["users", "list"]).output
    monkeypatch.setenv("BESS_TWIN_NEW_PASSWORD", "short")
    assert runner.invoke(cli, ["users", "passwd", "ops"]).exit_code == 2
    port = free_port()
    app = create_app(ApiSettings(jwt_secret=SECRET, state_dir=tmp_path / "state"), runs_dir)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "ops", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/api/v1/runs/qs/sites/vienna/risk", headers=h).status_code == 200
        assert httpx.get(f"{base}/api/v1/runs/qs/sites/linz/risk", headers=h).status_code == 404
        assert httpx.get(f"{base}/metrics", headers=h).status_code == 403
    finally:
        server.should_exit = True
        thread.join(10)
    assert re.fullmatch(r"[0-9a-f]{64}", verify(tmp_path / "state" / "audit.sqlite").head)


def test_merged_exposition_writes_a_shared_family_once_with_every_sample():
    from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from api.metrics import merge_expositions

    texts = []
    for market in ("day-ahead", "DE-LU"):
        r = CollectorRegistry()
        Gauge("bess_twin_realised_pnl_eur", "P&L", ["market"], registry=r).labels(market).set(1.5)
        Counter("bess_twin_trades", "trades", registry=r).inc(2)
        texts.append(generate_latest(r))
    families = list(text_string_to_metric_families(merge_expositions(*texts).decode()))
    names = [f.name for f in families]
    assert sorted(names) == ["bess_twin_realised_pnl_eur", "bess_twin_trades", "bess_twin_trades_created"]  # each once
    pnl = next(f for f in families if f.name == "bess_twin_realised_pnl_eur")
    assert {s.labels["market"]: s.value for s in pnl.samples} == {"day-ahead": 1.5, "DE-LU": 1.5}
    trades = next(f for f in families if f.name == "bess_twin_trades")
    assert [s.value for s in trades.samples if s.name == "bess_twin_trades_total"] == [2.0, 2.0]
