"""Exchange actor: orders, the event stream and Prometheus metrics, local and on Ray."""

from __future__ import annotations

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from actors.backtest.exchange import ExchangeClient
from actors.runtime import LocalRuntime, RayRuntime
from twin.config.intraday import IntradayConfig
from twin.markets.calendar import PublicationCalendar
from twin.markets.exchange.orders import OrderRequest, Side
from twin.markets.products import make_product

START = pd.Timestamp("2030-06-14T10:00Z")
T = int((START - pd.Timedelta(hours=5)).value)


def _samples(text: bytes) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _drive(exchange: ExchangeClient) -> tuple[list, bytes]:
    runtime = exchange.runtime
    product = make_product("DE-LU", START, 60)
    runtime.get([exchange.open_products([product], T)])
    runtime.get([exchange.register("bob", "trader"), exchange.register("alice", "trader")])
    pid = product.product_id
    exchange.submit(OrderRequest("bob", pid, Side.SELL, 1.0, 50.0), T)
    exchange.submit(OrderRequest("bob", pid, Side.SELL, 2.0, 52.0), T + 1)
    ack, bad = runtime.get([
        exchange.submit(OrderRequest("alice", pid, Side.BUY, 1.5, 53.0), T + 2),
        exchange.submit(OrderRequest("alice", pid, Side.BUY, -1.0, 53.0), T + 3),
    ])
    assert [t.price_eur_per_mwh for t in ack.trades] == [50.0, 52.0]
    assert bad.rejection.reason == "INVALID_QUANTITY"
    return runtime.get([exchange.events_since(0), exchange.metrics_text()])


@pytest.mark.parametrize("runtime_name", ["local", pytest.param("ray", marks=pytest.mark.ray)])
def test_exchange_service_events_and_metrics(runtime_name, request) -> None:
    if runtime_name == "ray":
        request.getfixturevalue("ray_session")
        runtime = RayRuntime()
    else:
        runtime = LocalRuntime()
    exchange = ExchangeClient.spawn(runtime, "DE-LU", PublicationCalendar("Europe/Berlin"),
                                    IntradayConfig(enabled=True, mark="day_ahead"), 1.0)
    try:
        events, text = _drive(exchange)
    finally:
        if runtime_name == "ray":
            runtime.close()
    kinds = [e.kind for e in events]
    assert kinds.count("trade") == 2 and kinds.count("order_rejected") == 1
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    m = _samples(text)
    assert m[("bess_twin_orders_total", (("market", "DE-LU"), ("outcome", "accepted"), ("reason", "")))] == 3
    assert m[("bess_twin_orders_total", (("market", "unknown"), ("outcome", "rejected"),
                                          ("reason", "INVALID_QUANTITY")))] == 1
    assert m[("bess_twin_trades_total", (("market", "DE-LU"),))] == 2
    # bob sold 1.0 @ 50 and 0.5 @ 52 = 76 EUR; alice paid it
    assert m[("bess_twin_realised_pnl_eur", (("market", "DE-LU"), ("participant", "bob")))] == pytest.approx(76.0)
    assert m[("bess_twin_exposure_mwh", (("market", "DE-LU"), ("side", "sell")))] == pytest.approx(1.5)
    assert m[("bess_twin_matching_latency_seconds_count", (("market", "DE-LU"),))] == 3
    for name in ("bess_twin_mark_price_eur_per_mwh", "bess_twin_ema_price_eur_per_mwh",
                 "bess_twin_vwap_price_eur_per_mwh"):
        assert any(k[0] == name for k in m)
