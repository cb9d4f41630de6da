"""The pre-trade check returns every reason: deliverability, position, VaR, credit and grid limits at once."""

from __future__ import annotations

from statistics import NormalDist

import pytest

from actors.metrics import ExchangeMetrics
from tests.twin.markets.conftest import T_OPEN, site_state
from twin.config.intraday import TradingPolicy
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.limits import GridShare, LimitBook, TradingLimits
from twin.markets.exchange.orders import OrderRequest, RejectReason, Side


def _exchange(hours, book: LimitBook, soc_start: float = 0.5) -> Exchange:
    ex = Exchange(policy=TradingPolicy(participant_rps={"lp": 1e6, "bob": 1e6, "vienna": 1e6}), limits=book)
    for who, kind in (("vienna", "site"), ("lp", "trader"), ("bob", "trader")):
        ex.register(who, kind)
    ex.open_products(hours, T_OPEN)
    ex.update_site(site_state(hours, soc_start))
    return ex


def test_an_order_breaking_everything_names_every_reason_and_leaves_the_book(hours):
    # z(0.99) * sigma 10 * 0.2 MWh = 4.65 EUR > 1 EUR; position 0.2 > 0.1 MWh; exposure 50 + 0.2 * 5 (add-on)
    # = 51 > 40 EUR; 200 kW export over a 150 kW connection; a SELL of 0.2 MWh in 1 h needs 200 kW > 100 kW.
    book = LimitBook(
        limits={"vienna": TradingLimits(position_mwh=0.1, var_eur=1.0, credit_eur=40.0, export_max_kw=150.0)},
        sigma_eur_per_mwh=10.0, move_eur_per_mwh=5.0, exposure_eur={"vienna": 50.0},
    )
    ex = _exchange(hours, book)
    before = ex.state_hash()
    ack = ex.submit(OrderRequest("vienna", hours[10].product_id, Side.SELL, 0.2, 90.0), T_OPEN + 1)
    assert not ack.accepted
    assert set(ack.rejection.reasons) == {
        RejectReason.DISCHARGE_POWER, RejectReason.POSITION_LIMIT, RejectReason.VAR_LIMIT,
        RejectReason.CREDIT_LIMIT, RejectReason.GRID_LIMIT,
    }
    assert ack.rejection.reason is RejectReason.DISCHARGE_POWER  # deliverability first
    text = ack.rejection.message
    assert "4.65 EUR" in text and "51.00 EUR" in text and "export 200.0 kW over 150.0 kW" in text
    assert ex.state_hash() == before  # nothing changed
    metrics = ExchangeMetrics()
    metrics.consume(ex, {})
    exposition = metrics.text().decode()
    for reason in ("DISCHARGE_POWER", "POSITION_LIMIT", "VAR_LIMIT", "CREDIT_LIMIT", "GRID_LIMIT"):
        assert f'bess_twin_rejection_reasons_total{{reason="{reason}"}} 1.0' in exposition


def test_var_limit_at_its_edge(hours):
    sigma, q = 8.0, 0.05
    var = NormalDist().inv_cdf(0.99) * sigma * q
    ok = _exchange(hours, LimitBook(limits={"vienna": TradingLimits(var_eur=var + 0.01)}, sigma_eur_per_mwh=sigma))
    assert ok.submit(OrderRequest("vienna", hours[10].product_id, Side.SELL, q, 90.0), T_OPEN + 1).accepted
    bad = _exchange(hours, LimitBook(limits={"vienna": TradingLimits(var_eur=var - 0.01)}, sigma_eur_per_mwh=sigma))
    ack = bad.submit(OrderRequest("vienna", hours[10].product_id, Side.SELL, q, 90.0), T_OPEN + 1)
    assert ack.rejection.reasons == (RejectReason.VAR_LIMIT,)


def test_var_counts_open_positions_in_every_product(hours):
    sigma = 10.0
    limit = NormalDist().inv_cdf(0.99) * sigma * 0.06  # room for 0.06 MWh open in all
    ex = _exchange(hours, LimitBook(limits={"vienna": TradingLimits(var_eur=limit)}, sigma_eur_per_mwh=sigma))
    assert ex.submit(OrderRequest("vienna", hours[10].product_id, Side.SELL, 0.02, 90.0), T_OPEN + 1).accepted
    assert ex.submit(OrderRequest("vienna", hours[11].product_id, Side.BUY, 0.02, 10.0), T_OPEN + 2).accepted
    ack = ex.submit(OrderRequest("vienna", hours[12].product_id, Side.SELL, 0.04, 90.0), T_OPEN + 3)
    assert ack.rejection is not None and ack.rejection.reasons == (RejectReason.VAR_LIMIT,)
    assert ex.submit(OrderRequest("vienna", hours[12].product_id, Side.SELL, 0.02, 90.0), T_OPEN + 4).accepted


def test_a_buy_adds_what_it_would_owe_to_the_credit_exposure(hours):
    ex = _exchange(hours, LimitBook(limits={"bob": TradingLimits(credit_eur=100.0)}))
    assert ex.submit(OrderRequest("bob", hours[10].product_id, Side.BUY, 1.0, 99.0), T_OPEN + 1).accepted
    ack = ex.submit(OrderRequest("bob", hours[10].product_id, Side.BUY, 1.0, 101.0), T_OPEN + 2)
    assert ack.rejection.reasons == (RejectReason.CREDIT_LIMIT,)
    assert ex.submit(OrderRequest("bob", hours[10].product_id, Side.SELL, 5.0, 500.0), T_OPEN + 3).accepted


@pytest.mark.parametrize(("import_max_kw", "accepted"), [(80.0, True), (60.0, False)])
def test_a_shared_transformer_limit_counts_every_site_behind_it(hours, import_max_kw, accepted):
    # vienna charges 0.07 MWh in 1 h = 70 kW import on top of a base of 0
    book = LimitBook(shared=[GridShare("trafo", ("vienna",), import_max_kw=import_max_kw)])
    ex = _exchange(hours, book)
    ack = ex.submit(OrderRequest("vienna", hours[10].product_id, Side.BUY, 0.07, 10.0), T_OPEN + 1)
    assert ack.accepted is accepted
    if not accepted:
        assert ack.rejection.reasons == (RejectReason.GRID_LIMIT,)
        assert "shared limit trafo: import 70.0 kW over 60.0 kW" in ack.rejection.message


def test_no_limits_means_no_limit_work(hours):
    assert not LimitBook().checks_anything
    assert LimitBook(limits={"x": TradingLimits(credit_eur=1.0)}).checks_anything
