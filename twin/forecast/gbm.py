"""Gradient-boosted trees (LightGBM) for day-ahead prices, on the LEAR inputs plus calendar features.

One model for all S slots of the day (the slot is a feature), trained on the
``window_days`` days before its training day with the same median/MAD + asinh
target transform as LEAR, re-trained every ``refit_days`` on a calendar
schedule (:func:`~twin.forecast.calendar_features.anchor_day`). Features of
slot s of day D: the slot; weekday, public holiday and season of D; the prices
of slot s on D-1, D-2, D-3 and D-7; the mean, minimum, maximum and last price of
D-1 and the mean of D-7; each exogenous forecast for slot s on D, D-1 and D-7,
its daily mean on D and its change against D-7.

References
----------
.. [1] G. Ke et al., "LightGBM: A highly efficient gradient boosting decision
   tree", NeurIPS 2017.
.. [2] J. Lago et al., Applied Energy 293, 116983, 2021 (inputs of LEAR/DNN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.errors import ForecastError
from twin.forecast.calendar_features import is_holiday, season, training_anchor
from twin.forecast.lear import _Invariant
from twin.forecast.table import DailyTable
from twin.types import FloatArray

_MAX_LAG = 7
PARAMS: dict[str, Any] = {
    "objective": "l1",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
"""LightGBM parameters (fixed; not tuned on any test year)."""
ROUNDS = 400


def design(table: DailyTable, days: np.ndarray) -> FloatArray:
    """Feature rows of every slot of ``days``: shape (len(days) * S, n_features)."""
    p, x = table.prices, table.exogenous
    s_count = table.slots
    days = np.asarray(days, dtype=int)
    slot = np.tile(np.arange(s_count), len(days))
    rows = np.repeat(days, s_count)
    cal_days = [table.dates[d] for d in days]
    holiday = np.repeat(is_holiday(cal_days, table.holidays_country), s_count)
    seasonal = np.repeat(season(cal_days), s_count, axis=0)
    d1 = p[days - 1]
    columns = [
        slot,
        np.repeat(table.weekday[days], s_count),
        holiday,
        seasonal[:, 0],
        seasonal[:, 1],
        *(p[rows - lag, slot] for lag in (1, 2, 3, 7)),
        np.repeat(d1.mean(axis=1), s_count),
        np.repeat(d1.min(axis=1), s_count),
        np.repeat(d1.max(axis=1), s_count),
        np.repeat(d1[:, -1], s_count),
        np.repeat(p[days - 7].mean(axis=1), s_count),
    ]
    for k in range(x.shape[2]):
        columns += [
            x[rows, slot, k],
            x[rows - 1, slot, k],
            x[rows - 7, slot, k],
            np.repeat(x[days, :, k].mean(axis=1), s_count),
            x[rows, slot, k] - x[rows - 7, slot, k],
        ]
    out: FloatArray = np.column_stack(columns).astype(float)
    return out


@dataclass
class GradientBoosting:
    """LightGBM day-ahead price model (see the module docstring)."""

    window_days: int = 728
    refit_days: int = 7
    name: str = "lightgbm"
    _fitted: dict[Any, tuple[Any, _Invariant]] = field(default_factory=dict, repr=False)

    @property
    def history_days(self) -> int:
        """Days before the first forecast: the lags plus four weeks of training. [d]"""
        return _MAX_LAG + 28

    @property
    def lookback_days(self) -> int:
        """[d]"""
        return _MAX_LAG + self.window_days + self.refit_days

    def _model(self, table: DailyTable, anchor: int) -> tuple[Any, _Invariant]:
        key = table.dates[anchor]
        if key in self._fitted:
            return self._fitted[key]
        import lightgbm as lgb

        train = np.arange(max(_MAX_LAG, anchor - self.window_days), anchor)
        if len(train) < 28:
            raise ForecastError(
                f"lightgbm needs 28 training days plus {_MAX_LAG} of lags before {table.dates[anchor]}; "
                f"it has {len(train)}"
            )
        train = train[np.isfinite(table.prices[train]).all(axis=1)]
        scaler = _Invariant(table.prices[train].reshape(-1, 1))
        target = scaler.transform(table.prices[train].reshape(-1, 1)).ravel()
        booster = lgb.train(PARAMS, lgb.Dataset(design(table, train), target), num_boost_round=ROUNDS)
        self._fitted = {key: (booster, scaler)}  # one model in memory: the schedule moves forward
        return booster, scaler

    def predict(self, table: DailyTable, day: int) -> FloatArray:
        """The S prices of day index ``day``. [EUR/MWh]"""
        anchor = training_anchor(self.name, table.dates, day, self.history_days, self.refit_days)
        booster, scaler = self._model(table, anchor)
        raw = booster.predict(design(table, np.array([day])))
        out: FloatArray = scaler.inverse(np.asarray(raw, dtype=float).reshape(-1, 1)).ravel()
        return out
