"""Fixtures of the exchange tests: products, a site's trading state, an exchange."""

from __future__ import annotations

import pandas as pd
import pytest

from twin.config.intraday import TradingPolicy
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.pretrade import PeriodState, SiteTradingState
from twin.markets.products import Product, make_product

DAY = pd.Timestamp("2023-06-14T00:00Z")
T_OPEN = int((DAY - pd.Timedelta(hours=9)).value)  # D-1 15:00 UTC: intraday opens


@pytest.fixture
def hours() -> list[Product]:
    """The 24 hourly products of 2023-06-14 (DE-LU), gate 60 min before delivery."""
    return [make_product("DE-LU", DAY + pd.Timedelta(hours=h), 60) for h in range(24)]


def site_state(hours: list[Product], soc_start: float = 0.5, temperature_c: float = 25.0,
               base_power_kw: float = 0.0) -> SiteTradingState:
    """Site vienna (200 kWh, 100 kW, eta 0.95) idle all day at ``soc_start``."""
    return SiteTradingState(
        site_id="vienna", energy_kwh=200.0, soc_min=0.1, soc_max=0.9,
        p_charge_max_kw=100.0, p_discharge_max_kw=100.0, eta_charge=0.95, eta_discharge=0.95,
        temperature_c=temperature_c,
        periods={p.product_id: PeriodState(soc_start, base_power_kw) for p in hours},
    )


@pytest.fixture
def exchange(hours: list[Product]) -> Exchange:
    """In-memory exchange with site vienna, traders lp and bob, and the day's products."""
    ex = Exchange(policy=TradingPolicy(participant_rps={"lp": 1e6}))
    ex.register("vienna", "site")
    ex.register("lp", "trader")
    ex.register("bob", "trader")
    ex.open_products(hours, T_OPEN)
    ex.update_site(site_state(hours))
    return ex
