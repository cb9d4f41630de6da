"""Accuracy of day-ahead price forecasts: MAE, rMAE, sMAPE, RMSE and the Diebold-Mariano test.

Arrays are (n_days, S): one row per delivery day, one column per slot.

* ``rmae_weekly``, ``rmae_daily``: MAE over the MAE of the naive forecast on
  the same test days: the price of the same slot one week earlier, or one day
  earlier (Lago et al. 2021 use the weekly one; both are reported, named).
* ``smape_pct``: ``100 * mean(2 |y - f| / (|y| + |f|))``.
* Diebold-Mariano, multivariate with the L1 norm as in epftoolbox: per day
  ``d_t = ||y_t - f_base,t||_1 - ||y_t - f_model,t||_1``, statistic
  ``mean(d) / sd(d) * sqrt(n)``, one-sided p-value ``1 - Phi(statistic)``: a small
  p-value says the model is more accurate than the baseline.

References
----------
.. [1] F. X. Diebold, R. S. Mariano, "Comparing predictive accuracy", J. Bus. Econ.
   Stat. 13(3), 1995.
.. [2] J. Lago et al., Applied Energy 293, 116983, 2021 (rMAE, multivariate DM).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from twin.types import FloatArray


def mae(actual: FloatArray, forecast: FloatArray) -> float:
    """Mean absolute error. [EUR/MWh]"""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))))


def rmse(actual: FloatArray, forecast: FloatArray) -> float:
    """Root mean squared error. [EUR/MWh]"""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2)))


def smape_pct(actual: FloatArray, forecast: FloatArray) -> float:
    """Symmetric mean absolute percentage error (slots where both are 0 count 0). [%]"""
    a, f = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    den = np.abs(a) + np.abs(f)
    ratio = np.divide(2 * np.abs(a - f), den, out=np.zeros_like(den), where=den > 0)
    return float(100 * np.mean(ratio))


def diebold_mariano(actual: FloatArray, model: FloatArray, baseline: FloatArray) -> tuple[float, float]:
    """Multivariate DM test (L1 norm per day) of ``model`` against ``baseline``.

    Returns
    -------
    (float, float)
        The statistic and the one-sided p-value (small: the model is more
        accurate); ``(nan, nan)`` when the loss differential does not vary.
    """
    a = np.asarray(actual, dtype=float)
    return diebold_mariano_losses(np.abs(a - model).sum(axis=1), np.abs(a - baseline).sum(axis=1))


def diebold_mariano_losses(model_loss: FloatArray, baseline_loss: FloatArray) -> tuple[float, float]:
    """DM test on per-period losses (e.g. each day's L1 error norm) of the model and the baseline.

    ``d_t = baseline_loss_t - model_loss_t``; statistic ``mean(d) / sd(d) * sqrt(n)``.

    Returns
    -------
    (float, float)
        As :func:`diebold_mariano`.
    """
    d = np.asarray(baseline_loss, dtype=float) - np.asarray(model_loss, dtype=float)
    sd = float(np.std(d, ddof=1)) if len(d) > 1 else 0.0
    if not sd > 0:
        return math.nan, math.nan
    statistic = float(np.mean(d) / sd * math.sqrt(len(d)))
    return statistic, float(1.0 - stats.norm.cdf(statistic))


def naive(prices: FloatArray, days: np.ndarray, lag_days: int) -> FloatArray:
    """The naive forecast of ``days``: the same slot ``lag_days`` earlier. [EUR/MWh]"""
    out: FloatArray = np.asarray(prices, dtype=float)[np.asarray(days) - lag_days]
    return out


def accuracy(prices: FloatArray, days: np.ndarray, forecast: FloatArray) -> dict[str, float]:
    """MAE, rMAE (weekly and daily naive), sMAPE and RMSE of ``forecast`` for ``days``.

    Parameters
    ----------
    prices : np.ndarray, shape (n_days, S)
        Realised prices of the whole data set (the naive forecasts read earlier days).
    days : np.ndarray of int, shape (m,)
        Test days (indices into ``prices``, each >= 7).
    forecast : np.ndarray, shape (m, S)
    """
    actual = np.asarray(prices, dtype=float)[days]
    out = {"mae_eur_per_mwh": mae(actual, forecast)}
    for name, lag in (("weekly", 7), ("daily", 1)):
        base = mae(actual, naive(prices, days, lag))
        out[f"rmae_{name}"] = out["mae_eur_per_mwh"] / base if base > 0 else math.nan
    out["smape_pct"] = smape_pct(actual, forecast)
    out["rmse_eur_per_mwh"] = rmse(actual, forecast)
    return out
