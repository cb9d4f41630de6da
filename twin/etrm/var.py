"""Value at risk and expected shortfall of positions in delivery products, and the Kupiec backtest.

Losses are positive numbers in EUR. A position is a vector of MWh per delivery
product (bought > 0, sold < 0); its profit over the horizon in a price
scenario is ``sum(q * dp)``.

* Historical simulation: the scenarios are the price changes over the horizon
  observed in the lookback window (Jorion 2007, ch. 10).
* Parametric (variance-covariance): the P&L is normal with the mean and
  covariance of those changes; VaR = ``-(mu + z_(1-c) sigma)``, ES =
  ``-(mu - sigma phi(z_c) / (1 - c))``.
* Monte Carlo: scenarios simulated from a fitted price model
  (:mod:`twin.etrm.price_model`).
* Kupiec's proportion-of-failures test of a VaR series against realised losses.

References
----------
.. [1] P. Jorion, "Value at Risk", 3rd ed., McGraw-Hill, 2007.
.. [2] P. H. Kupiec, "Techniques for verifying the accuracy of risk measurement
   models", J. Derivatives 3(2), 73-84, 1995.
.. [3] C. Acerbi, D. Tasche, "On the coherence of expected shortfall",
   J. Banking & Finance 26(7), 2002 (ES of a discrete sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from twin.errors import ForecastError
from twin.types import FloatArray

_NORMAL = NormalDist()

CONFIDENCE_LEVELS = (0.95, 0.99, 0.995)
"""The confidence levels reported by default."""


@dataclass(frozen=True)
class RiskFigure:
    """VaR and ES at one confidence level. [EUR], losses positive."""

    confidence: float
    var_eur: float
    es_eur: float


def _check_confidence(confidence: float) -> None:
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence {confidence} must lie in (0.5, 1), e.g. 0.99")


def pnl_scenarios(position_mwh: FloatArray, price_change_eur_per_mwh: FloatArray) -> FloatArray:
    """Profit of ``position_mwh`` in each price-change scenario.

    Parameters
    ----------
    position_mwh : np.ndarray, shape (k,)
    price_change_eur_per_mwh : np.ndarray, shape (n, k)

    Returns
    -------
    np.ndarray, shape (n,)
        [EUR]
    """
    changes = np.asarray(price_change_eur_per_mwh, dtype=float)
    position = np.asarray(position_mwh, dtype=float)
    if changes.ndim != 2 or changes.shape[1] != position.shape[0]:
        raise ValueError(f"price changes of shape {changes.shape} do not match {position.shape[0]} products")
    out: FloatArray = changes @ position
    return out


def historical(pnl_eur: FloatArray, confidence: float) -> RiskFigure:
    """VaR and ES from P&L scenarios: the empirical quantile and the mean loss beyond it.

    VaR is the smallest loss ``l`` with ``P(L <= l) >= c`` over the n equally
    likely scenarios (the ``ceil(n c)``-th smallest loss); ES averages the
    ``n (1 - c)`` worst losses, the boundary scenario weighted by the fraction
    that falls in the tail (Acerbi & Tasche 2002).

    Raises
    ------
    ForecastError
        Without scenarios.
    """
    _check_confidence(confidence)
    losses = np.sort(-np.asarray(pnl_eur, dtype=float))
    n = len(losses)
    if n == 0:
        raise ForecastError("historical VaR needs at least one scenario; lengthen the lookback")
    k = min(max(math.ceil(n * confidence - 1e-9), 1), n)
    var = float(losses[k - 1])
    tail = n * (1.0 - confidence)
    whole = int(math.floor(tail + 1e-9))
    worst = losses[::-1]
    total = float(worst[:whole].sum()) + (tail - whole) * float(worst[whole] if whole < n else 0.0)
    es = total / tail if tail > 0 else var
    return RiskFigure(confidence, var, max(es, var))


def parametric(position_mwh: FloatArray, mean_eur_per_mwh: FloatArray, cov: FloatArray, confidence: float) -> RiskFigure:
    """Normal (variance-covariance) VaR and ES of a position.

    Parameters
    ----------
    position_mwh : np.ndarray, shape (k,)
    mean_eur_per_mwh : np.ndarray, shape (k,)
        Mean price change over the horizon.
    cov : np.ndarray, shape (k, k)
        Covariance of the price changes. [(EUR/MWh)^2]
    """
    _check_confidence(confidence)
    q = np.asarray(position_mwh, dtype=float)
    mu = float(q @ np.asarray(mean_eur_per_mwh, dtype=float))
    sigma = float(np.sqrt(max(q @ np.asarray(cov, dtype=float) @ q, 0.0)))
    z = _NORMAL.inv_cdf(confidence)
    var = -mu + z * sigma
    es = -mu + sigma * _NORMAL.pdf(z) / (1.0 - confidence)
    return RiskFigure(confidence, var, es)


@dataclass(frozen=True)
class KupiecResult:
    """Kupiec's proportion-of-failures test."""

    observations: int
    exceedances: int
    expected_exceedances: float
    lr_statistic: float
    p_value: float
    """Small: reject that the VaR's exceedance rate is ``1 - confidence``."""


def kupiec_pof(exceedances: int, observations: int, confidence: float) -> KupiecResult:
    """Likelihood-ratio test that exceedances occur with probability ``1 - confidence`` (Kupiec 1995).

    ``LR = -2 ln[(1-p)^(T-x) p^x] + 2 ln[(1-x/T)^(T-x) (x/T)^x]``, chi-square with
    one degree of freedom.
    """
    _check_confidence(confidence)
    if not 0 <= exceedances <= observations or observations == 0:
        raise ValueError(f"exceedances {exceedances} must lie in 0..observations ({observations}), observations > 0")
    p, t, x = 1.0 - confidence, observations, exceedances
    rate = x / t

    def loglik(prob: float) -> float:
        return (t - x) * _log(1.0 - prob) + x * _log(prob)

    lr = max(-2.0 * (loglik(p) - loglik(rate)), 0.0)
    return KupiecResult(t, x, p * t, lr, math.erfc(math.sqrt(lr / 2.0)))  # chi-square(1) survival


def _log(value: float) -> float:
    """``log`` with ``0 * log(0) = 0`` (the terms it multiplies are then 0)."""
    return math.log(value) if value > 0 else 0.0


def exceedances(var_eur: FloatArray, loss_eur: FloatArray) -> int:
    """Days on which the realised loss exceeded the VaR forecast for it."""
    v, loss = np.asarray(var_eur, dtype=float), np.asarray(loss_eur, dtype=float)
    ok = np.isfinite(v) & np.isfinite(loss)
    return int((loss[ok] > v[ok]).sum())
