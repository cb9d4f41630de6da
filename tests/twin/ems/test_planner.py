"""The daily EMS plan uses only what is public at the gate; pacing, tariff and the site controller."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.config import BatterySpec, StrategyConfig
from twin.config.ems import LoadConfig, PvConfig, TariffConfig
from twin.config.site import SiteConfig
from twin.ems.pacing import CyclePacer
from twin.ems.planner import SitePlanner, SiteSeries
from twin.ems.realtime import corrected_setpoint_kw
from twin.ems.tariff import (
    billing_period_of_step,
    energy_bill_eur,
    export_price_eur_per_mwh,
    import_price_eur_per_mwh,
)
from twin.forecast.profile import persistence

INDEX = pd.date_range("2023-03-01T00:00Z", periods=24 * 20, freq="1h")
NS = INDEX.as_unit("ns").asi8
DAY = 24


def test_persistence_takes_the_last_measured_day_or_week() -> None:
    values = np.arange(len(INDEX), dtype=float)
    gate = int(INDEX[10 * DAY + 12].value)  # day 10, 12:00 UTC
    pos = np.arange(11 * DAY, 12 * DAY)  # day 11
    daily = persistence(values, NS, pos, gate)
    # 00:00-11:00 of day 11 -> day 10 (measured before 12:00), 12:00-23:00 -> day 9
    assert daily[:12] == pytest.approx(values[10 * DAY : 10 * DAY + 12])
    assert daily[12:] == pytest.approx(values[9 * DAY + 12 : 10 * DAY])
    weekly = persistence(values, NS, pos, gate, period_days=7)
    assert weekly == pytest.approx(values[4 * DAY : 5 * DAY])


def _site(**kw: object) -> SiteConfig:
    battery = BatterySpec(
        energy_kwh=10, p_charge_max_kw=5, p_discharge_max_kw=5, soc_min=0.05, soc_max=0.95,
        degradation_cost_eur_per_mwh=5,
    )  # fmt: skip
    data = {
        "site_id": "home",
        "battery": battery,
        "load": LoadConfig(kind="measured", path="/x.csv", column="load_kw"),
        "pv": PvConfig(kind="measured", path="/x.csv", column="pv_kw"),
        "tariff": TariffConfig(
            import_kind="day_ahead", import_markup_eur_per_kwh=0.02, grid_fee_eur_per_kwh=0.1,
            export_kind="feed_in_tariff", feed_in_tariff_eur_per_kwh=0.08,
            demand_charge_eur_per_kw_per_year=60,
        ),
        **kw,
    }  # fmt: skip
    return SiteConfig.model_validate(data)


def _series(rng: np.random.Generator) -> SiteSeries:
    hours = np.asarray(INDEX.hour)
    pv = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * 6 * rng.uniform(0.5, 1, len(INDEX))
    load = 0.5 + rng.uniform(0, 2, len(INDEX))
    price = 80 + 40 * np.sin(hours / 24 * 2 * np.pi) + rng.normal(0, 10, len(INDEX))
    return SiteSeries(
        index_ns=NS, load_kw=load, pv_kw=pv, day_ahead_eur_per_mwh=price,
        fcr_eur_per_mw_h=np.full(len(INDEX), np.nan), fcr_tie=np.zeros(len(INDEX), bool),
        period=billing_period_of_step(INDEX, "Europe/Berlin"),
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["stacked", "auto"])
def test_plan_does_not_move_when_data_after_the_gate_change(kind: str) -> None:
    rng = np.random.default_rng(3)
    series = _series(rng)
    strategy = StrategyConfig(kind=kind, candidates=["arbitrage", "self_consumption", "peak_shaving"])
    gate_pos = 10 * DAY + 11  # D-1 11:00 UTC
    gate = int(INDEX[gate_pos].value)
    first = 11 * DAY
    forecast = series.day_ahead_eur_per_mwh[first - DAY : first + 12]  # a forecast made before
    plans = []
    for perturb in (False, True):
        s = series
        if perturb:  # everything measured after the gate changes
            after = np.arange(len(INDEX)) >= gate_pos
            s = SiteSeries(
                index_ns=NS, load_kw=np.where(after, s.load_kw * 3 + 1, s.load_kw),
                pv_kw=np.where(after, s.pv_kw * 0.1, s.pv_kw),
                day_ahead_eur_per_mwh=np.where(after, -s.day_ahead_eur_per_mwh, s.day_ahead_eur_per_mwh),
                fcr_eur_per_mw_h=s.fcr_eur_per_mw_h, fcr_tie=s.fcr_tie, period=s.period,
            )  # fmt: skip
        planner = SitePlanner(_site(), strategy, s, 1.0, 36)
        planner.peaks_kw[int(s.period[0])] = 2.0
        plan, name, _ = planner.plan(first, gate, forecast, 0.5)
        plans.append((plan.power_kw, name))
    assert plans[0][1] == plans[1][1]
    np.testing.assert_allclose(plans[0][0], plans[1][0], atol=1e-9)


def test_tariff_prices_and_bill() -> None:
    da = np.array([100.0, -50.0])
    fixed = TariffConfig(import_fixed_eur_per_kwh=0.3, grid_fee_eur_per_kwh=0.05, feed_in_tariff_eur_per_kwh=0.08)
    assert import_price_eur_per_mwh(fixed, da) == pytest.approx([350.0, 350.0])
    assert export_price_eur_per_mwh(fixed, da) == pytest.approx([80.0, 80.0])
    dynamic = TariffConfig(import_kind="day_ahead", import_markup_eur_per_kwh=0.01, taxes_eur_per_kwh=0.02, export_kind="day_ahead")
    assert import_price_eur_per_mwh(dynamic, da) == pytest.approx([130.0, -20.0])
    assert export_price_eur_per_mwh(dynamic, da) == pytest.approx([100.0, -50.0])
    # 2 kW import for 0.5 h at 350 EUR/MWh = 0.35 EUR; 4 kW export at 80 = -0.16 EUR
    bill = energy_bill_eur(np.array([2.0, -4.0]), np.full(2, 350.0), np.full(2, 80.0), 0.5)
    assert bill == pytest.approx([0.35, -0.16])


def test_billing_periods_are_local_months() -> None:
    index = pd.DatetimeIndex(["2023-01-31T22:30Z", "2023-01-31T23:00Z"])
    assert list(billing_period_of_step(index, "Europe/Berlin")) == [2023 * 12 + 0, 2023 * 12 + 1]


def test_cycle_pacing_raises_the_price_above_budget_and_returns_to_zero() -> None:
    pacer = CyclePacer(cycles_per_year=365.0, gain_eur_per_mwh=10.0)
    assert pacer.update(3.0) == pytest.approx(20.0)  # 2 cycles above the daily budget of 1
    assert pacer.update(1.5) == pytest.approx(25.0)
    assert pacer.update(0.0) == pytest.approx(15.0)
    assert pacer.update(0.0) == pytest.approx(5.0)
    assert pacer.update(0.0) == pytest.approx(0.0)
    assert CyclePacer(None).update(10.0) == 0.0


SPEC = BatterySpec(energy_kwh=10, p_charge_max_kw=5, p_discharge_max_kw=5, eta_charge=1, eta_discharge=1)


def test_controller_holds_planned_imports_and_exports() -> None:
    # plan: charge 3 kW from a 3 kW surplus; PV comes in at 1 kW -> stop charging
    assert corrected_setpoint_kw(-3, 0, 1, 1, 0, 5, SPEC, 1, 0.25, None, None) == pytest.approx(0.0)
    # plan: cover 2 kW of evening load; load is 1 kW -> discharge 1 kW only
    assert corrected_setpoint_kw(2, 0, 1, 0, 0, 5, SPEC, 1, 0.25, None, None) == pytest.approx(1.0)
    # plan exports 2 kW of PV; more PV than forecast -> store the extra
    assert corrected_setpoint_kw(0, -2, 0, 5, 0, 5, SPEC, 1, 0.25, None, None) == pytest.approx(-3.0)
    # empty battery: nothing to discharge
    assert corrected_setpoint_kw(2, 0, 3, 0, 0, 0, SPEC, 1, 0.25, None, None) == pytest.approx(0.0)


def test_controller_guards_the_peak_and_the_feed_in_limit() -> None:
    # demand-charge site: load 9 kW, target 6 kW -> discharge 3 kW (not the planned 0)
    assert corrected_setpoint_kw(0, 5, 9, 0, 0, 5, SPEC, 1, 0.25, 6.0, None) == pytest.approx(3.0)
    # ... but only as far as the energy allows beside the FCR headroom (2 kW band, 0.5 kWh)
    assert corrected_setpoint_kw(0, 5, 9, 0, 2, 1.5, SPEC, 1, 0.25, 6.0, None) == pytest.approx(1.0)
    # feed-in limit 3 kW, 7 kW surplus, plan idle -> charge 4 kW
    assert corrected_setpoint_kw(0, -7, 0, 7, 0, 5, SPEC, 1, 0.25, None, 3.0) == pytest.approx(-4.0)


def test_week_max_is_the_envelope_of_the_last_seven_measured_days() -> None:
    rng = np.random.default_rng(5)
    values = rng.uniform(0, 5, len(INDEX))
    site = _site(pv=PvConfig(kind="measured", path="/x.csv", column="pv_kw", forecast="week_max"))
    series = SiteSeries(
        index_ns=NS, load_kw=np.zeros(len(INDEX)), pv_kw=values,
        day_ahead_eur_per_mwh=np.full(len(INDEX), 50.0),
        fcr_eur_per_mw_h=np.full(len(INDEX), np.nan), fcr_tie=np.zeros(len(INDEX), bool),
        period=billing_period_of_step(INDEX, "Europe/Berlin"),
    )  # fmt: skip
    planner = SitePlanner(site, StrategyConfig(), series, 1.0, 24)
    gate = int(INDEX[10 * DAY].value)  # day 10, 00:00: days 3..9 are measured
    full, _ = planner.inputs(10 * DAY, gate, np.full(24, 50.0))
    expected = values.reshape(-1, DAY)[3:10].max(axis=0)
    np.testing.assert_allclose(full.pv_kw, expected)


def test_peaks_are_booked_only_up_to_the_gate() -> None:
    from actors.backtest.ems_site import EmsSite
    from twin.backtest.clock import DeliveryDay

    rng = np.random.default_rng(2)
    series = _series(rng)
    planner = SitePlanner(_site(), StrategyConfig(kind="stacked"), series, 1.0, 36)
    ems = EmsSite(planner)
    period = series.period[:DAY]
    grid = np.full(DAY, 1.0)
    grid[5], grid[20] = 7.0, 9.0  # 9 kW after the gate (12:00) of the next day
    ems._tail, ems._last_day_steps = (period, grid), DAY
    day = DeliveryDay(
        date=INDEX[DAY].date(), start_utc=INDEX[DAY], end_utc=INDEX[2 * DAY], gate_closure_utc=INDEX[12],
        first_step=DAY, n_steps=DAY, gate_step_prev_day=12,
    )  # fmt: skip
    ems.plan_day(day, series.day_ahead_eur_per_mwh[DAY : DAY + 36], 0.5)
    assert planner.peaks_kw[int(period[0])] == pytest.approx(7.0)  # the 9 kW is not known yet
    assert planner.pacer.days == 0  # booking peaks does not count as a day of cycles
