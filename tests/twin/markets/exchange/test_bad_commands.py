"""Malformed commands are refused alone, with a reason code; the rest of the batch commits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.twin.markets.conftest import T_OPEN
from twin.config.intraday import TradingPolicy
from twin.io.journal import SqliteJournal
from twin.markets.exchange.commands import Cancel, Modify, Submit
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.orders import OrderRequest, Side, TimeInForce


def _journaled(tmp_path, hours) -> Exchange:
    ex = Exchange(SqliteJournal(tmp_path / "j.sqlite", "NORMAL"), policy=TradingPolicy(participant_rps={"lp": 1e6, "bob": 1e6}))
    ex.register("lp", "trader")
    ex.register("bob", "trader")
    ex.open_products(hours, T_OPEN)
    return ex


def test_one_bad_order_does_not_sink_the_batch(tmp_path, hours):
    ex = _journaled(tmp_path, hours)
    pid = hours[5].product_id
    batch = [
        Submit(OrderRequest("lp", pid, Side.SELL, 1.0, 50.0), T_OPEN + 1),
        Submit(OrderRequest(None, pid, Side.BUY, 1.0, 50.0), T_OPEN + 2),  # type: ignore[arg-type]
        Submit(OrderRequest("bob", pid, Side.BUY, 1.0, 50.0), T_OPEN + 3),
    ]
    acks = ex.process(batch)
    assert [a.accepted for a in acks] == [True, False, True]
    assert acks[1].rejection.reason == "INVALID_FIELD" and "participant 'None'" in acks[1].rejection.message
    assert len(acks[2].trades) == 1
    assert ex.journal.count("trades") == 1 and ex.journal.count("rejections") == 1
    ex.close()
    again = Exchange(SqliteJournal(tmp_path / "j.sqlite", "NORMAL"))
    assert again.journal.count("trades") == 1  # the replay gives back the committed trade
    again.close()


@pytest.mark.parametrize(("request_kwargs", "ts_ns", "reason"), [
    ({"quantity_mwh": True}, T_OPEN, "INVALID_QUANTITY"),
    ({"price_eur_per_mwh": True}, T_OPEN, "INVALID_PRICE"),
    ({"client_order_id": "x" * 1_000_000}, T_OPEN, "INVALID_FIELD"),
    ({"client_order_id": 7}, T_OPEN, "INVALID_FIELD"),
    ({"participant": "b" * 65}, T_OPEN, "INVALID_FIELD"),
    ({}, -1, "INVALID_TIMESTAMP"),
    ({}, True, "INVALID_TIMESTAMP"),
    ({}, 2**64, "INVALID_TIMESTAMP"),
])
def test_malformed_fields_get_a_reason_and_change_nothing(exchange, hours, request_kwargs, ts_ns, reason):
    fields = {"participant": "bob", "product": hours[5].product_id, "side": Side.BUY,
              "quantity_mwh": 1.0, "price_eur_per_mwh": 50.0, **request_kwargs}
    before = exchange.state_hash()
    ack = exchange.process([Submit(OrderRequest(**fields), ts_ns)])[0]
    assert not ack.accepted and ack.rejection.reason == reason
    assert exchange.state_hash() == before


def test_a_client_order_id_is_used_once(exchange, hours):
    pid = hours[5].product_id
    first = exchange.submit(OrderRequest("bob", pid, Side.BUY, 1.0, 40.0, client_order_id="c-1"), T_OPEN)
    again = exchange.submit(OrderRequest("bob", pid, Side.BUY, 1.0, 41.0, client_order_id="c-1"), T_OPEN + 1)
    other = exchange.submit(OrderRequest("lp", pid, Side.SELL, 1.0, 60.0, client_order_id="c-1"), T_OPEN + 2)
    assert first.accepted and other.accepted
    assert not again.accepted and again.rejection.reason == "DUPLICATE_CLIENT_ORDER_ID"


def test_client_order_ids_survive_a_restart(tmp_path, hours):
    ex = _journaled(tmp_path, hours)
    ex.submit(OrderRequest("bob", hours[5].product_id, Side.BUY, 1.0, 40.0, client_order_id="c-9"), T_OPEN)
    ex.close()
    again = Exchange(SqliteJournal(tmp_path / "j.sqlite", "NORMAL"), policy=TradingPolicy(participant_rps={"bob": 1e6}))
    ack = again.submit(OrderRequest("bob", hours[5].product_id, Side.BUY, 1.0, 41.0, client_order_id="c-9"), T_OPEN + 1)
    assert ack.rejection.reason == "DUPLICATE_CLIENT_ORDER_ID"
    again.close()


anything = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                     st.text(max_size=80), st.binary(max_size=8))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_command_fields_never_raise_and_never_lose_a_batch(tmp_path_factory, hours, data):
    ex = _journaled(tmp_path_factory.mktemp("fuzz"), hours)  # a new journal per example
    pid = hours[5].product_id
    commands = []
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["submit", "cancel", "modify"]))
        ts = data.draw(st.one_of(st.just(T_OPEN + 10), anything))
        if kind == "submit":
            request = OrderRequest(
                data.draw(st.one_of(st.sampled_from(["bob", "lp"]), anything)),
                data.draw(st.one_of(st.just(pid), anything)),
                data.draw(st.one_of(st.sampled_from(list(Side)), anything)),
                data.draw(st.one_of(st.just(1.0), anything)),
                data.draw(st.one_of(st.just(50.0), anything)),
                data.draw(st.one_of(st.sampled_from(list(TimeInForce)), anything)),
                client_order_id=data.draw(st.one_of(st.none(), anything)),
            )
            commands.append(Submit(request, ts))
        elif kind == "cancel":
            commands.append(Cancel(data.draw(st.one_of(st.just("bob"), anything)), data.draw(anything), ts))
        else:
            commands.append(Modify(data.draw(st.one_of(st.just("bob"), anything)), data.draw(anything), ts,
                                   data.draw(anything), data.draw(anything)))
    good = Submit(OrderRequest("bob", pid, Side.BUY, 1.0, 45.0), T_OPEN + 20)
    acks = ex.process([*commands, good])
    assert len(acks) == len(commands) + 1 and acks[-1].accepted
    assert all(a.accepted or a.rejection.reason for a in acks)
    ex.close()
