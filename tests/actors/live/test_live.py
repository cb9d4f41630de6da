"""Live mode end to end: three sites over SimPy, Modbus TCP and MQTT, history in SQLite (WAL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from actors.live.loop import run_live
from actors.live.market import LiveMarketService
from api.cli.children import Children
from hardware.mqtt.broker import free_port
from twin.config import load_scenario
from twin.io.feeds import ReplayFeed
from twin.io.price_history import PriceHistory
from twin.io.prices import load_prices
from twin.markets.calendar import PublicationCalendar

pytestmark = pytest.mark.data
LIVE_DEMO = Path("scenarios/live_demo.yaml")


def live_scenario(tmp_path, **live):
    """The shipped live demo on free ports, writing its history under tmp_path."""
    data = yaml.safe_load(LIVE_DEMO.read_text())
    for site in data["sites"]:
        if site["device"]["kind"] in ("modbus", "mqtt"):
            site["device"]["port"] = free_port()
    data["live"].update({"history_path": str(tmp_path / "history.sqlite"), "speed_up": 720,
                         "control_interval_s": 0.25, **live})
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def history(path):
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute(
            "SELECT site_id, event, quality, source, soc, safe, replans, market_utc FROM site_state"
        ).fetchall()
        return db.execute("PRAGMA journal_mode").fetchone()[0], rows
    finally:
        db.close()


def _check(rows, ticks):
    by_site = {}
    for site_id, event, quality, source, soc, safe, replans, market_utc in rows:
        by_site.setdefault(site_id, []).append((event, quality, source, soc, safe, replans, market_utc))
    assert set(by_site) == {"graz", "salzburg", "innsbruck"}
    sources = {"graz": "simulated", "salzburg": "modbus", "innsbruck": "mqtt"}
    for site_id, site_rows in by_site.items():
        ticks_rows = [r for r in site_rows if r[0] == "tick"]
        assert len(ticks_rows) == ticks
        assert site_rows[-1][0] == "stopped"  # 0 kW commanded and confirmed at the end
        good = [r for r in ticks_rows if r[1] == "good"]
        assert len(good) >= 0.8 * ticks and all(r[2] == sources[site_id] for r in good)
        assert all(0.1 - 1e-3 <= r[3] <= 0.9 + 1e-3 for r in good)
        # re-planned on every new MTU it ticked in with good data (however fast the machine is)
        mtus_good = {pd.Timestamp(r[6]).floor("h") for r in good}
        assert max(r[5] for r in ticks_rows) >= len(mtus_good) - 1 >= 0
        assert not any(r[4] for r in ticks_rows[len(ticks_rows) // 2:])  # nobody stuck in the safe state


def test_live_run_local_three_device_kinds(tmp_path, data_dir):
    path = live_scenario(tmp_path, duration_h=2.0)
    scenario = load_scenario(path)
    summary = asyncio.run(run_live(scenario, load_prices(scenario.market), runtime="local", children=Children(scenario, path)))
    assert summary.stop_reason == "duration 2.0 h reached"
    mode, rows = history(tmp_path / "history.sqlite")
    assert mode == "wal" and len(rows) == summary.rows == 3 * summary.ticks + 3
    _check(rows, summary.ticks)
    vintages = pd.read_parquet(tmp_path / "forecasts.parquet")  # the persistence forecasts the sites saw
    assert len(vintages) and (vintages.forecaster == "persistence").all()


@pytest.mark.ray
def test_live_run_on_ray_actors(tmp_path, data_dir, ray_session):
    path = live_scenario(tmp_path, duration_h=1.5)
    scenario = load_scenario(path)
    summary = asyncio.run(run_live(scenario, load_prices(scenario.market), runtime="ray", children=Children(scenario, path)))
    _, rows = history(tmp_path / "history.sqlite")
    _check(rows, summary.ticks)


def test_ctrl_c_stops_cleanly_and_loses_no_history(tmp_path, data_dir):
    path = live_scenario(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "live", str(path), "--runtime", "local"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    db_path = tmp_path / "history.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if db_path.exists() and len(history(db_path)[1]) >= 30:
            break
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stop requested" in out
    _, rows = history(db_path)
    ticks = sum(1 for r in rows if r[0] == "graz" and r[1] == "tick")
    assert f"{ticks} ticks, {3 * ticks + 3} rows" in out.replace("\n", " ")
    assert sorted(r[0] for r in rows if r[1] == "stopped") == ["graz", "innsbruck", "salzburg"]
    assert not list(tmp_path.glob("*.sqlite-wal")) or (tmp_path / "history.sqlite-wal").stat().st_size == 0


def _live_market(prices, scenario, tmp_path, poll_interval_s=300.0) -> LiveMarketService:
    feed = ReplayFeed(prices.price_eur_per_mwh, PublicationCalendar.of_market(scenario.market))
    return LiveMarketService(scenario.market.zone, feed, prices.step, scenario.market.timezone,
                             tmp_path / "prices.sqlite", poll_interval_s)


def test_market_publishes_next_day_after_gate_closure(data_dir, tmp_path):
    scenario = load_scenario(LIVE_DEMO)
    prices = load_prices(scenario.market)
    before = pd.Timestamp("2023-06-14 12:30", tz="Europe/Berlin").tz_convert("UTC")
    after = pd.Timestamp("2023-06-14 12:50", tz="Europe/Berlin").tz_convert("UTC")
    market = _live_market(prices, scenario, tmp_path)
    early = market.window(before, 36)
    assert early["known_steps"] == 35 - 24 + 1 and len(early["price_eur_per_mwh"]) == 36
    window = market.window(after, 36)  # the next poll (5 min on) sees tomorrow
    assert window["known_steps"] == 36  # 11 h of today and all of tomorrow are public
    realised = prices.price_eur_per_mwh.loc[window["mtu_start_utc"]:].iloc[:36].to_numpy()
    assert (window["price_eur_per_mwh"] == realised).all()
    stored = PriceHistory(tmp_path / "prices.sqlite").read(scenario.market.zone, "replay")
    assert stored.index.max() == pd.Timestamp("2023-06-15 23:00", tz="Europe/Berlin")


def test_market_sees_a_publication_only_at_its_next_poll(data_dir, tmp_path):
    scenario = load_scenario(LIVE_DEMO)
    prices = load_prices(scenario.market)
    market = _live_market(prices, scenario, tmp_path, poll_interval_s=600.0)
    at = lambda hhmm: pd.Timestamp(f"2023-06-14 {hhmm}", tz="Europe/Berlin").tz_convert("UTC")  # noqa: E731
    assert market.window(at("12:40"), 36)["known_steps"] == 12  # polled at 12:40: today only
    assert market.window(at("12:46"), 36)["known_steps"] == 12  # published 12:45, next poll 12:50
    assert market.window(at("12:50"), 36)["known_steps"] == 36


def test_market_forecasts_unpublished_hours_with_the_scenarios_model_and_keeps_vintages(data_dir, tmp_path):
    from actors.live.market import LiveMarketService
    from twin.config.forecasting import ForecastingConfig
    from twin.forecast.registry import make_forecaster

    scenario = load_scenario(LIVE_DEMO)
    prices = load_prices(scenario.market)
    calendar = PublicationCalendar.of_market(scenario.market)
    forecaster = make_forecaster("lightgbm", None, ForecastingConfig(lightgbm_window_days=60, cache_dir=tmp_path))
    at = pd.Timestamp("2023-06-14 12:30", tz="Europe/Berlin").tz_convert("UTC")
    market = LiveMarketService(scenario.market.zone, ReplayFeed(prices.price_eur_per_mwh, calendar), prices.step,
                               scenario.market.timezone, tmp_path / "prices.sqlite", 300.0, None, forecaster,
                               calendar.published_day_ahead(prices.price_eur_per_mwh, at))  # fmt: skip
    window = market.window(at, 36)
    again = market.window(at + pd.Timedelta(minutes=1), 36)
    assert window["known_steps"] == 12
    np.testing.assert_array_equal(window["price_eur_per_mwh"], again["price_eur_per_mwh"])
    vintages = market.vintages()
    assert len(vintages) == 24 and (vintages.forecaster == "lightgbm").all()  # made once, for tomorrow's 24 h
    history = calendar.published_day_ahead(prices.price_eur_per_mwh, at)
    rest = pd.DatetimeIndex(vintages.timestamp_utc)
    direct = forecaster.forecast(history.loc[history.index < rest[0]], rest, scenario.market.timezone)
    np.testing.assert_allclose(window["price_eur_per_mwh"][12:], direct)
    realised = prices.price_eur_per_mwh.reindex(rest).to_numpy()
    persistence = prices.price_eur_per_mwh.reindex(rest - pd.Timedelta(days=1)).to_numpy()
    assert np.abs(direct - realised).mean() < 1.5 * np.abs(persistence - realised).mean()


def test_live_etrm_reads_frequency_over_mqtt_and_settles_each_market_day(tmp_path, data_dir):
    """Across a market midnight: the day closes through risk, credit and billing, and the frequency comes from MQTT."""
    import threading

    import paho.mqtt.client as mqtt

    from twin.etrm.ledger import verify

    path = live_scenario(tmp_path, duration_h=6.0, start="2023-06-14T19:00:00", speed_up=1440)
    data = yaml.safe_load(path.read_text())
    port = next(s["device"]["port"] for s in data["sites"] if s["device"]["kind"] == "mqtt")
    data["etrm"] = {
        "billing": {"period": "day"},
        "grid": {"frequency": {"mqtt_topic": "grid/frequency", "mqtt_broker": {"kind": "mqtt", "port": port}}},
        "limits": {"graz": {"var_eur": 0.01}},
    }
    path.write_text(yaml.safe_dump(data))
    scenario = load_scenario(path)
    done = threading.Event()

    def pmu():  # a phasor measurement unit publishing an under-frequency of -250 mHz
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="pmu")
        while not done.is_set():
            try:
                client.connect("127.0.0.1", port)
                break
            except OSError:
                time.sleep(0.2)
        client.loop_start()
        while not done.is_set():
            client.publish("grid/frequency", b"49.75", qos=0)
            time.sleep(0.1)
        client.loop_stop()
        client.disconnect()

    thread = threading.Thread(target=pmu, daemon=True)
    thread.start()
    try:
        summary = asyncio.run(run_live(scenario, load_prices(scenario.market), runtime="local", children=Children(scenario, path)))
    finally:
        done.set()
        thread.join(5)
    etrm = json.loads((tmp_path / "etrm.json").read_text())
    assert summary.etrm == etrm
    credit = pd.read_parquet(tmp_path / "credit.parquet")
    assert sorted({str(d) for d in credit["date"]}) == ["2023-06-14", "2023-06-15"]
    risk = pd.read_parquet(tmp_path / "risk.parquet")
    assert {"graz", "salzburg", "innsbruck", "fleet"} == set(risk["participant"])
    alerts = pd.read_parquet(tmp_path / "risk_alerts.parquet")
    assert (alerts["participant"] == "graz").any()  # its 0.01 EUR VaR limit breaks
    invoices = pd.read_csv(tmp_path / "invoices.csv")
    june14 = invoices[invoices["period_start"] == "2023-06-14"]  # the day closed at market midnight
    assert len(june14) >= 3 and (june14["issued"] == "2023-06-15").all()
    events = pd.read_parquet(tmp_path / "grid_events.parquet")
    assert ((events["kind"] == "frequency") & (events["level"] == "fcr_full")).any()
    check = verify(tmp_path / "ledger.sqlite", etrm["ledger"]["head"])
    assert check.ok and check.entries == etrm["ledger"]["entries"] > 6
