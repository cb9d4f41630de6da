"""A mean-reverting jump-diffusion for daily electricity prices: fit, simulate, Monte Carlo VaR.

``dP = alpha (mu - P) dt + sigma dW + J dN``, on the daily base price in EUR/MWh
(arithmetic, so negative prices are allowed), with ``N`` a Poisson process of
intensity ``lam`` per day and normal jump sizes ``J ~ N(jump_mean, jump_sd^2)``.
The fit follows Cartea & Figueroa: daily changes beyond three standard
deviations are taken as jumps (iterated until none is left), the diffusion is
an AR(1) regression of the remaining changes on the level, the jumps give the
intensity and the jump-size distribution. Simulation steps one day at a time
(Euler). Monte Carlo VaR applies the simulated change of the base price to
every delivery product of a position (a parallel shift: the model has no
intraday shape).

References
----------
.. [1] A. Cartea, M. G. Figueroa, "Pricing in electricity markets: a mean
   reverting jump diffusion model with seasonality", Applied Mathematical
   Finance 12(4), 313-335, 2005.
.. [2] E. S. Schwartz, "The stochastic behavior of commodity prices",
   J. Finance 52(3), 1997 (mean reversion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.errors import ForecastError
from twin.etrm.var import RiskFigure, historical
from twin.types import FloatArray


@dataclass(frozen=True)
class JumpDiffusion:
    """Parameters of the mean-reverting jump-diffusion (per day; prices in EUR/MWh)."""

    alpha_per_day: float
    mu_eur_per_mwh: float
    sigma_eur_per_mwh: float
    jump_intensity_per_day: float
    jump_mean_eur_per_mwh: float
    jump_sd_eur_per_mwh: float

    @classmethod
    def fit(cls, daily_price_eur_per_mwh: FloatArray, jump_threshold_sd: float = 3.0) -> JumpDiffusion:
        """Fit to a daily price series (see the module docstring).

        Raises
        ------
        ForecastError
            With fewer than 30 days, or a series that does not mean-revert.
        """
        p = np.asarray(daily_price_eur_per_mwh, dtype=float)
        p = p[np.isfinite(p)]
        if len(p) < 30:
            raise ForecastError(f"the price model needs at least 30 days of prices; it has {len(p)}")
        level, change = p[:-1], np.diff(p)
        jump = np.zeros(len(change), dtype=bool)
        for _ in range(20):
            ok = ~jump
            b, a = np.polyfit(level[ok], change[ok], 1)
            resid = change - (a + b * level)
            sd = float(np.std(resid[ok], ddof=2))
            new = np.abs(resid) > jump_threshold_sd * sd
            if (new == jump).all():
                break
            jump = new
        if not b < 0:
            raise ForecastError(f"the daily prices do not mean-revert (AR slope {b:.3g} >= 0); lengthen the lookback")
        jumps = resid[jump]
        return cls(
            alpha_per_day=float(-b),
            mu_eur_per_mwh=float(-a / b),
            sigma_eur_per_mwh=sd,
            jump_intensity_per_day=float(jump.mean()),
            jump_mean_eur_per_mwh=float(jumps.mean()) if len(jumps) else 0.0,
            jump_sd_eur_per_mwh=float(jumps.std()) if len(jumps) > 1 else 0.0,
        )

    def simulate_change(self, price_eur_per_mwh: float, horizon_days: int, n_paths: int, seed: int = 0) -> FloatArray:
        """Simulated change of the price over ``horizon_days``, shape (n_paths,). [EUR/MWh]"""
        rng = np.random.default_rng(seed)
        p = np.full(n_paths, float(price_eur_per_mwh))
        for _ in range(horizon_days):
            n_jumps = rng.poisson(self.jump_intensity_per_day, n_paths)
            jumps = n_jumps * self.jump_mean_eur_per_mwh + np.sqrt(n_jumps) * self.jump_sd_eur_per_mwh * rng.standard_normal(n_paths)
            p = p + self.alpha_per_day * (self.mu_eur_per_mwh - p) + self.sigma_eur_per_mwh * rng.standard_normal(n_paths) + jumps
        out: FloatArray = p - price_eur_per_mwh
        return out


def monte_carlo(
    position_mwh: FloatArray,
    model: JumpDiffusion,
    price_eur_per_mwh: float,
    confidence: float,
    horizon_days: int = 1,
    n_paths: int = 20_000,
    seed: int = 0,
) -> RiskFigure:
    """Monte Carlo VaR and ES of a position under the price model (parallel shift of every product)."""
    change = model.simulate_change(price_eur_per_mwh, horizon_days, n_paths, seed)
    pnl = change * float(np.sum(np.asarray(position_mwh, dtype=float)))
    return historical(pnl, confidence)
