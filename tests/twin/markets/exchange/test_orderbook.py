"""Matching engine: hand-solved cases, hypothesis invariants, differential test."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.twin.markets.exchange.reference_book import ReferenceExchange
from twin.markets.exchange.engine import EngineConfig, MatchingEngine
from twin.markets.exchange.orders import (
    CancelReason,
    Order,
    OrderRequest,
    OrderStatus,
    Rejection,
    RejectReason,
    Side,
    TimeInForce,
)

P = "DE-LU:2023-06-14T10:00Z:60"
T0 = 1_686_736_800_000_000_000


def _engine(**kw: object) -> MatchingEngine:
    engine = MatchingEngine(EngineConfig(**kw))  # type: ignore[arg-type]
    engine.open_product(P)
    return engine


def _req(who: str, side: str, qty: float, price: float, tif: str = "GTC", product: str = P):
    return OrderRequest(who, product, Side(side), qty, price, TimeInForce(tif))


def test_price_time_priority_partial_fills_and_maker_price() -> None:
    e = _engine()
    a = e.submit(_req("a", "SELL", 1.0, 50.0), T0).result
    b = e.submit(_req("b", "SELL", 1.0, 49.0), T0 + 1).result
    c = e.submit(_req("c", "SELL", 1.0, 50.0), T0 + 2).result
    ex = e.submit(_req("d", "BUY", 2.5, 51.0), T0 + 3)
    # best price first (b at 49), then the older of the two at 50 (a), then c partially
    assert [(t.sell_order_id, t.quantity_lots, t.price_eur_per_mwh) for t in ex.trades] == [
        (b.order_id, 1000, 49.0),
        (a.order_id, 1000, 50.0),
        (c.order_id, 500, 50.0),
    ]
    assert ex.result.status is OrderStatus.FILLED
    assert c.status is OrderStatus.PARTIALLY_FILLED and c.open_lots == 500
    d = e.depth(P)
    assert d.asks[0].price_eur_per_mwh == 50.0 and d.asks[0].quantity_mwh == pytest.approx(0.5)
    assert d.bids == ()


def test_midpoint_rule_averages_the_two_limits() -> None:
    e = _engine(price_rule="midpoint")
    e.submit(_req("a", "BUY", 1.0, 60.0), T0)
    ex = e.submit(_req("b", "SELL", 1.0, 55.01), T0 + 1)
    assert ex.trades[0].price_eur_per_mwh == pytest.approx(57.505)


def test_self_trade_prevention_cancel_newest_and_oldest() -> None:
    e = _engine()
    own = e.submit(_req("a", "SELL", 1.0, 50.0), T0).result
    other = e.submit(_req("b", "SELL", 1.0, 51.0), T0 + 1).result
    ex = e.submit(_req("a", "BUY", 2.0, 52.0), T0 + 2)
    assert ex.trades == [] and ex.result.cancel_reason is CancelReason.SELF_TRADE
    assert own.is_open and other.is_open

    e = _engine(self_trade="cancel_oldest")
    own = e.submit(_req("a", "SELL", 1.0, 50.0), T0).result
    e.submit(_req("b", "SELL", 1.0, 51.0), T0 + 1)
    ex = e.submit(_req("a", "BUY", 2.0, 52.0), T0 + 2)
    assert own.status is OrderStatus.CANCELLED and own.cancel_reason is CancelReason.SELF_TRADE
    assert [t.seller for t in ex.trades] == ["b"]
    assert ex.result.open_lots == 1000  # the rest rests at 52


def test_ioc_and_fok() -> None:
    e = _engine()
    e.submit(_req("a", "SELL", 1.0, 50.0), T0)
    ioc = e.submit(_req("b", "BUY", 3.0, 50.0, "IOC"), T0 + 1)
    assert ioc.result.filled_lots == 1000 and ioc.result.cancelled_lots == 2000
    assert ioc.result.cancel_reason is CancelReason.IOC_REMAINDER
    e.submit(_req("a", "SELL", 1.0, 50.0), T0 + 2)
    fok = e.submit(_req("b", "BUY", 1.5, 50.0, "FOK"), T0 + 3)
    assert fok.trades == [] and fok.result.cancel_reason is CancelReason.FOK_NOT_FILLED
    assert e.depth(P).asks[0].quantity_mwh == pytest.approx(1.0)  # untouched
    fok = e.submit(_req("b", "BUY", 1.0, 50.0, "FOK"), T0 + 4)
    assert fok.result.status is OrderStatus.FILLED


def test_modify_keeps_priority_on_reduction_and_loses_it_otherwise() -> None:
    e = _engine()
    first = e.submit(_req("a", "BUY", 2.0, 50.0), T0).result
    second = e.submit(_req("b", "BUY", 1.0, 50.0), T0 + 1).result
    e.modify("a", first.order_id, T0 + 2, quantity_mwh=1.0)  # smaller: stays first
    assert [o.order_id for o in e.books[P].resting(Side.BUY)] == [first.order_id, second.order_id]
    assert first.cancelled_lots == 1000 and first.quantity_lots == 2000
    e.modify("a", first.order_id, T0 + 3, quantity_mwh=1.5)  # larger: goes behind b
    assert [o.order_id for o in e.books[P].resting(Side.BUY)] == [second.order_id, first.order_id]
    assert first.quantity_lots == 2500
    ex = e.modify("b", second.order_id, T0 + 4, price_eur_per_mwh=49.0)
    assert [o.order_id for o in e.books[P].resting(Side.BUY)] == [first.order_id, second.order_id]
    # a modify that crosses trades at once
    e.submit(_req("c", "SELL", 1.0, 52.0), T0 + 5)
    ex = e.modify("a", first.order_id, T0 + 6, price_eur_per_mwh=52.0)
    assert ex.trades[0].price_eur_per_mwh == 52.0 and ex.trades[0].quantity_lots == 1000


@pytest.mark.parametrize(
    ("request_", "reason", "match"),
    [
        (_req("a", "BUY", -1.0, 50.0), RejectReason.INVALID_QUANTITY, "quantity_mwh -1.0"),
        (_req("a", "BUY", 0.0, 50.0), RejectReason.INVALID_QUANTITY, "must be a number > 0"),
        (_req("a", "BUY", 0.0005, 50.0), RejectReason.INVALID_QUANTITY, "multiple of the lot"),
        (_req("a", "BUY", math.inf, 50.0), RejectReason.INVALID_QUANTITY, "inf"),
        (_req("a", "BUY", 1.0, math.nan), RejectReason.INVALID_PRICE, "not a finite number"),
        (_req("a", "BUY", 1.0, 50.005), RejectReason.INVALID_PRICE, "multiple of the tick"),
        (_req("a", "BUY", 1.0, 10_000.0), RejectReason.INVALID_PRICE, "limits"),
        (_req("a", "BUY", 1.0, 50.0, product="XX"), RejectReason.UNKNOWN_PRODUCT, "'XX'"),
        (_req("", "BUY", 1.0, 50.0), RejectReason.INVALID_FIELD, "participant"),
    ],
)
def test_bad_orders_are_rejected_and_change_nothing(request_, reason, match) -> None:
    e = _engine()
    e.submit(_req("z", "SELL", 1.0, 55.0), T0)
    before = e.state_hash()
    ex = e.submit(request_, T0 + 1)
    assert isinstance(ex.result, Rejection) and ex.result.reason is reason
    assert match in ex.result.message
    assert e.state_hash() == before


def test_closed_product_cancels_resting_and_rejects_new() -> None:
    e = _engine()
    o = e.submit(_req("a", "BUY", 1.0, 50.0), T0).result
    assert e.close_product(P, T0 + 1) == [o]
    assert o.cancel_reason is CancelReason.PRODUCT_CLOSED
    ex = e.submit(_req("a", "BUY", 1.0, 50.0), T0 + 2)
    assert ex.result.reason is RejectReason.MARKET_CLOSED


def test_cancel_and_modify_rejections() -> None:
    e = _engine()
    o = e.submit(_req("a", "BUY", 1.0, 50.0), T0).result
    assert e.cancel("b", o.order_id, T0).result.reason is RejectReason.NOT_OWNER
    assert e.cancel("a", 999, T0).result.reason is RejectReason.UNKNOWN_ORDER
    assert e.modify("a", o.order_id, T0, quantity_mwh=0).result.reason is RejectReason.INVALID_QUANTITY
    assert e.cancel("a", o.order_id, T0).result.status is OrderStatus.CANCELLED
    assert e.cancel("a", o.order_id, T0).result.reason is RejectReason.ORDER_NOT_OPEN


# --- invariants and the differential test -------------------------------------------

PRODUCTS = [P, "DE-LU:2023-06-14T11:00Z:60"]
_ops = st.one_of(
    st.tuples(
        st.just("submit"),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([PRODUCTS[0], PRODUCTS[0], PRODUCTS[1]]),
        st.sampled_from(["BUY", "SELL"]),
        st.integers(4996, 5004),  # price ticks: a narrow band so orders cross often
        st.integers(1, 5),  # lots
        st.sampled_from(["GTC", "GTC", "IOC", "FOK"]),
    ),
    st.tuples(st.just("cancel"), st.sampled_from(["a", "b", "c"]), st.integers(1, 40)),
    st.tuples(
        st.just("modify"),
        st.sampled_from(["a", "b", "c"]),
        st.integers(1, 40),
        st.one_of(st.none(), st.integers(4996, 5004)),
        st.one_of(st.none(), st.integers(1, 6)),
    ),
)


def _apply(e: MatchingEngine, ref: ReferenceExchange, op: tuple, ts: int) -> list:
    lot, tick = e.config.lot_mwh, e.config.tick_eur_per_mwh
    if op[0] == "submit":
        _, who, product, side, price, lots, tif = op
        ex = e.submit(_req(who, side, lots * lot, price * tick, tif, product), ts)
        ref.submit(who, product, side, price, lots, tif)
    elif op[0] == "cancel":
        _, who, oid = op
        ex = e.cancel(who, oid, ts)
        assert ex.accepted == ref.cancel(who, oid)
    else:
        _, who, oid, price, lots = op
        ex = e.modify(
            who, oid, ts,
            None if price is None else price * tick,
            None if lots is None else lots * lot,
        )
        assert ex.accepted == ref.modify(who, oid, price, lots)
    return ex.trades


def _check_invariants(e: MatchingEngine) -> None:
    for book in e.books.values():
        assert not book.is_crossed()
        for side in (Side.BUY, Side.SELL):
            resting = book.resting(side)
            sign = -1 if side is Side.BUY else 1
            keys = [(sign * o.price_ticks, o.priority) for o in resting]
            assert keys == sorted(keys)  # price, then time priority
            assert all(o.is_open and o.side is side for o in resting)
    for o in e.orders.values():
        assert o.filled_lots + o.open_lots + o.cancelled_lots == o.quantity_lots
        assert min(o.filled_lots, o.open_lots, o.cancelled_lots) >= 0
        if o.open_lots:
            want = OrderStatus.PARTIALLY_FILLED if o.filled_lots else OrderStatus.ACCEPTED
            assert o.status is want
        else:
            assert o.status in (OrderStatus.FILLED, OrderStatus.CANCELLED)
            assert (o.status is OrderStatus.CANCELLED) == (o.cancel_reason is not None)


@settings(max_examples=400, deadline=None)
@given(
    ops=st.lists(_ops, min_size=20, max_size=80),
    rule=st.sampled_from(["maker", "midpoint"]),
    stp=st.sampled_from(["cancel_newest", "cancel_oldest"]),
)
def test_engine_matches_the_naive_reference_and_keeps_its_invariants(ops, rule, stp) -> None:
    e = MatchingEngine(EngineConfig(price_rule=rule, self_trade=stp))
    for product in PRODUCTS:
        e.open_product(product)
    ref = ReferenceExchange(rule, stp)
    filled: dict[int, int] = {}
    for i, op in enumerate(ops):
        trades = _apply(e, ref, op, T0 + i)
        for t in trades:
            assert t.quantity_lots > 0
            filled[t.buy_order_id] = filled.get(t.buy_order_id, 0) + t.quantity_lots
            filled[t.sell_order_id] = filled.get(t.sell_order_id, 0) + t.quantity_lots
        _check_invariants(e)
    tick = e.config.tick_eur_per_mwh
    got = [
        (t.buy_order_id, t.sell_order_id, t.quantity_lots, t.price_eur_per_mwh)
        for t in _all_trades(e, ops)
    ]
    want = [(b, s, q, round(p * tick, 10)) for b, s, q, p in ref.trades]
    assert got == want
    for oid, o in e.orders.items():
        r = ref.orders[oid]
        assert (o.open_lots, o.filled_lots, o.cancelled_lots, o.status.value) == (
            r.open, r.filled, r.cancelled, r.status
        )
        assert filled.get(oid, 0) == o.filled_lots


def _all_trades(e: MatchingEngine, ops: list) -> list:
    """Replay ``ops`` on a fresh engine to collect every trade in order."""
    fresh = MatchingEngine(e.config)
    for product in PRODUCTS:
        fresh.open_product(product)
    ref = ReferenceExchange(e.config.price_rule, e.config.self_trade)
    out = []
    for i, op in enumerate(ops):
        out += _apply(fresh, ref, op, T0 + i)
    assert fresh.state_hash() == e.state_hash()  # determinism
    return out


def test_order_is_the_engines_object() -> None:
    e = _engine()
    ex = e.submit(_req("a", "BUY", 1.0, 50.0), T0)
    assert isinstance(ex.result, Order) and e.orders[ex.result.order_id] is ex.result


@pytest.mark.parametrize(("stp", "filled"), [("cancel_newest", 0), ("cancel_oldest", 2000)])
def test_fok_counts_only_what_self_trade_prevention_lets_it_reach(stp: str, filled: int) -> None:
    # asks: b 1 @ 49.95, a (own) 1 @ 49.96, b 1 @ 49.97; a FOK buy of 2 crosses all three
    e = _engine(self_trade=stp)
    for who, price in (("b", 49.95), ("a", 49.96), ("b", 49.97)):
        e.submit(_req(who, "SELL", 1.0, price), T0)
    ex = e.submit(_req("a", "BUY", 2.0, 50.0, "FOK"), T0 + 1)
    assert ex.result.filled_lots == filled
    assert sum(t.quantity_lots for t in ex.trades) == filled
