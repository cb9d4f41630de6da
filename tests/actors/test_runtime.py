"""Backtest runtimes: local and Ray agree; the clock, bids and settlement add up."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from actors.backtest.driver import period_prices, plan_backtest, run_backtest
from actors.backtest.site import SiteService
from actors.runtime import LocalRuntime, RayRuntime
from tests.twin.ems.reference_lp import reference_revenue_eur
from twin.backtest.clock import delivery_days
from twin.config import StrategyConfig, load_scenario, parse_scenario
from twin.io.prices import load_prices, regularise
from twin.markets.day_ahead import Clearing
from twin.physics.battery import initial_state, simulate

IDEAL_PLANT = {
    "response_delay_s": 0.0,
    "ramp_kw_per_s": 1e9,
    "degradation": {"cycle_fade_per_efc": 0.0, "calendar_fade_per_sqrt_day": 0.0},
    "thermal": {"derate_c": 1000.0, "trip_c": 1001.0},
}
"""Dynamics under which the SimPy plant is the planner's ideal battery."""


def scenario_on(csv_path, forecaster="persistence", dynamics=None, spread=20.0, **backtest):
    sites = [
        {"site_id": "a", "battery": {"energy_kwh": 200, "p_charge_max_kw": 100, "p_discharge_max_kw": 100,
                                     "soc_min": 0.1, "soc_max": 0.9}},
        {"site_id": "b", "battery": {"energy_kwh": 50, "p_charge_max_kw": 50, "p_discharge_max_kw": 25,
                                     "eta_charge": 0.9, "eta_discharge": 0.9, "degradation_cost_eur_per_mwh": 8}},
    ]
    if dynamics is not None:
        for site in sites:
            site["dynamics"] = dynamics
    return parse_scenario({
        "name": "t",
        "market": {"zone": "DE-LU", "prices": {"path": str(csv_path)},
                   "imbalance": {"spread_eur_per_mwh": spread}},
        "strategy": {"forecaster": forecaster},
        "backtest": backtest,
        "sites": sites,
    })


@pytest.fixture
def synthetic_csv(tmp_path, hourly_prices):
    path = tmp_path / "prices.csv"
    pd.DataFrame({
        "timestamp_utc": hourly_prices.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "price_de_lu_eur_per_mwh": hourly_prices.to_numpy(),
    }).to_csv(path, index=False)
    return path


def run(scenario, runtime):
    prices = load_prices(scenario.market)
    plan = plan_backtest(scenario, prices)
    try:
        return plan, run_backtest(plan, runtime)
    finally:
        runtime.close()


def _cat(days, k, name):
    return np.concatenate([getattr(d[k], name) for d in days])


def test_local_backtest_settles_what_it_delivers(synthetic_csv):
    """Day-ahead on the schedule, imbalance on the deviation: delivered energy at DA minus the spread."""
    spread = 20.0
    scenario = scenario_on(synthetic_csv, spread=spread)
    plan, out = run(scenario, LocalRuntime())
    assert len(out.site_days) == 9  # 10 days of prices, 1 day of history for persistence
    price = period_prices(plan)
    for k, site in enumerate(scenario.sites):
        power = _cat(out.site_days, k, "power_kw")
        schedule = _cat(out.site_days, k, "schedule_kw")
        revenue = _cat(out.site_days, k, "revenue_eur")
        deviation = _cat(out.site_days, k, "imbalance_kwh")
        np.testing.assert_allclose(_cat(out.site_days, k, "day_ahead_revenue_eur"), price * schedule / 1000)
        np.testing.assert_allclose(deviation, power - schedule, atol=1e-9)
        np.testing.assert_allclose(revenue, (price * power - spread * np.abs(deviation)) / 1000, atol=1e-9)
        assert np.abs(deviation).sum() > 0  # the 1 s response delay alone makes some imbalance
        soc = _cat(out.site_days, k, "soc")
        assert soc.min() >= site.battery.soc_min - 1e-9
        assert soc.max() <= site.battery.soc_max + 1e-3  # capacity fade lifts SoC a hair
        assert power.max() <= site.battery.p_discharge_max_kw + 1e-9
        assert -power.min() <= site.battery.p_charge_max_kw + 1e-9
        pf = out.perfect_foresight[site.site_id].objective_eur
        wear = site.battery.degradation_cost_eur_per_mwh * np.abs(power).sum() / 1000
        assert revenue.sum() - wear <= pf + 1e-6


