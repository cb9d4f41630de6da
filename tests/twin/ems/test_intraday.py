"""The intraday re-optimisation, hand-solved: the sawtooth inside an hour, full-power awards, closed products."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.config import BatterySpec
from twin.ems.intraday import IntradayProblem, award_path, round_to_lots

# lossless, 100 kW / 400 kWh, half full: the power limits bind, never the SoC window
SPEC = BatterySpec(energy_kwh=400, p_charge_max_kw=100, p_discharge_max_kw=100, eta_charge=1.0,
                   eta_discharge=1.0, soc_min=0.0, soc_max=1.0, soc_initial=0.5)
DT = 0.25


def _solve(spec, price, award, cost=0.0, tradable=None, margin_kwh=0.0):
    start, path = award_path(spec, spec.soc_initial, award, DT)
    problem = IntradayProblem(spec, len(price), DT, margin_kwh)
    return problem.solve(np.asarray(price, float), np.asarray(award, float), start, path.final.energy_kwh,
                         cost, tradable, path)


def test_sawtooth_hour_buys_the_cheap_quarters_and_sells_the_dear_ones():
    # an hourly award of 0 kW; the four quarter hours trade at 10, 20, 30, 40 EUR/MWh
    sell_kw = _solve(SPEC, [10, 20, 30, 40], np.zeros(4))
    np.testing.assert_allclose(sell_kw, [-100, -100, 100, 100], atol=1e-4)
    revenue = np.dot([10, 20, 30, 40], sell_kw) * DT / 1000
    assert revenue == pytest.approx(1.0)  # 25 kWh at (30 + 40 - 10 - 20) EUR/MWh


def test_the_cost_per_mwh_stops_trades_that_do_not_pay_it():
    # the outer pair gains 40 - 10 = 30, the inner 30 - 20 = 10 EUR/MWh; a round trip costs 2 x cost
    np.testing.assert_allclose(_solve(SPEC, [10, 20, 30, 40], np.zeros(4), cost=16.0), 0.0, atol=1e-4)
    np.testing.assert_allclose(_solve(SPEC, [10, 20, 30, 40], np.zeros(4), cost=4.0),
                               [-100, -100, 100, 100], atol=1e-4)
    np.testing.assert_allclose(_solve(SPEC, [10, 20, 30, 40], np.zeros(4), cost=6.0),
                               [-100, 0, 0, 100], atol=1e-4)


def test_a_full_power_award_is_never_forced_into_a_trade_back():
    # a full-power hour at flat prices: the lot margin must not make the award infeasible
    award = np.full(4, 100.0)
    sell_kw = _solve(SPEC, [50, 50, 50, 50], award, cost=2.0, margin_kwh=1.0)
    np.testing.assert_allclose(sell_kw, 0.0, atol=1e-9)


def test_closed_products_do_not_trade_and_the_day_ends_where_the_award_does():
    price = [10, 20, 30, 40]
    tradable = np.array([False, True, True, True])
    sell_kw = _solve(SPEC, price, np.zeros(4), tradable=tradable)
    assert sell_kw[0] == 0.0
    np.testing.assert_allclose(sell_kw, [0, -100, 0, 100], atol=1e-4)
    assert sell_kw.sum() == pytest.approx(0.0, abs=1e-4)  # lossless: energy in = energy out


def test_an_undeliverable_base_is_repaired_where_products_are_open():
    # the base sells 100 kW for 4 h from a 10 %-full battery: it runs empty after 24 min
    spec = SPEC.model_copy(update={"soc_initial": 0.1})
    base = np.full(16, 100.0)
    sell_kw = _solve(spec, np.full(16, 50.0), base, cost=1.0)
    start, path = award_path(spec, 0.1, base + sell_kw, DT)
    assert np.allclose(path.power_kw, base + sell_kw, atol=1e-4)  # deliverable now
    assert sell_kw.sum() < 0  # by buying back


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-100, 100), st.floats(-100, 100), st.booleans()), min_size=1, max_size=96))
def test_lot_rounding_stays_in_the_power_limits_and_does_not_drift(steps):
    trade = np.array([t for t, _, _ in steps])
    base = np.array([b for _, b, _ in steps])
    is_open = np.array([o for _, _, o in steps])
    trade = np.clip(trade, -SPEC.p_charge_max_kw - base, SPEC.p_discharge_max_kw - base) * is_open
    lots = round_to_lots(trade, base, SPEC, DT, 0.001, is_open)
    assert np.allclose(lots / 0.001, np.round(lots / 0.001))  # whole lots
    power = base + lots * 1000 / DT
    assert (power <= SPEC.p_discharge_max_kw + 1e-9).all() and (power >= -SPEC.p_charge_max_kw - 1e-9).all()
    assert (lots[~is_open] == 0).all()
    drift = np.cumsum(lots) - np.cumsum(trade * DT / 1000)
    # within half a lot of the LP's position, except where a power limit held the step back
    at_limit = (power > SPEC.p_discharge_max_kw - 4.0 - 1e-9) | (power < -SPEC.p_charge_max_kw + 4.0 + 1e-9)
    assert (np.abs(drift) <= 0.0005 + 1e-9)[~at_limit & is_open].all()
