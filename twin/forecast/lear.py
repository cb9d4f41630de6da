"""LEAR: the lasso-estimated auto-regressive day-ahead price model of the epftoolbox benchmark.

For each delivery slot h of day D (24 hourly or 96 quarter-hourly), one linear
model on

* the prices of D-1, D-2, D-3 and D-7 (every slot of each day),
* the exogenous day-ahead forecasts (load, renewables) of D, D-1 and D-7,
* seven day-of-week dummies of D,

with the prices and exogenous inputs scaled by the median and the MAD of the
calibration window and passed through ``asinh`` (the "invariant" variance-
stabilising transform), the dummies unscaled. The lasso penalty of each slot's
model is chosen by LARS with the Akaike information criterion
(scikit-learn ``LassoLarsIC``, with the noise variance estimated as the target's
variance, the criterion of scikit-learn < 1.1 that epftoolbox used); the LARS
path is the exact lasso path, so its coefficients at that penalty are the lasso
fit (epftoolbox re-fits them by coordinate descent, which converges to the
same); the forecast is transformed back. The model is
recalibrated for every day. The ensemble averages the forecasts of four
calibration windows: 56, 84, 1,092 and 1,456 days.

What D's forecast may use: prices up to the end of D-1 (published at D-2's
auction, before D's gate) and the exogenous forecasts up to D (published the
morning of D-1, before the gate, as in the benchmark).

References
----------
.. [1] J. Lago, G. Marcjasz, B. De Schutter, R. Weron, "Forecasting day-ahead
   electricity prices: A review of state-of-the-art algorithms, best practices
   and an open-access benchmark", Applied Energy 293, 116983, 2021,
   doi:10.1016/j.apenergy.2021.116983 (LEAR, section 4.1; epftoolbox).
.. [2] B. Uniejewski, J. Nowotarski, R. Weron, "Automated variable selection and
   shrinkage for day-ahead electricity price forecasting", Energies 9(8), 621, 2016.
.. [3] B. Uniejewski, R. Weron, F. Ziel, "Variance stabilizing transformations for
   electricity spot price forecasting", IEEE Trans. Power Syst. 33(2), 2018.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed  # type: ignore[import-untyped]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.linear_model import LassoLarsIC  # type: ignore[import-untyped]

from twin.errors import ForecastError
from twin.forecast.table import DailyTable
from twin.types import FloatArray

LEAR_WINDOWS_DAYS = (56, 84, 1092, 1456)
"""Calibration windows of the LEAR ensemble [days] (Lago et al. 2021)."""

PRICE_LAGS_DAYS = (1, 2, 3, 7)
EXOGENOUS_LAGS_DAYS = (0, 1, 7)
_MAX_LAG = 7
_MAD_TO_SIGMA = 0.6745


def features(prices: FloatArray, exogenous: FloatArray, weekday: np.ndarray, day: int) -> FloatArray:
    """The LEAR input row of day index ``day``.

    Parameters
    ----------
    prices : np.ndarray, shape (n_days, S)
        Prices per day and slot; only rows ``< day`` are read. [EUR/MWh]
    exogenous : np.ndarray, shape (n_days, S, k)
        Exogenous day-ahead forecasts; rows ``<= day`` are read.
    weekday : np.ndarray of int, shape (n_days,)
        Day of week (Monday 0) of each day.
    day : int
        The target day; needs ``day >= 7``.

    Returns
    -------
    np.ndarray, shape (4 S + 3 S k + 7,)
        Price lags, exogenous lags, then the day-of-week dummies.
    """
    parts = [prices[day - lag] for lag in PRICE_LAGS_DAYS]
    parts += [exogenous[day - lag].T.ravel() for lag in EXOGENOUS_LAGS_DAYS]
    dummies = np.zeros(7)
    dummies[int(weekday[day])] = 1.0
    return np.concatenate([*parts, dummies])


class _Invariant:
    """Median/MAD scaling then ``asinh`` (Uniejewski, Weron, Ziel 2018), per column."""

    def __init__(self, data: FloatArray) -> None:
        self.median = np.median(data, axis=0)
        mad = np.median(np.abs(data - self.median), axis=0) / _MAD_TO_SIGMA
        self.mad = np.where(mad > 1e-9, mad, 1.0)

    def transform(self, data: FloatArray) -> FloatArray:
        out: FloatArray = np.arcsinh((data - self.median) / self.mad)
        return out

    def inverse(self, data: FloatArray) -> FloatArray:
        out: FloatArray = np.sinh(data) * self.mad + self.median
        return out


def forecast_window(
    prices: FloatArray, exogenous: FloatArray, weekday: np.ndarray, day: int, window_days: int
) -> FloatArray:
    """LEAR forecast of day ``day`` calibrated on the ``window_days`` days before it.

    Returns
    -------
    np.ndarray, shape (S,)
        [EUR/MWh]

    Raises
    ------
    ForecastError
        If fewer than 14 calibration days are available.
    """
    first = max(_MAX_LAG, day - window_days)
    train_days = np.arange(first, day)
    if len(train_days) < 14:
        raise ForecastError(
            f"LEAR needs at least 14 calibration days before day {day} plus 7 of lags; "
            f"it has {len(train_days)}"
        )
    x = np.vstack([features(prices, exogenous, weekday, int(t)) for t in train_days])
    y = prices[train_days]
    complete = np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)  # days with a gap are left out
    x, y = x[complete], y[complete]
    if len(y) < 14:
        raise ForecastError(
            f"LEAR needs at least 14 complete calibration days before day {day}; it has {len(y)}"
        )
    x_new = features(prices, exogenous, weekday, day)[None, :]
    n_scaled = x.shape[1] - 7
    x_scaler, y_scaler = _Invariant(x[:, :n_scaled]), _Invariant(y)
    xs = np.hstack([x_scaler.transform(x[:, :n_scaled]), x[:, n_scaled:]])
    xs_new = np.hstack([x_scaler.transform(x_new[:, :n_scaled]), x_new[:, n_scaled:]])
    ys = y_scaler.transform(y)
    out = np.empty(y.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for h in range(y.shape[1]):
            # noise variance = var(y): the AIC of scikit-learn < 1.1, which epftoolbox used
            noise = max(float(np.var(ys[:, h])), 1e-12)
            lars = LassoLarsIC(criterion="aic", max_iter=2500, noise_variance=noise)
            out[h] = float(lars.fit(xs, ys[:, h]).predict(xs_new)[0])
    result: FloatArray = y_scaler.inverse(out[None, :])[0]
    return result


@dataclass(frozen=True)
class Lear:
    """The LEAR ensemble: the mean of :func:`forecast_window` over ``windows_days``.

    A window longer than the history available is cut to it (the first days of
    a data set have the short windows only in effect).
    """

    windows_days: tuple[int, ...] = LEAR_WINDOWS_DAYS
    n_jobs: int = 1
    """Processes that calibrate the windows in parallel (joblib); 1: in this process; 0: one per CPU."""
    name: str = "lear"

    @property
    def lookback_days(self) -> int:
        """Days of prices before the target a forecast reads: the longest window plus the lags. [d]"""
        return _MAX_LAG + max(self.windows_days)

    def predict(self, table: DailyTable, day: int) -> FloatArray:
        """The S prices of day index ``day`` of ``table`` (see :class:`~twin.forecast.daily.DailyModel`)."""
        return self.forecast_day(table.prices, table.exogenous, table.weekday, day)

    @property
    def history_days(self) -> int:
        """Days needed before the first forecast: the lags plus the shortest window. [d]"""
        return _MAX_LAG + min(self.windows_days)

    def forecast_day(
        self, prices: FloatArray, exogenous: FloatArray, weekday: np.ndarray, day: int
    ) -> FloatArray:
        """Forecast the slots of day index ``day`` (see :func:`features` for what it reads).

        Returns
        -------
        np.ndarray, shape (S,)
            [EUR/MWh]
        """
        if day < self.history_days:
            raise ForecastError(
                f"LEAR needs {self.history_days} days of history before the first forecast; "
                f"day {day} has {day}"
            )
        jobs = self.n_jobs or min(os.cpu_count() or 1, len(self.windows_days))
        if jobs > 1:
            runs = Parallel(n_jobs=jobs)(
                delayed(forecast_window)(prices, exogenous, weekday, day, w) for w in self.windows_days
            )
        else:
            runs = [forecast_window(prices, exogenous, weekday, day, w) for w in self.windows_days]
        ensemble: FloatArray = np.mean(runs, axis=0)
        return ensemble
