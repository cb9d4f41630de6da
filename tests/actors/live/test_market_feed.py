"""Price feeds: replay on the 5-minute clock, live APIs on recorded answers, SQLite history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import requests

from actors.live.market_feed import MarketFeedService
from twin.errors import ConfigError, DataError
from twin.io.feeds import AwattarFeed, EnergyChartsFeed, EntsoeFeed, ReplayFeed
from twin.io.price_history import PriceHistory
from twin.markets.calendar import PublicationCalendar

IDX = pd.date_range("2023-06-12T22:00Z", periods=72, freq="h")  # 13-15 June, Berlin days
PRICES = pd.Series([float(i) for i in range(72)], index=IDX)


def test_replay_publishes_each_day_at_gate_plus_45_min() -> None:
    feed = ReplayFeed(PRICES, PublicationCalendar("Europe/Berlin", dt.time(12, 0), dt.timedelta(minutes=45)))
    before = pd.Timestamp("2023-06-13T12:44", tz="Europe/Berlin")
    after = before + pd.Timedelta(minutes=1)
    assert feed.fetch(IDX[0], IDX[-1] + pd.Timedelta(hours=1), before).index.max() == IDX[23]
    got = feed.fetch(IDX[0], IDX[-1] + pd.Timedelta(hours=1), after)
    assert got.index.max() == IDX[47]  # 14 June is now public, 15 June not yet


def test_market_feed_polls_every_5_minutes_into_sqlite(tmp_path) -> None:
    feed = ReplayFeed(PRICES, PublicationCalendar("Europe/Berlin"))
    svc = MarketFeedService("DE-LU", feed, tmp_path / "prices.sqlite", poll_interval_s=300)
    start = pd.Timestamp("2023-06-13T12:00", tz="Europe/Berlin")
    new = svc.run_clock(start, start + pd.Timedelta(hours=2))
    assert new == 48  # 13 June (already public) and 14 June (published at 12:45)
    assert svc.poll(start + pd.Timedelta(hours=2)) == 0  # nothing new, nothing rewritten
    history = PriceHistory(tmp_path / "prices.sqlite").read("DE-LU", "replay")
    pd.testing.assert_series_equal(history, PRICES.iloc[:48], check_names=False, check_freq=False)
    assert svc.mark() == PRICES[IDX[IDX <= (start + pd.Timedelta(hours=2))][-1]]
    assert b"bess_twin_price_updates_total" in svc.metrics_text()


class _Answer:
    def __init__(self, payload):
        self.payload = payload

    def raise_for_status(self):
        if isinstance(self.payload, Exception):
            raise self.payload

    def json(self):
        return self.payload


class _Session:
    def __init__(self, payload):
        self.payload, self.calls = payload, []

    def get(self, url, params, timeout):
        self.calls.append((url, params))
        return _Answer(self.payload)


def test_energy_charts_and_awattar_feeds_on_recorded_answers() -> None:
    unix = [int(ts.timestamp()) for ts in IDX[:3]]
    ec = EnergyChartsFeed("DE-LU", _Session({"unix_seconds": unix, "price": [1.5, None, 3.0],
                                               "unit": "EUR / MWh"}))
    got = ec.fetch(IDX[0], IDX[3], IDX[3])
    assert got.tolist() == [1.5, 3.0] and ec.session.calls[0][1]["bzn"] == "DE-LU"
    ms = [int(ts.timestamp() * 1000) for ts in IDX[:2]]
    aw = AwattarFeed("AT", _Session({"data": [
        {"start_timestamp": m, "end_timestamp": m + 3_600_000, "marketprice": 10.0 + k, "unit": "Eur/MWh"}
        for k, m in enumerate(ms)]}))
    assert aw.fetch(IDX[0], IDX[2], IDX[2]).tolist() == [10.0, 11.0]
    with pytest.raises(DataError, match="failed"):
        EnergyChartsFeed("DE-LU", _Session(requests.HTTPError("503 Service Unavailable"))).fetch(IDX[0], IDX[3], IDX[3])


def test_entsoe_feed_with_a_recorded_client(monkeypatch) -> None:
    class Client:
        def query_day_ahead_prices(self, area, start, end):
            assert area.name == "DE_LU"
            return PRICES.tz_convert("Europe/Brussels")[(PRICES.index >= start) & (PRICES.index < end)]

    got = EntsoeFeed("DE-LU", client=Client()).fetch(IDX[0], IDX[5], IDX[5])
    assert str(got.index.tz) == "UTC" and got.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    monkeypatch.delenv("ENTSOE_API_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="ENTSOE_API_TOKEN"):
        EntsoeFeed("DE-LU")
    monkeypatch.setenv("ENTSOE_API_TOKEN", "not-a-real-token")
    assert type(EntsoeFeed("DE-LU").client).__name__ == "EntsoePandasClient"
