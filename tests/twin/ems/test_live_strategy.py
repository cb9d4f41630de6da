"""The live site's strategy: the same money as the arbitrage dispatch, switching by hand and by the auto rule."""

from __future__ import annotations

import numpy as np
import pytest

from twin.config import BatterySpec, SiteConfig, StrategyConfig
from twin.ems.dispatch import DispatchProblem
from twin.ems.live_strategy import LiveStrategy
from twin.units import KWH_PER_MWH

BATTERY = BatterySpec(energy_kwh=200, p_charge_max_kw=100, p_discharge_max_kw=100, soc_min=0.1, soc_max=0.9)
SITE = SiteConfig(site_id="s", battery=BATTERY)
PRICES = np.array([30.0, 20.0, 10.0, 80.0, 120.0, 60.0, 40.0, 150.0] * 3)


def _money(power_kw: np.ndarray, prices: np.ndarray) -> float:
    throughput = np.abs(power_kw).sum()
    return float(prices @ power_kw - BATTERY.degradation_cost_eur_per_mwh * throughput) / KWH_PER_MWH


def test_arbitrage_earns_what_the_dispatch_lp_earns() -> None:
    live = LiveStrategy(SITE, StrategyConfig(), len(PRICES), 1.0)
    reference = DispatchProblem(BATTERY, len(PRICES), 1.0, StrategyConfig().terminal_soc).solve(PRICES, 0.5)
    plan = live.plan(PRICES, 0.5)
    assert live.kind == "arbitrage"
    assert _money(plan.power_kw, PRICES) == pytest.approx(_money(reference.power_kw, PRICES), abs=0.05)
    assert _money(plan.power_kw, PRICES) > 10.0  # it trades the spread


def test_only_strategies_that_apply_are_offered_and_a_wrong_one_names_the_choices() -> None:
    plain = LiveStrategy(SITE, StrategyConfig(), 24, 1.0)
    assert plain.available() == ["arbitrage", "stacked"]
    with pytest.raises(ValueError, match=r"peak_shaving.*choose one of \['arbitrage', 'stacked'\]"):
        plain.set("peak_shaving")
    assert plain.kind == "arbitrage"  # unchanged
    weighted = LiveStrategy(SITE, StrategyConfig(load_balancing_eur_per_kw=0.5), 24, 1.0)
    assert weighted.available() == ["arbitrage", "load_balancing", "stacked"]


def test_load_balancing_smooths_and_stacked_trades_off() -> None:
    s = LiveStrategy(SITE, StrategyConfig(load_balancing_eur_per_kw=0.02), len(PRICES), 1.0)  # 2 EUR per 100 kW step
    arbitrage = s.plan(PRICES, 0.5)
    s.set("load_balancing")
    balancing = s.plan(PRICES, 0.5)
    s.set("stacked")
    stacked = s.plan(PRICES, 0.5)

    def changes(p: np.ndarray) -> float:
        return float(np.abs(np.diff(np.r_[0.0, p])).sum())

    assert changes(balancing.power_kw) == pytest.approx(0.0, abs=1e-3)  # the only term: stay idle, no change
    assert changes(stacked.power_kw) < changes(arbitrage.power_kw)
    assert 0 < _money(stacked.power_kw, PRICES) <= _money(arbitrage.power_kw, PRICES) + 1e-6


def test_auto_switches_only_past_the_threshold() -> None:
    config = StrategyConfig(kind="auto", load_balancing_eur_per_kw=0.5, candidates=["arbitrage", "load_balancing"])
    s = LiveStrategy(SITE, config, len(PRICES), 1.0)
    assert s.auto
    s.set("load_balancing")
    s.set_auto(True)
    s.plan(PRICES, 0.5)
    assert s.kind == "arbitrage"  # a spread worth trading beats idling by far more than 15 %
    assert set(s.values_eur) == {"arbitrage", "load_balancing", "idle"}
    flat = np.full(len(PRICES), 50.0)
    s.plan(flat, 0.5)
    assert s.kind == "arbitrage"  # on a flat day both are worth ~0: no switch back

