"""The lean LP path (HiGHS kept alive, updated in place) against the cvxpy model, its reference.

On a year of real day-ahead prices, rolled day by day as the backtest does:
the same optimum every day, and the same schedule on every day whose horizon
has no two equal prices (with a tie, several schedules are optimal and each
solver may return another one). Another year or zone:
``BESS_TWIN_LP_DIFF_PRICES=/path/to/prices.csv``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.config import BatterySpec, TerminalSocConfig, load_scenario
from twin.ems.dispatch import DispatchProblem
from twin.ems.highs_lp import HighsDispatchLp
from twin.errors import InfeasibleDispatchError
from twin.io.prices import load_prices


def _has_tie(price: np.ndarray) -> bool:
    rounded = np.round(price, 6)
    return len(np.unique(rounded)) < len(rounded)


@pytest.fixture(scope="module")
def real_year(data_dir):
    scenario = load_scenario("scenarios/quickstart.yaml")
    market = scenario.market
    override = os.environ.get("BESS_TWIN_LP_DIFF_PRICES")
    if override:
        market = market.model_copy(update={"prices": market.prices.model_copy(update={"path": override})})
    prices = load_prices(market)
    return scenario, prices


@pytest.mark.parametrize("site", [0, 1])
def test_a_real_year_gives_the_cvxpy_optimum_every_day(real_year, site):
    scenario, prices = real_year
    spec = scenario.sites[site].battery
    per_day = round(24 / prices.dt_h)
    horizon = round(36 / prices.dt_h)
    p = prices.price_eur_per_mwh.to_numpy()
    problems = {b: DispatchProblem(spec, horizon, prices.dt_h, scenario.strategy.terminal_soc, backend=b)
                for b in ("highs", "cvxpy")}  # fmt: skip
    soc, days, untied = spec.soc_initial, 0, 0
    for start in range(0, len(p) - horizon, per_day):
        price = p[start : start + horizon]
        fast, ref = (problems[b].solve(price, soc) for b in ("highs", "cvxpy"))
        assert fast.objective_eur == pytest.approx(ref.objective_eur, rel=1e-9, abs=1e-9)
        assert fast.used_milp == ref.used_milp
        if not _has_tie(price):
            np.testing.assert_allclose(fast.power_kw, ref.power_kw, atol=1e-6)
            untied += 1
        soc = float(ref.energy_kwh[per_day]) / spec.energy_kwh
        days += 1
    assert days >= 300 and untied >= days // 2
    assert problems["highs"].milp_solves == problems["cvxpy"].milp_solves


@settings(max_examples=60, deadline=None)
@given(
    price=st.lists(st.floats(-150, 400, allow_nan=False), min_size=8, max_size=8),
    soc=st.floats(0.1, 0.9),
    block=st.sampled_from([1, 2, 4]),
)
def test_any_prices_give_the_cvxpy_optimum(price, soc, block):
    spec = BatterySpec(energy_kwh=100, p_charge_max_kw=50, p_discharge_max_kw=40, eta_charge=0.92, eta_discharge=0.94,
                       soc_min=0.1, soc_max=0.9, degradation_cost_eur_per_mwh=3.0, standing_loss_per_h=0.001)  # fmt: skip
    terminal = TerminalSocConfig(policy="target")
    fast = DispatchProblem(spec, 8, 0.25, terminal, block_steps=block, backend="highs").solve(price, soc)
    ref = DispatchProblem(spec, 8, 0.25, terminal, block_steps=block, backend="cvxpy").solve(price, soc)
    assert fast.objective_eur == pytest.approx(ref.objective_eur, rel=1e-7, abs=1e-7)
    assert not ((fast.p_charge_kw > 1e-6) & (fast.p_discharge_kw > 1e-6)).any()


def test_an_infeasible_terminal_bound_names_the_energies():
    spec = BatterySpec(energy_kwh=100, p_charge_max_kw=10, p_discharge_max_kw=10)
    lp = HighsDispatchLp(spec, 4, 1.0)
    with pytest.raises(InfeasibleDispatchError, match="initial energy 10.000 kWh, terminal minimum 90.000 kWh"):
        lp.solve(np.full(4, 50.0), 10.0, 90.0, 0.0)  # 40 kWh of charging cannot reach 90 kWh
    lp.solve(np.full(4, 50.0), 10.0, 40.0, 0.0)  # and the model still solves afterwards


def test_backend_must_be_known():
    with pytest.raises(ValueError, match="backend must be 'highs' or 'cvxpy'"):
        DispatchProblem(BatterySpec(energy_kwh=1, p_charge_max_kw=1, p_discharge_max_kw=1), 4, 1.0,
                        TerminalSocConfig(), backend="gurobi")  # type: ignore[arg-type]  # fmt: skip
