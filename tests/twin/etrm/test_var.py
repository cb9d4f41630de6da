"""VaR by hand: historical on three scenarios, parametric on a known normal, Kupiec against Jorion's table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.etrm.var import exceedances, historical, kupiec_pof, parametric, pnl_scenarios


def test_historical_var_of_three_scenarios_by_hand() -> None:
    # +2 MWh in one product; price changes -10, +5, -30 EUR/MWh -> P&L -20, +10, -60
    pnl = pnl_scenarios(np.array([2.0]), np.array([[-10.0], [5.0], [-30.0]]))
    np.testing.assert_allclose(pnl, [-20.0, 10.0, -60.0])
    fig = historical(pnl, 0.95)  # ceil(3 * 0.95) = 3rd smallest loss: 60
    assert fig.var_eur == pytest.approx(60.0) and fig.es_eur == pytest.approx(60.0)
    fig = historical(pnl, 0.6)  # ceil(1.8) = 2nd smallest loss (-10, 20, 60): 20; ES of the worst 1.2: (60 + 0.2 * 20) / 1.2
    assert fig.var_eur == pytest.approx(20.0)
    assert fig.es_eur == pytest.approx((60.0 + 0.2 * 20.0) / 1.2)


def test_parametric_var_of_a_known_normal() -> None:
    # two products, positions +1 and -1 MWh, independent changes sd 3 and 4: P&L sd 5, mean 0
    fig = parametric(np.array([1.0, -1.0]), np.zeros(2), np.diag([9.0, 16.0]), 0.99)
    assert fig.var_eur == pytest.approx(2.326348 * 5.0, rel=1e-6)
    assert fig.es_eur == pytest.approx(5.0 * 0.026652 / 0.01, rel=1e-4)  # phi(2.326) / 0.01 = 2.6652


def test_historical_converges_to_parametric_on_normal_scenarios() -> None:
    rng = np.random.default_rng(0)
    pnl = rng.normal(10.0, 50.0, 400_000)
    hist, para = historical(pnl, 0.99), parametric(np.array([1.0]), np.array([10.0]), np.array([[2500.0]]), 0.99)
    assert hist.var_eur == pytest.approx(para.var_eur, rel=0.01)
    assert hist.es_eur == pytest.approx(para.es_eur, rel=0.01)


@pytest.mark.parametrize(
    ("confidence", "accepted", "rejected"),
    # Jorion (2007), nonrejection regions of the Kupiec test at T = 255 days, 95 % test confidence:
    # 1 % VaR: N < 7; 5 % VaR: 6 < N < 21
    [(0.99, [1, 6], [7]), (0.95, [7, 20], [6, 21])],
)
def test_kupiec_nonrejection_region_of_jorion(confidence, accepted, rejected) -> None:
    for x in accepted:
        assert kupiec_pof(x, 255, confidence).lr_statistic < 3.841
    for x in rejected:
        assert kupiec_pof(x, 255, confidence).lr_statistic > 3.841


def test_kupiec_at_the_expected_rate_accepts() -> None:
    out = kupiec_pof(5, 500, 0.99)
    assert out.lr_statistic == pytest.approx(0.0) and out.p_value == pytest.approx(1.0)
    assert exceedances(np.array([10.0, 10.0, np.nan]), np.array([11.0, 9.0, 50.0])) == 1


@given(st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=200), st.sampled_from([0.95, 0.99, 0.995]))
def test_es_is_at_least_var_and_both_bound_the_sample(pnl, confidence) -> None:
    fig = historical(np.array(pnl), confidence)
    assert fig.es_eur >= fig.var_eur - 1e-9
    assert -max(pnl) - 1e-9 <= fig.var_eur <= -min(pnl) + 1e-9


def test_bad_input_names_the_value() -> None:
    with pytest.raises(ValueError, match="confidence 1.5 must lie in"):
        historical(np.array([1.0]), 1.5)
    with pytest.raises(ValueError, match="do not match 2 products"):
        pnl_scenarios(np.array([1.0, 2.0]), np.zeros((3, 3)))