def test_perfect_forecast_stays_below_benchmark_and_close_to_it(synthetic_csv):
    scenario = scenario_on(synthetic_csv, forecaster="perfect")
    plan, out = run(scenario, LocalRuntime())
    revenue = sum(d[0].revenue_eur.sum() for d in out.site_days)
    pf = out.perfect_foresight["a"].objective_eur
    assert 0.9 * pf < revenue <= pf + 1e-6


def test_projection_at_gate_closure_uses_measured_half_day(hourly_prices):
    """Planning D: SoC measured at D-1 12:00, then the rest of D-1's schedule projected."""
    scenario = scenario_on("unused.csv", dynamics=IDEAL_PLANT)
    site = SiteService(scenario.sites[0], StrategyConfig(), 1.0, 36)
    prices = regularise(hourly_prices, tz="Europe/Berlin")
    days = delivery_days(prices.index, prices.step, "Europe/Berlin", dt.time(12), history_days=1)
    d0, d1 = days[0], days[1]
    site.plan_day(d0, np.full(36, 50.0))
    schedule = np.zeros(d0.n_steps)
    schedule[:12] = -10.0  # charge 10 kW in the first 12 hours
    schedule[12:] = 5.0  # discharge 5 kW for the rest
    site.deliver_day(d0, Clearing(d0.date, np.full(d0.n_steps, 50.0), {"a": schedule}))
    # 100 kWh + 12 h * 9.5 kWh would be 214 kWh: the battery stops at its 180 kWh ceiling,
    # and the projection starts from that measured energy, not from the schedule.
    expected_kwh = 180 - (d0.n_steps - 12) * 5 / 0.95
    assert site.projected_soc(d1) == pytest.approx(expected_kwh / 200)


def test_projection_at_gate_closure_ignores_what_the_plant_did_after_the_gate(hourly_prices):
    """Perturb the SoC measured after D-1 12:00: the projection D is planned from does not move;
    perturb the reading at the gate itself and it does (the test can fail)."""
    scenario = scenario_on("unused.csv")
    site = SiteService(scenario.sites[0], StrategyConfig(), 1.0, 36)
    prices = regularise(hourly_prices, tz="Europe/Berlin")
    days = delivery_days(prices.index, prices.step, "Europe/Berlin", dt.time(12), history_days=1)
    d0, d1 = days[0], days[1]
    site.plan_day(d0, np.full(36, 50.0))
    schedule = np.where(np.arange(d0.n_steps) < 12, -5.0, 5.0)  # stays inside the SoC window
    site.deliver_day(d0, Clearing(d0.date, np.full(d0.n_steps, 50.0), {"a": schedule}))
    gate = d1.gate_step_prev_day
    assert 0 < gate < d0.n_steps
    projected = site.projected_soc(d1)
    site._prev_soc = site._prev_soc.copy()
    site._prev_soc[gate:] += 0.05  # the plant after the gate: not known at the gate
    assert site.projected_soc(d1) == projected
    site._prev_soc[gate - 1] += 0.05  # the reading at the gate: known
    assert site.projected_soc(d1) != pytest.approx(projected)


