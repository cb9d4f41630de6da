"""Pre-trade checks: deliverability (hand-solved), temperature, rate limit, policy file."""

from __future__ import annotations

import math

import pytest

from tests.twin.markets.conftest import T_OPEN, site_state
from twin.config.intraday import TradingPolicy, load_policy
from twin.errors import ConfigError
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.orders import OrderRequest, RejectReason, Side, TimeInForce
from twin.markets.exchange.pretrade import TokenBucket

S = 1_000_000_000


def _buy(product: str, qty: float, who: str = "vienna", price: float = 50.0) -> OrderRequest:
    return OrderRequest(who, product, Side.BUY, qty, price)


def _sell(product: str, qty: float, who: str = "vienna", price: float = 50.0) -> OrderRequest:
    return OrderRequest(who, product, Side.SELL, qty, price)


def test_buy_is_checked_against_headroom_and_sell_against_the_floor(exchange, hours) -> None:
    # SoC 0.5 of 200 kWh; the seed window is 0.15..0.90 (tighter than the site's 0.1..0.9).
    # BUY 0.085 MWh in one hour: +0.085*0.95 = 80.75 kWh -> SoC 0.90375 > 0.90: SOC_HEADROOM.
    p = hours[10].product_id
    ack = exchange.submit(_buy(p, 0.085), T_OPEN)
    assert ack.rejection.reason is RejectReason.SOC_HEADROOM
    assert "soc_max 0.90" in ack.rejection.message
    # 0.084 MWh -> 79.8 kWh -> SoC 0.899: accepted
    assert exchange.submit(_buy(p, 0.084), T_OPEN).accepted
    # SELL 0.067 MWh in hour 9: -67/0.95 = -70.53 kWh -> SoC 0.1474 < 0.15: SOC_FLOOR
    ack = exchange.submit(_sell(hours[9].product_id, 0.067), T_OPEN)
    assert ack.rejection.reason is RejectReason.SOC_FLOOR
    # in hour 11 the intended buy of hour 10 has lifted the SoC to 0.899 first: accepted
    assert exchange.position("vienna", p).buy_open_mwh == pytest.approx(0.084)
    assert exchange.submit(_sell(hours[11].product_id, 0.067), T_OPEN).accepted


def test_power_limits_and_worst_case_of_open_orders(exchange, hours) -> None:
    exchange.update_site(site_state(hours, soc_start=0.15))
    p = hours[3].product_id
    assert exchange.submit(_buy(p, 0.06), T_OPEN).accepted
    ack = exchange.submit(_buy(p, 0.05), T_OPEN)  # 110 kW of charging with the open buy
    assert ack.rejection.reason is RejectReason.CHARGE_POWER
    assert "buy at most 0.040 MWh" in ack.rejection.message
    exchange.update_site(site_state(hours, soc_start=0.9))
    ack = exchange.submit(_sell(hours[4].product_id, 0.101), T_OPEN)
    assert ack.rejection.reason is RejectReason.DISCHARGE_POWER


def test_the_seed_sides_are_not_swapped(exchange, hours) -> None:
    """A full battery may sell and not buy; an empty one may buy and not sell."""
    exchange.update_site(site_state(hours, soc_start=0.9))
    p = hours[5].product_id
    assert exchange.submit(_buy(p, 0.01), T_OPEN).rejection.reason is RejectReason.SOC_HEADROOM
    assert exchange.submit(_sell(p, 0.05), T_OPEN).accepted
    exchange.update_site(site_state(hours, soc_start=0.15))
    q = hours[6].product_id
    assert exchange.submit(_sell(q, 0.01), T_OPEN).rejection.reason is RejectReason.SOC_FLOOR
    assert exchange.submit(_buy(q, 0.05), T_OPEN).accepted


