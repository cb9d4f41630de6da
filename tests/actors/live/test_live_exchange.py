"""The live internal exchange: products open ahead of gate closure, deliverability on top of the plan, trades as power."""

from __future__ import annotations

import pandas as pd
import pytest

from actors.live.exchange import LiveExchangeService
from twin.config import Scenario

NOW = pd.Timestamp("2023-06-14T10:20Z")


@pytest.fixture
def service(tmp_path):
    scenario = Scenario.model_validate({
        "name": "x", "market": {"zone": "DE-LU", "prices": {"path": str(tmp_path / "unused.csv")}},
        "sites": [
            {"site_id": "a", "battery": {"energy_kwh": 200, "p_charge_max_kw": 100, "p_discharge_max_kw": 100}},
            {"site_id": "b", "battery": {"energy_kwh": 200, "p_charge_max_kw": 100, "p_discharge_max_kw": 100}},
        ],
        "etrm": {"enabled": False},
    })  # fmt: skip
    svc = LiveExchangeService(scenario, 1.0, tmp_path / "exchange.sqlite")
    yield svc
    svc.close()


def _plan(base_kw: float, soc: float = 0.5) -> dict:
    starts = [str(NOW.floor("h") + pd.Timedelta(hours=i)) for i in range(6)]
    return {"mtu_start_utc": starts, "soc_start": [soc] * 6, "base_power_kw": [base_kw] * 6}


def test_products_open_until_gate_closure_and_trades_come_back_as_power(service):
    trades = service.on_tick(NOW, 4, {"a": _plan(0.0), "b": _plan(0.0)})
    assert trades == {}
    open_ = [p["product"] for p in service.products()]
    # 11:00 closes at gate closure (60 min before delivery) = 10:00, already past: 12:00..14:00 are open
    assert open_ == [f"DE-LU:2023-06-14T{h}:00Z:60" for h in (12, 13, 14)]
    product = open_[0]
    sell = service.submit("a", product, "SELL", 0.05, 80.0)
    assert sell["accepted"] and sell["order"]["open_mwh"] == pytest.approx(0.05)
    buy = service.submit("b", product, "BUY", 0.05, 90.0)
    assert buy["accepted"] and buy["trades"][0]["price_eur_per_mwh"] == 80.0  # the resting order's price
    trades = service.on_tick(NOW, 4, {"a": _plan(0.0), "b": _plan(0.0)})
    start = "2023-06-14T12:00:00+00:00"
    assert trades == {"a": {start: pytest.approx(50.0)}, "b": {start: pytest.approx(-50.0)}}  # 0.05 MWh in 1 h
    assert service.recent_trades(["a"])[0]["seller"] == "a"
    assert service.on_tick(NOW, 4, {"a": _plan(0.0), "b": _plan(0.0)}) == {}  # each trade once


def test_an_order_the_battery_cannot_deliver_on_top_of_its_plan_is_rejected_and_the_book_unchanged(service):
    service.on_tick(NOW, 4, {"a": _plan(90.0, soc=0.8), "b": _plan(0.0)})  # a already discharges 90 of its 100 kW
    product = service.products()[0]["product"]
    before = service.book(product)
    ack = service.submit("a", product, "SELL", 0.02, 50.0)  # 20 kW more: over the limit
    assert not ack["accepted"] and "DISCHARGE_POWER" in ack["reasons"] and "a" in ack["message"]
    assert service.book(product) == before
    assert service.orders(["a"]) == []
    assert service.submit("a", product, "SELL", 0.01, 50.0)["accepted"]  # 10 kW fits


def test_cancel_only_own_open_orders(service):
    service.on_tick(NOW, 4, {"a": _plan(0.0), "b": _plan(0.0)})
    product = service.products()[0]["product"]
    oid = service.submit("a", product, "BUY", 0.01, 10.0)["order"]["order_id"]
    assert service.cancel("b", oid)["reasons"] == ["NOT_OWNER"]
    assert service.orders(["a"])[0]["order_id"] == oid
    assert service.cancel("a", oid)["accepted"]
    assert service.orders(["a"]) == [] and service.orders(["a"], open_only=False)[0]["status"] == "CANCELLED"
    assert [e["kind"] for e in service.events_since(0)][-1] in ("order_cancelled", "book")
