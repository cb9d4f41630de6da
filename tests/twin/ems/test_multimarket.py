"""The multi-market perfect-foresight bound: hand-solved, and against the day-ahead bound."""

from __future__ import annotations

import numpy as np
import pytest

from twin.config import BatterySpec
from twin.ems.dispatch import solve_dispatch
from twin.ems.multimarket import solve_multimarket_bound

SPEC = BatterySpec(energy_kwh=100, p_charge_max_kw=100, p_discharge_max_kw=100, eta_charge=1.0,
                   eta_discharge=1.0, soc_min=0.0, soc_max=1.0, soc_initial=0.0)


def test_hand_solved_hour_of_quarter_hours():
    # one hourly day-ahead product at 30, quarter hours intraday at 10, 20, 40, 50; empty battery
    # of 100 kWh, 100 kW: buy 25 kWh in each of the two cheap quarters, sell them in the dear ones
    da = np.full(4, 30.0)
    intraday = np.array([10.0, 20.0, 40.0, 50.0])
    bound = solve_multimarket_bound(SPEC, da, intraday, 0.25, cost_eur_per_mwh=1.0, block_steps=4)
    gross = (-10 - 20 + 40 + 50) * 0.025  # 100 kW for a quarter hour = 25 kWh
    fees = 4 * 0.025 * 1.0
    assert bound.revenue_eur == pytest.approx(gross - fees, abs=1e-6)
    np.testing.assert_allclose(bound.power_kw, [-100, -100, 100, 100], atol=1e-6)
    assert np.ptp(bound.day_ahead_kw) == pytest.approx(0.0, abs=1e-6)  # one power per hourly product


def test_bound_is_at_least_the_day_ahead_bound_and_equals_it_without_intraday(bess_spec, hourly_prices):
    da = hourly_prices.to_numpy()
    rng = np.random.default_rng(3)
    intraday = da + rng.normal(0, 15, len(da))
    day_ahead_only = solve_dispatch(bess_spec, da, 1.0).objective_eur
    both = solve_multimarket_bound(bess_spec, da, intraday, 1.0, cost_eur_per_mwh=0.1)
    assert both.revenue_eur > day_ahead_only + 1.0
    none = solve_multimarket_bound(bess_spec, da, np.full(len(da), np.nan), 1.0, cost_eur_per_mwh=0.1)
    assert none.revenue_eur == pytest.approx(day_ahead_only, rel=1e-6)
    assert np.all(none.intraday_kw == 0.0)
    same = solve_multimarket_bound(bess_spec, da, da, 1.0, cost_eur_per_mwh=0.1)
    assert same.revenue_eur == pytest.approx(day_ahead_only, rel=1e-6)  # trading twice only costs fees