@pytest.mark.parametrize(("temperature_c", "reason"), [(39.9, None), (40.0, RejectReason.DISCHARGE_POWER), (45.0, RejectReason.TEMPERATURE_STOP)])
def test_temperature_derates_power_and_stops_trading(exchange, hours, temperature_c, reason) -> None:
    exchange.update_site(site_state(hours, soc_start=0.9, temperature_c=temperature_c))
    ack = exchange.submit(_sell(hours[7].product_id, 0.06), T_OPEN)  # 60 kW > 50 kW derated
    assert (ack.rejection.reason if ack.rejection else None) is reason


def test_rate_limit_is_a_token_bucket_halved_when_hot(hours) -> None:
    policy = TradingPolicy(per_market_rps=120)  # orders per minute: 2/s, burst 120
    ex = Exchange(policy=policy)
    ex.register("bob", "trader")
    ex.open_products(hours, T_OPEN)
    p = hours[12].product_id
    acks = [ex.submit(_buy(p, 0.001, "bob"), T_OPEN) for _ in range(121)]
    assert all(a.accepted for a in acks[:120])
    assert acks[120].rejection.reason is RejectReason.RATE_LIMITED
    assert "120 orders/min" in acks[120].rejection.message
    assert ex.submit(_buy(p, 0.001, "bob"), T_OPEN + S // 2).accepted  # one token back after 0.5 s
    bucket = TokenBucket(rate_per_s=2.0, capacity=2.0)
    assert bucket.take(0.0, 2.0) and not bucket.take(0.4, 2.0) and bucket.take(1.0, 2.0)


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (OrderRequest("vienna", "", Side.BUY, -1.0, 50.0), RejectReason.INVALID_QUANTITY),
        (OrderRequest("vienna", "", Side.BUY, 0.01, math.nan), RejectReason.INVALID_PRICE),
        (OrderRequest("vienna", "DE-LU:2031-01-01T00:00Z:60", Side.BUY, 0.01, 50.0), RejectReason.UNKNOWN_PRODUCT),
        (OrderRequest("vienna", "", Side.BUY, 0.5, 50.0), RejectReason.CHARGE_POWER),
        (OrderRequest("mallory", "", Side.BUY, 0.01, 50.0), RejectReason.UNKNOWN_PARTICIPANT),
        (OrderRequest("vienna", "", Side.BUY, 0.01, 50.0, TimeInForce.GTC, "APG"), RejectReason.VENUE_CLOSED),
    ],
)
def test_bad_orders_change_nothing(exchange, hours, request_, reason) -> None:
    product = request_.product or hours[9].product_id
    request_ = OrderRequest(request_.participant, product, request_.side, request_.quantity_mwh,
                            request_.price_eur_per_mwh, request_.time_in_force, request_.venue)
    exchange.submit(OrderRequest("bob", hours[9].product_id, Side.SELL, 1.0, 60.0), T_OPEN)
    before = (exchange.state_hash(), exchange.position("vienna", hours[9].product_id))
    ack = exchange.submit(request_, T_OPEN + 1)
    assert not ack.accepted and ack.rejection.reason is reason and ack.order is None
    assert (exchange.state_hash(), exchange.position("vienna", hours[9].product_id)) == before
    assert exchange.events_since(0)[-1].kind == "order_rejected"


def test_gate_closure(exchange, hours) -> None:
    p = hours[0]
    ack = exchange.submit(OrderRequest("bob", p.product_id, Side.BUY, 1.0, 50.0), p.gate_closure_ns)
    assert ack.rejection.reason is RejectReason.MARKET_CLOSED
    exchange.submit(OrderRequest("bob", hours[1].product_id, Side.BUY, 1.0, 50.0), T_OPEN)
    assert exchange.close_due(hours[1].gate_closure_ns) == [p.product_id, hours[1].product_id]
    assert list(exchange.engine.open_orders()) == []


def test_policy_file(tmp_path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("per_market_rps: 60\nsoc_min: 0.2\n")
    assert load_policy(path).per_market_rps == 60
    path.write_text("per_market_rps: -1\n")
    with pytest.raises(ConfigError, match="per_market_rps"):
        load_policy(path)
    with pytest.raises(ConfigError, match="policy file not found"):
        load_policy(tmp_path / "missing.yaml")
