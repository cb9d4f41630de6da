"""One intraday session, hand-solved: sites meet at the mark, the rest goes to the LP."""

from __future__ import annotations

import numpy as np
import pytest

from tests.twin.markets.conftest import T_OPEN, site_state
from twin.config.intraday import LiquidityProviderConfig, TradingPolicy
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.session import IntradayIntent, run_session


def test_sites_trade_each_other_at_the_mark_then_the_lp(hours) -> None:
    ex = Exchange(policy=TradingPolicy(participant_rps={"lp": 1e6}, fee_eur_per_mwh=0.1))
    for who in ("vienna", "graz"):
        ex.register(who, "site")
    ex.register("lp", "trader")
    products = hours[:2]
    marks = np.array([50.0, 80.0])
    vienna = site_state(products)  # SoC 0.5, 200 kWh, 100 kW
    graz = site_state(products)
    graz = type(graz)(**{**graz.__dict__, "site_id": "graz"})
    intents = [
        IntradayIntent(vienna, np.array([0.05, -0.03])),  # sells 50 kWh in h0, buys 30 in h1
        IntradayIntent(graz, np.array([-0.02, 0.0])),  # buys 20 kWh in h0
    ]
    lp = LiquidityProviderConfig(spread_eur_per_mwh=4.0, levels=2, level_mwh=1.0)
    result = run_session(ex, products, marks, intents, lp, T_OPEN)
    v, g, p = (result.participants[w] for w in ("vienna", "graz", "lp"))
    # h0: graz's buy of 0.02 meets vienna's resting sell at the mark 50; vienna's other
    # 0.03 goes to the LP's bid at 48. h1: vienna buys 0.03 at the LP's ask 82.
    np.testing.assert_allclose(v.sell_mwh, [0.05, -0.03])
    np.testing.assert_allclose(g.sell_mwh, [-0.02, 0.0])
    assert v.cash_eur == pytest.approx([0.02 * 50 + 0.03 * 48, -0.03 * 82])
    assert g.cash_eur == pytest.approx([-0.02 * 50, 0.0])
    assert v.fees_eur.sum() == pytest.approx(0.08 * 0.1)
    assert sum(r.cash_eur.sum() for r in result.participants.values()) == pytest.approx(0.0)
    pairs = {(t.buyer, t.seller) for t in result.trades}
    assert pairs == {("graz", "vienna"), ("lp", "vienna"), ("vienna", "lp")}
    assert p.sell_mwh.sum() == pytest.approx(-0.0)  # LP bought 0.03, sold 0.03
    assert not list(ex.engine.open_orders())  # the session closed its products


@pytest.mark.parametrize("spread", [0.02, 0.03, 4.0])
def test_the_lp_never_crosses_itself_and_both_sides_fill(hours, spread) -> None:
    ex = Exchange(policy=TradingPolicy(participant_rps={"lp": 1e6}))
    ex.register("vienna", "site")
    ex.register("lp", "trader")
    products = hours[:2]
    intents = [IntradayIntent(site_state(products), np.array([0.04, -0.04]))]  # sell h0, buy h1
    lp = LiquidityProviderConfig(spread_eur_per_mwh=spread, levels=3, level_step_eur_per_mwh=0.0)
    result = run_session(ex, products, np.array([50.0, 60.0]), intents, lp, T_OPEN)
    v = result.participants["vienna"]
    np.testing.assert_allclose(v.sell_mwh, [0.04, -0.04])  # both legs filled by the LP
    prices = sorted(t.price_eur_per_mwh for t in result.trades)
    assert prices[0] < 50.0 and prices[-1] > 60.0  # sold below the mark, bought above it
    assert {t.seller for t in result.trades} | {t.buyer for t in result.trades} == {"vienna", "lp"}
    assert not any(t.buyer == t.seller for t in result.trades)


def test_a_zero_spread_lp_is_refused() -> None:
    with pytest.raises(ValueError, match="spread_eur_per_mwh"):
        LiquidityProviderConfig(spread_eur_per_mwh=0.0)
