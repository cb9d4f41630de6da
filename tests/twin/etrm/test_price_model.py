"""The jump-diffusion: the fit recovers known parameters; Monte Carlo VaR matches the Ornstein-Uhlenbeck formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from twin.errors import ForecastError
from twin.etrm.price_model import JumpDiffusion, monte_carlo


def test_fit_recovers_the_parameters_of_a_simulated_series() -> None:
    truth = JumpDiffusion(0.2, 80.0, 6.0, 0.03, 40.0, 10.0)
    rng_path = [80.0]
    change = truth.simulate_change(80.0, 1, 1, seed=0)  # warm the API
    assert change.shape == (1,)
    rng = np.random.default_rng(1)
    for _ in range(6000):
        p = rng_path[-1]
        jump = rng.normal(40.0, 10.0) if rng.random() < 0.03 else 0.0
        rng_path.append(p + 0.2 * (80.0 - p) + 6.0 * rng.standard_normal() + jump)
    fit = JumpDiffusion.fit(np.array(rng_path))
    assert fit.alpha_per_day == pytest.approx(0.2, rel=0.1)
    assert fit.mu_eur_per_mwh == pytest.approx(80.0, rel=0.03)  # jump days are left out of the diffusion fit
    assert fit.sigma_eur_per_mwh == pytest.approx(6.0, rel=0.1)
    assert fit.jump_intensity_per_day == pytest.approx(0.03, rel=0.25)
    assert fit.jump_mean_eur_per_mwh == pytest.approx(40.0, rel=0.1)


def test_monte_carlo_var_without_jumps_matches_the_ou_formula() -> None:
    model = JumpDiffusion(0.3, 100.0, 5.0, 0.0, 0.0, 0.0)
    p0, h, q = 70.0, 3, np.array([2.0, -0.5, 1.5])  # net +3 MWh
    a = 1 - 0.3
    mean = (100.0 - p0) * (1 - a**h)
    sd = 5.0 * np.sqrt((1 - a ** (2 * h)) / (1 - a**2))  # exact for the daily AR(1)
    expected = -(3.0 * mean) + stats.norm.ppf(0.99) * 3.0 * sd
    fig = monte_carlo(q, model, p0, 0.99, horizon_days=h, n_paths=200_000)
    assert fig.var_eur == pytest.approx(expected, rel=0.02)


def test_fit_refuses_short_or_trending_series() -> None:
    with pytest.raises(ForecastError, match="at least 30 days"):
        JumpDiffusion.fit(np.arange(10.0))
    with pytest.raises(ForecastError, match="do not mean-revert"):
        JumpDiffusion.fit(np.cumsum(np.full(100, 1.0)) ** 1.5)
