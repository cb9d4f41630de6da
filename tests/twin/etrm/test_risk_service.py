"""The risk service: historical VaR by hand on a tiny history, limits and alerts, Kupiec on a simulated record."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from twin.errors import ForecastError
from twin.etrm.risk_service import RiskLimits, RiskService

DAY = dt.date(2023, 6, 1)


def test_historical_var_by_hand_and_every_method_reported():
    rng = np.random.default_rng(0)
    prices = 80 + np.cumsum(rng.normal(0, 5, (60, 2)), axis=0)
    service = RiskService(confidence_levels=(0.95,), lookback_days=40, mc_paths=5000)
    rows, alerts = service.assess("vienna", DAY, np.array([1.0, -2.0]), prices)
    assert {r.method for r in rows} == {"historical", "parametric", "monte_carlo"} and not alerts
    changes = np.diff(prices[-41:], axis=0)  # 40 one-day changes
    losses = np.sort(-(changes @ np.array([1.0, -2.0])))
    hist = next(r for r in rows if r.method == "historical")
    assert hist.var_eur == pytest.approx(losses[int(np.ceil(40 * 0.95)) - 1])


def test_limits_give_utilisation_and_alerts():
    rng = np.random.default_rng(1)
    prices = 80 + rng.normal(0, 10, (100, 24))
    service = RiskService(limits={"linz": RiskLimits(var_eur=10.0, position_mwh=5.0, loss_eur=100.0)}, mc_paths=2000)
    rows, alerts = service.assess("linz", DAY, np.full(24, 0.5), prices)
    hist99 = next(r for r in rows if r.method == "historical" and r.confidence == 0.99)
    assert hist99.utilisation_pct == pytest.approx(10.0 * hist99.var_eur)
    assert {a.limit for a in alerts} == {"VaR 99.0% (historical)", "open position MWh"}
    assert "linz 2023-06-01: open position MWh 12.00 over its limit 5.00" in [a.message for a in alerts]
    assert service.record("linz", DAY, 50.0, -150.0).limit == "daily loss EUR"
    assert service.record("linz", DAY, 50.0, -50.0) is None


def test_kupiec_backtest_of_a_calibrated_var_accepts():
    rng = np.random.default_rng(2)
    service = RiskService()
    for i in range(1000):
        service.record("x", DAY + dt.timedelta(days=i), 2.326, float(rng.normal()))  # true 99 % VaR of N(0, 1)
    result = service.backtest("x", 0.99)
    assert 3 <= result.exceedances <= 20 and result.p_value > 0.01
    with pytest.raises(ValueError, match="no VaR record for 'y'"):
        service.backtest("y", 0.99)


def test_too_short_history_is_refused():
    with pytest.raises(ForecastError, match="at least 20 days"):
        RiskService().assess("x", DAY, np.ones(2), np.ones((10, 2)))
