"""The intraday auction as a price-taker, and imbalance at a single price (reBAP), hand-computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.markets.exchange.pretrade import SiteTradingState
from twin.markets.exchange.session import IntradayIntent
from twin.markets.imbalance import imbalance_prices, settle_imbalance
from twin.markets.intraday_auction import VENUE, clear_intraday_auction
from twin.markets.products import day_products

START = pd.Timestamp("2021-06-14T22:00Z")


def _intent(site: str, sell_mwh, limits=None) -> IntradayIntent:
    state = SiteTradingState(site_id=site, energy_kwh=200, soc_min=0.1, soc_max=0.9, p_charge_max_kw=100,
                             p_discharge_max_kw=100, eta_charge=0.95, eta_discharge=0.95,
                             temperature_c=25.0, periods={})
    return IntradayIntent(state, np.asarray(sell_mwh, dtype=float),
                          None if limits is None else np.asarray(limits, dtype=float))


def test_orders_clear_at_the_auction_price_where_their_limit_allows():
    products = day_products("DE-LU", START, 4, 0.25)
    prices = np.array([40.0, 55.0, 70.0, np.nan])
    a = _intent("a", [0.010, -0.020, 0.025, 0.005], [45.0, 60.0, np.nan, np.nan])
    b = _intent("b", [-0.004, 0.0, 0.001, 0.0])  # price-independent
    result = clear_intraday_auction(products, prices, [a, b], fee_eur_per_mwh=0.1, lot_mwh=0.001, ts_ns=0)
    ra, rb, venue = result.participants["a"], result.participants["b"], result.participants[VENUE]
    # a: sell at 40 < limit 45 -> no fill; buy at 55 <= 60 -> fill; sell, no limit -> fill at 70;
    # the last product has no auction price -> nothing
    np.testing.assert_allclose(ra.sell_mwh, [0.0, -0.020, 0.025, 0.0])
    np.testing.assert_allclose(ra.cash_eur, [0.0, -0.020 * 55, 0.025 * 70, 0.0])
    np.testing.assert_allclose(ra.fees_eur, [0.0, 0.020 * 0.1, 0.025 * 0.1, 0.0])
    np.testing.assert_allclose(rb.cash_eur, [-0.004 * 40, 0.0, 0.001 * 70, 0.0])
    np.testing.assert_allclose(ra.cash_eur + rb.cash_eur + venue.cash_eur, 0.0, atol=1e-12)  # zero-sum
    assert [t.price_eur_per_mwh for t in result.trades] == [55.0, 70.0, 40.0, 70.0]
    assert [t.trade_id for t in result.trades] == [1, 2, 3, 4]
    assert {(t.seller, t.buyer) for t in result.trades} == {(VENUE, "a"), ("a", VENUE), (VENUE, "b"), ("b", VENUE)}


def test_an_order_exactly_at_its_limit_clears():
    products = day_products("DE-LU", START, 1, 0.25)
    sell = _intent("s", [0.003], [50.0])
    buy = _intent("b", [-0.003], [50.0])
    result = clear_intraday_auction(products, np.array([50.0]), [sell, buy], 0.0, 0.001, 0)
    assert len(result.trades) == 2


@pytest.mark.parametrize(("deviation_kwh", "rebap", "cash_eur"), [
    (10.0, 100.0, 1.0),     # long (delivered more than sold): paid reBAP for the surplus
    (-10.0, 100.0, -1.0),   # short: pays reBAP for the gap
    (10.0, -50.0, -0.5),    # long at a negative reBAP: pays
    (-10.0, -50.0, 0.5),    # short at a negative reBAP: is paid
    (0.0, 8000.0, 0.0),
])
def test_imbalance_settles_at_a_single_price_both_ways(deviation_kwh, rebap, cash_eur):
    prices = imbalance_prices([80.0], spread_eur_per_mwh=20.0, measured_eur_per_mwh=[rebap])
    price, cash = settle_imbalance([deviation_kwh], prices)
    assert price[0] == rebap  # the day-ahead price and the spread play no part
    assert cash[0] == pytest.approx(cash_eur)


def test_four_quarter_hours_settle_independently():
    rebap = np.array([120.0, -30.0, 15.5, 400.0])
    prices = imbalance_prices(np.full(4, 60.0), 20.0, rebap)
    _, cash = settle_imbalance([2.0, 2.0, -4.0, -0.5], prices)
    np.testing.assert_allclose(cash, [0.24, -0.06, -0.062, -0.2])
