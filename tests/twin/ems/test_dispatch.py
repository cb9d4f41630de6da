"""Dispatch LP: hand-solved cases, brute force, an independent MILP, negative prices, DPP re-use."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.twin.ems.reference_lp import reference_revenue_eur
from twin.config import BatterySpec, TerminalSocConfig
from twin.ems.dispatch import DispatchProblem, solve_dispatch
from twin.errors import InfeasibleDispatchError

FREE = TerminalSocConfig(policy="free")


def lossless(**kw) -> BatterySpec:
    base = dict(energy_kwh=2, p_charge_max_kw=1, p_discharge_max_kw=1, eta_charge=1, eta_discharge=1,
                soc_min=0, soc_max=1, soc_initial=0.5)
    base.update(kw)
    return BatterySpec(**base)


def test_three_steps_solved_by_hand():
    """100 kWh / 100 kW, 0.9 each way, empty at start, prices 10, 50, 30 EUR/MWh.

    Best: charge 100 kW in step 0 (stores 90 kWh, costs 1.00 EUR), discharge all in
    step 1 (90 * 0.9 = 81 kWh at 50 EUR/MWh = 4.05 EUR). Revenue 3.05 EUR.
    """
    spec = BatterySpec(energy_kwh=100, p_charge_max_kw=100, p_discharge_max_kw=100,
                       eta_charge=0.9, eta_discharge=0.9, soc_min=0, soc_max=1, soc_initial=0)
    result = solve_dispatch(spec, [10, 50, 30], 1.0)
    assert result.objective_eur == pytest.approx(3.05, abs=1e-6)
    np.testing.assert_allclose(result.power_kw, [-100, 81, 0], atol=1e-6)
    np.testing.assert_allclose(result.energy_kwh, [0, 90, 0, 0], atol=1e-6)


def brute_force_revenue(spec: BatterySpec, price, dt_h=1.0) -> float:
    """Every sequence of -1/0/+1 kW on a lossless 2 kWh battery (vertices are integral)."""
    best = -np.inf
    for seq in itertools.product((-1.0, 0.0, 1.0), repeat=len(price)):
        energy = spec.soc_initial * spec.energy_kwh
        ok = True
        for p in seq:
            energy -= p * dt_h
            if energy < spec.e_min_kwh - 1e-9 or energy > spec.e_max_kwh + 1e-9:
                ok = False
                break
        if ok:
            best = max(best, float(np.dot(seq, price)) * dt_h / 1000)
    return best


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-100, 300), min_size=2, max_size=6))
def test_matches_brute_force(prices):
    spec = lossless()
    result = solve_dispatch(spec, prices, 1.0)
    assert result.objective_eur == pytest.approx(brute_force_revenue(spec, prices), abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-500, 1000, allow_nan=False), min_size=4, max_size=48),
       st.floats(0.1, 0.9))
def test_matches_independent_milp(prices, soc0):
    spec = BatterySpec(energy_kwh=200, p_charge_max_kw=100, p_discharge_max_kw=80, eta_charge=0.93,
                       eta_discharge=0.96, soc_min=0.1, soc_max=0.9, soc_initial=0.5,
                       degradation_cost_eur_per_mwh=3.0)
    ours = solve_dispatch(spec, prices, 0.25, soc_initial=soc0)
    ref = reference_revenue_eur(spec, prices, 0.25, soc0=soc0)
    assert ours.objective_eur == pytest.approx(ref, rel=1e-6, abs=1e-6)


def test_negative_prices_never_charge_and_discharge_at_once(bess_spec):
    """At -500 EUR/MWh the LP relaxation would burn energy; the battery only charges to its ceiling."""
    prices = np.array([-500.0] * 6 + [100.0] * 6)
    problem = DispatchProblem(bess_spec, len(prices), 1.0, FREE)
    result = problem.solve(prices, 0.5)
    assert not ((result.p_charge_kw > 1e-6) & (result.p_discharge_kw > 1e-6)).any()
    assert result.used_milp
    assert result.energy_kwh.max() == pytest.approx(bess_spec.e_max_kwh, abs=1e-6)
    assert result.objective_eur == pytest.approx(reference_revenue_eur(bess_spec, prices, 1.0), abs=1e-6)
    relaxed = reference_revenue_eur(bess_spec, prices, 1.0, exclusive=False)
    assert relaxed > result.objective_eur + 1.0  # the relaxation would have earned by burning energy


def test_zero_price_overlap_removed_without_milp(bess_spec):
    prices = np.zeros(8)
    result = DispatchProblem(bess_spec, 8, 1.0, FREE).solve(prices, 0.5)
    assert not ((result.p_charge_kw > 1e-6) & (result.p_discharge_kw > 1e-6)).any()
    assert not result.used_milp


def test_terminal_target_is_met(bess_spec):
    prices = np.array([50, 200, 200, 200], dtype=float)
    target = TerminalSocConfig(policy="target", soc=0.5)
    result = DispatchProblem(bess_spec, 4, 1.0, target).solve(prices, 0.5)
    assert result.energy_kwh[-1] >= 100 - 1e-6
    free = DispatchProblem(bess_spec, 4, 1.0, FREE).solve(prices, 0.5)
    assert free.energy_kwh[-1] == pytest.approx(20, abs=1e-6)  # sells down to soc_min


def test_terminal_value_keeps_energy_when_worth_more(bess_spec):
    prices = np.full(4, 50.0)
    value = TerminalSocConfig(policy="value", value_eur_per_mwh=100.0)
    result = DispatchProblem(bess_spec, 4, 1.0, value).solve(prices, 0.5)
    # storing is worth 100 * 0.95 per MWh drawn (> 50): charge to the ceiling
    assert result.energy_kwh[-1] == pytest.approx(180, abs=1e-6)


def test_resolve_reuses_compiled_problem(bess_spec):
    problem = DispatchProblem(bess_spec, 96, 0.25, TerminalSocConfig(), backend="cvxpy")
    assert problem._lp is not None and problem._lp.problem.is_dpp()
    rng = np.random.default_rng(0)
    problem.solve(rng.normal(80, 30, 96), 0.5)
    compiled = problem._lp.problem._cache.param_prog
    for soc in (0.2, 0.7):
        problem.solve(rng.normal(80, 30, 96), soc)
    assert problem._lp.problem._cache.param_prog is compiled


def test_bad_inputs_are_rejected(bess_spec):
    problem = DispatchProblem(bess_spec, 4, 1.0, FREE)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        problem.solve(np.zeros(5), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        problem.solve(np.array([1, np.nan, 1, 1]), 0.5)
    with pytest.raises(ValueError, match="n_steps"):
        DispatchProblem(bess_spec, 0, 1.0, FREE)


def test_unreachable_target_is_clipped_not_infeasible():
    spec = lossless(p_charge_max_kw=0.1)
    result = DispatchProblem(spec, 2, 1.0, TerminalSocConfig(policy="target", soc=1.0)).solve([10, 10], 0.0)
    assert result.energy_kwh[-1] == pytest.approx(0.2, abs=1e-6)


def test_infeasible_error_type_is_pickleable():
    import pickle

    err = pickle.loads(pickle.dumps(InfeasibleDispatchError("dispatch problem is infeasible")))
    assert "infeasible" in str(err)


def test_an_hourly_auction_planned_at_15_min_bids_one_power_per_hour():
    """Hand-solved: quarter-hour prices inside two hours; the bid may not follow them within an hour."""
    spec = BatterySpec(energy_kwh=100, p_charge_max_kw=100, p_discharge_max_kw=100, eta_charge=1.0,
                       eta_discharge=1.0, soc_min=0.0, soc_max=1.0, soc_initial=0.0)
    # hour 1 quarter hours 10, 10, 10, 10; hour 2: 30 each (an hourly price repeated)
    price = np.array([10.0] * 4 + [30.0] * 4)
    free = TerminalSocConfig(policy="free")
    blocked = DispatchProblem(spec, 8, 0.25, free, block_steps=4).solve(price, 0.0)
    np.testing.assert_allclose(blocked.power_kw, [-100] * 4 + [100] * 4, atol=1e-6)
    assert blocked.objective_eur == pytest.approx(100 * 1.0 * (30 - 10) / 1000)
    # with a cheaper second quarter the free 15-min plan would shift; the blocked one cannot
    price2 = np.array([10.0, 5.0, 10.0, 10.0] + [30.0] * 4)
    free_plan = DispatchProblem(spec, 8, 0.25, free).solve(price2, 0.0)
    hourly = DispatchProblem(spec, 8, 0.25, free, block_steps=4).solve(price2, 0.0)
    assert np.ptp(hourly.power_kw[:4]) == 0.0 and np.ptp(hourly.power_kw[4:]) == 0.0
    assert free_plan.objective_eur >= hourly.objective_eur - 1e-9
