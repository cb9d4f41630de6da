"""Trading bridge: routing by venue, EPEX day-ahead gate and clearing, APG schedule file."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.twin.markets.conftest import T_OPEN
from twin.markets.exchange.orders import OrderRequest, RejectReason, Side, TimeInForce, Venue
from twin.markets.products import product_id
from twin.markets.venues import ApgScheduleVenue, EpexDayAheadVenue, InternalVenue, TradingBridge

DAY_UTC = pd.date_range("2023-06-13T22:00Z", periods=24, freq="h")  # 2023-06-14 in Berlin


def _da_prices() -> pd.Series:
    return pd.Series([100.0 + h for h in range(24)], index=DAY_UTC)


def test_bridge_routes_by_venue(exchange, hours) -> None:
    bridge = TradingBridge([InternalVenue(exchange), EpexDayAheadVenue(_da_prices())])
    p = hours[14].product_id
    exchange.submit(OrderRequest("bob", p, Side.SELL, 0.05, 80.0), T_OPEN)
    ack = bridge.route(OrderRequest("lp", p, Side.BUY, 0.05, 81.0), T_OPEN + 1)
    assert ack.accepted and ack.fills[0].price_eur_per_mwh == 80.0
    apg = OrderRequest("lp", p, Side.BUY, 0.05, 81.0, TimeInForce.GTC, Venue.APG)
    assert bridge.route(apg, T_OPEN).rejection.reason is RejectReason.VENUE_CLOSED


def test_epex_day_ahead_gate_and_price_taker_clearing() -> None:
    venue = EpexDayAheadVenue(_da_prices(), "Europe/Berlin", dt.time(12, 0))
    gate = pd.Timestamp("2023-06-13T12:00", tz="Europe/Berlin")
    assert venue.gate_closure(DAY_UTC[5]) == gate
    before = int(gate.value) - 1
    h3, h4 = (product_id("DE-LU", DAY_UTC[h], 60) for h in (3, 4))
    assert venue.submit(OrderRequest("a", h3, Side.BUY, 0.1, 103.0), before).accepted  # limit = price
    assert venue.submit(OrderRequest("a", h4, Side.BUY, 0.1, 103.99), before).accepted  # below 104
    assert venue.submit(OrderRequest("b", h4, Side.SELL, 0.2, -500.0), before).accepted
    late = venue.submit(OrderRequest("a", h3, Side.BUY, 0.1, 200.0), int(gate.value))
    assert late.rejection.reason is RejectReason.VENUE_CLOSED and "intraday" in late.rejection.message
    fills = venue.clear(dt.date(2023, 6, 14))
    assert [(f.participant, f.side, f.quantity_mwh, f.price_eur_per_mwh) for f in fills] == [
        ("a", Side.BUY, 0.1, 103.0),
        ("b", Side.SELL, 0.2, 104.0),
    ]
    assert venue.clear(dt.date(2023, 6, 14)) == []


def test_apg_schedule_file(tmp_path) -> None:
    venue = ApgScheduleVenue("AT-BG-1")
    start = pd.Timestamp("2023-06-14T00:00", tz="Europe/Vienna").tz_convert("UTC")
    before = int(pd.Timestamp("2023-06-13T14:29", tz="Europe/Vienna").value)
    hour = product_id("AT", start, 60)
    assert venue.submit(OrderRequest("graz", hour, Side.SELL, 0.1, 0.0), before).accepted
    assert venue.submit(OrderRequest("graz", product_id("AT", start, 15), Side.BUY, 0.01, 0.0), before).accepted
    late = venue.submit(OrderRequest("graz", hour, Side.SELL, 0.1, 0.0), before + 60 * 10**9)
    assert late.rejection.reason is RejectReason.VENUE_CLOSED
    path = venue.export(dt.date(2023, 6, 14), tmp_path)
    text = path.read_text().splitlines()
    assert text[0] == "# bess-twin APG schedule v1" and text[4].startswith("balance_group,")
    rows = pd.read_csv(path, comment="#")
    assert len(rows) == 4
    assert rows.energy_mwh.tolist() == pytest.approx([0.025 - 0.01, 0.025, 0.025, 0.025])
    assert rows.power_mw.iloc[1] == pytest.approx(0.1)
    assert rows.delivery_start_utc.iloc[0] == "2023-06-13T22:00:00Z"
