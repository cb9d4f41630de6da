"""Daily figures of a live site from its history, by hand."""

from __future__ import annotations

import pytest

from twin.backtest.history_kpis import daily_from_history


def test_energy_value_and_counts_by_hand():
    rows = [  # 22:30 and 23:30 UTC on 14 June are 00:30 and 01:30 local on the 15th
        {"market_utc": "2023-06-14T21:00:00+00:00", "power_kw": -60.0, "soc": 0.4, "price_eur_per_mwh": 50.0, "safe": 0, "external": 0},
        {"market_utc": "2023-06-14T21:30:00+00:00", "power_kw": 40.0, "soc": 0.5, "price_eur_per_mwh": 100.0, "safe": 0, "external": 1},
        {"market_utc": "2023-06-14T22:30:00+00:00", "power_kw": 20.0, "soc": 0.45, "price_eur_per_mwh": 80.0, "safe": 1, "external": 0},
        {"market_utc": "2023-06-14T23:30:00+00:00", "power_kw": 0.0, "soc": 0.44, "price_eur_per_mwh": 80.0, "safe": 0, "external": 0},
    ]
    daily = daily_from_history(rows, "Europe/Berlin").set_index("date")
    d14, d15 = daily.iloc[0], daily.iloc[1]
    assert (d14.charged_kwh, d14.discharged_kwh) == (pytest.approx(30.0), pytest.approx(40.0))
    assert d14.revenue_eur == pytest.approx(-60 * 0.5 * 50 / 1000 + 40 * 1.0 * 100 / 1000)
    assert (d14.steps, d14.override_steps, d14.safe_steps) == (2, 1, 0)
    assert d15.discharged_kwh == pytest.approx(20.0) and d15.safe_steps == 1 and d15.soc_min == pytest.approx(0.44)
    assert daily_from_history(rows[:1], "Europe/Berlin").empty