def test_ideal_plant_delivers_the_schedule_exactly(synthetic_csv):
    """Differential: with no delay, ramp or ageing the SimPy plant equals twin.physics.battery.simulate."""
    scenario = scenario_on(synthetic_csv, dynamics=IDEAL_PLANT)
    plan, out = run(scenario, LocalRuntime())
    for k, site in enumerate(scenario.sites):
        schedule = _cat(out.site_days, k, "schedule_kw")
        reference = simulate(site.battery, initial_state(site.battery), schedule, plan.prices.dt_h)
        np.testing.assert_allclose(_cat(out.site_days, k, "power_kw"), reference.power_kw, atol=1e-9)
        np.testing.assert_allclose(_cat(out.site_days, k, "energy_kwh"), reference.energy_kwh, atol=1e-9)


@pytest.mark.ray
def test_ray_and_local_runtimes_agree(synthetic_csv, ray_session):
    scenario = scenario_on(synthetic_csv, forecaster="seasonal_naive")
    _, local = run(scenario, LocalRuntime())
    per_service = scenario.model_copy(update={"etrm": scenario.etrm.model_copy(update={"placement": "per_service"})})
    _, remote = run(per_service, RayRuntime())  # and the ETRM services in actors of their own
    assert len(local.site_days) == len(remote.site_days) == 3
    for day_l, day_r in zip(local.site_days, remote.site_days, strict=True):
        for a, b in zip(day_l, day_r, strict=True):
            np.testing.assert_array_equal(a.power_kw, b.power_kw)
            np.testing.assert_array_equal(a.soc, b.soc)
            np.testing.assert_array_equal(a.revenue_eur, b.revenue_eur)
    for site_id, pf in local.perfect_foresight.items():
        np.testing.assert_array_equal(pf.power_kw, remote.perfect_foresight[site_id].power_kw)
    # the ETRM actors see the same days in the same order
    assert local.etrm is not None and remote.etrm is not None
    pd.testing.assert_frame_equal(local.etrm.credit, remote.etrm.credit)
    assert len(local.etrm.credit) > 0
    pd.testing.assert_frame_equal(local.etrm.risk, remote.etrm.risk)
    assert [(i.invoice.number, i.invoice.gross_eur) for i in local.etrm.invoices] == [
        (i.invoice.number, i.invoice.gross_eur) for i in remote.etrm.invoices
    ]
    assert local.etrm.invoices


@pytest.mark.data
def test_perfect_foresight_matches_independent_milp_on_real_prices(data_dir):
    """July 2023 DE-LU, which holds the -500 EUR/MWh hours of 2 July."""
    scenario = load_scenario("scenarios/quickstart.yaml")
    scenario = scenario.model_copy(update={"backtest": scenario.backtest.model_copy(
        update={"start": dt.date(2023, 7, 1), "end": dt.date(2023, 7, 31)})})
    prices = load_prices(scenario.market)
    plan = plan_backtest(scenario, prices)
    price = period_prices(plan)
    assert price.min() == -500
    for site in scenario.sites:
        ours = SiteService(site, scenario.strategy, prices.dt_h, plan.n_horizon).perfect_foresight(price)
        reference = reference_revenue_eur(site.battery, price, prices.dt_h)
        assert ours.objective_eur == pytest.approx(reference, rel=1e-6)


class _Slow:
    def __init__(self) -> None:
        self.calls = 0

    def pair(self, x: int):
        self.calls += 1
        if x < 0:
            raise ValueError(f"x must be >= 0, got {x}")
        return x, x * x


def test_local_calls_aside_run_on_a_background_thread_and_get_waits_for_them():
    runtime = LocalRuntime()
    handle = runtime.create(_Slow, None, {})
    refs = runtime.call_many_aside(handle, "pair", 2, 7)
    now = runtime.call_many(handle, "pair", 2, 3)  # the next call does not wait for the one aside
    assert runtime.get([*refs, *now]) == [7, 49, 3, 9]
    failed = runtime.call_many_aside(handle, "pair", 2, -1)
    with pytest.raises(ValueError, match="x must be >= 0"):
        runtime.get(failed)
    runtime.close()
    assert handle.calls == 3
