"""Every YAML file in scenarios/ validates, and its data load."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.config import load_scenario
from twin.io.prices import load_prices

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def test_there_are_scenarios():
    assert len(SCENARIOS) >= 2


@pytest.mark.data
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_loads(path, data_dir):
    scenario = load_scenario(path)
    prices = load_prices(scenario.market)
    assert len(scenario.sites) >= 1
    assert not prices.price_eur_per_mwh.isna().any()


POLICIES = sorted((Path(__file__).resolve().parents[1] / "scenarios" / "policies").glob("*.yaml"))


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_policy_loads(path):
    from twin.config.intraday import load_policy

    policy = load_policy(path)
    assert policy.soc_min < policy.soc_max and policy.per_market_rps > 0
