"""Load and PV forecasts for a site's EMS: naive profiles, a typical week, and LightGBM on calendar features.

Every forecaster here maps ``(values, index_ns, positions, decision_ns)`` to
forecasts for ``positions`` and reads only values measured before
``decision_ns`` (a step counts once it has ended):

* ``persistence``: the same time on the last measured day;
* ``weekly``: the same time one week earlier;
* ``week_max``: the highest value at the same time over the last 7 measured days;
* ``typical_week``: the mean of the same weekday and time over the last four
  measured weeks (the typical-week profile);
* ``lightgbm``: gradient-boosted trees on the local time of day, weekday,
  public holiday and season, the persistence and weekly values and the mean of
  the last measured 24 h; trained on the days before the decision whose every
  step was measured by then (``window_days``), re-trained every
  ``refit_days`` days.

References
----------
.. [1] T. Hong, S. Fan, "Probabilistic electric load forecasting: A tutorial
   review", Int. J. Forecasting 32(3), 914-938, 2016 (calendar and lagged-load
   features; naive and similar-day benchmarks).
.. [2] G. Ke et al., "LightGBM", NeurIPS 2017.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from twin.forecast.calendar_features import is_holiday, season
from twin.types import FloatArray

NS_PER_DAY = 86_400 * 10**9
PROFILE_MODELS = ("persistence", "weekly", "week_max", "typical_week", "lightgbm")
"""Names :func:`forecast_profile` accepts (besides ``perfect``)."""


def persistence(
    values: FloatArray, index_ns: np.ndarray, positions: np.ndarray, decision_ns: int, period_days: int = 1
) -> FloatArray:
    """For each position, the value whole periods earlier that was measured before ``decision_ns``.

    Parameters
    ----------
    values : np.ndarray, shape (T,)
    index_ns : np.ndarray of int64, shape (T,)
        Interval starts. [ns]
    positions : np.ndarray of int, shape (n,)
        Target steps (may run past T: their time is extrapolated on the grid).
    decision_ns : int
        When the forecast is made; a step counts as measured once it has ended. [ns]
    period_days : int
        Shift unit: 1 (the last measured day) or 7 (the same weekday).

    Returns
    -------
    np.ndarray, shape (n,)
    """
    step_ns = int(index_ns[1] - index_ns[0]) if len(index_ns) > 1 else NS_PER_DAY
    period_ns = NS_PER_DAY * period_days
    steps_per_period = period_ns // step_ns
    t = int(index_ns[0]) + np.asarray(positions, dtype=np.int64) * step_ns
    k = np.maximum(1, -(-(t + step_ns - decision_ns) // period_ns))  # ceil: whole periods back
    src = np.asarray(positions, dtype=np.int64) - k * steps_per_period
    out: FloatArray = np.asarray(values, dtype=float)[np.clip(src, 0, len(values) - 1)]
    return out


def week_max(values: FloatArray, index_ns: np.ndarray, positions: np.ndarray, decision_ns: int) -> FloatArray:
    """The highest measured value at the same time over the last 7 measured days."""
    steps_per_day = _steps_per_day(index_ns)
    back = [persistence(values, index_ns, positions - d * steps_per_day, decision_ns) for d in range(7)]
    out: FloatArray = np.max(np.vstack(back), axis=0)
    return out


def typical_week(
    values: FloatArray, index_ns: np.ndarray, positions: np.ndarray, decision_ns: int, weeks: int = 4
) -> FloatArray:
    """Mean of the same weekday and time over the last ``weeks`` measured weeks."""
    steps_per_week = 7 * _steps_per_day(index_ns)
    back = [persistence(values, index_ns, positions - w * steps_per_week, decision_ns, 7) for w in range(weeks)]
    out: FloatArray = np.mean(np.vstack(back), axis=0)
    return out


def _steps_per_day(index_ns: np.ndarray) -> int:
    step_ns = int(index_ns[1] - index_ns[0]) if len(index_ns) > 1 else NS_PER_DAY
    return NS_PER_DAY // step_ns


@dataclass
class ProfileGbm:
    """LightGBM load/PV forecaster on calendar features and measured lags (see the module docstring)."""

    tz: str = "Europe/Berlin"
    holidays_country: str | None = "DE"
    window_days: int = 56
    refit_days: int = 7
    _fitted: dict[int, Any] = field(default_factory=dict, repr=False)

    def _features(
        self, values: FloatArray, index_ns: np.ndarray, positions: np.ndarray, decision_ns: int
    ) -> FloatArray:
        step_ns = int(index_ns[1] - index_ns[0])
        stamps = pd.DatetimeIndex(int(index_ns[0]) + np.asarray(positions, dtype=np.int64) * step_ns, tz="UTC")
        local = stamps.tz_convert(self.tz)
        dates = [d.date() for d in local]
        last = np.asarray(values, dtype=float)
        measured = int((decision_ns - int(index_ns[0])) // step_ns)  # steps ended by the decision
        recent = last[max(0, measured - _steps_per_day(index_ns)) : max(measured, 1)]
        seasonal = season(dates)
        return np.column_stack(
            [
                local.hour + local.minute / 60.0,
                local.day_of_week,
                is_holiday(dates, self.holidays_country),
                seasonal[:, 0],
                seasonal[:, 1],
                persistence(values, index_ns, positions, decision_ns, 1),
                persistence(values, index_ns, positions, decision_ns, 7),
                np.full(len(positions), float(np.nanmean(recent)) if len(recent) else 0.0),
            ]
        ).astype(float)

    def _model(self, values: FloatArray, index_ns: np.ndarray, decision_ns: int) -> Any:
        anchor_day = (decision_ns // NS_PER_DAY) // self.refit_days * self.refit_days
        if anchor_day in self._fitted:
            return self._fitted[anchor_day]
        import lightgbm as lgb

        spd = _steps_per_day(index_ns)
        step_ns = int(index_ns[1] - index_ns[0])
        anchor_ns = anchor_day * NS_PER_DAY + (decision_ns % NS_PER_DAY)
        measured = int((anchor_ns - int(index_ns[0])) // step_ns)  # steps ended by the anchor
        rows, targets = [], []
        for back in range(1, self.window_days + 1):  # whole days measured by the anchor, each
            day = np.arange(measured - back * spd, measured - (back - 1) * spd)  # forecast 12 h ahead
            if day[0] < 8 * spd or day[-1] >= len(values):
                continue
            target = np.asarray(values, dtype=float)[day]
            if not np.isfinite(target).all():
                continue
            gate = int(index_ns[0]) + int(day[0]) * step_ns - NS_PER_DAY // 2
            rows.append(self._features(values, index_ns, day, gate))
            targets.append(target)
        if len(rows) < 14:
            self._fitted[anchor_day] = None
            return None
        params = {"objective": "l1", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20,
                  "seed": 0, "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbose": -1}  # fmt: skip
        booster = lgb.train(params, lgb.Dataset(np.vstack(rows), np.concatenate(targets)), num_boost_round=200)
        self._fitted = {anchor_day: booster}
        return booster

    def forecast(
        self, values: FloatArray, index_ns: np.ndarray, positions: np.ndarray, decision_ns: int
    ) -> FloatArray:
        """Forecast ``positions``; falls back to the typical week while fewer than 14 training days exist."""
        booster = self._model(values, index_ns, decision_ns)
        if booster is None:
            return typical_week(values, index_ns, positions, decision_ns)
        out: FloatArray = np.asarray(booster.predict(self._features(values, index_ns, positions, decision_ns)), dtype=float)
        return out


def forecast_profile(
    how: str,
    values: FloatArray,
    index_ns: np.ndarray,
    positions: np.ndarray,
    decision_ns: int,
    model: ProfileGbm | None = None,
) -> FloatArray:
    """Dispatch to the profile forecaster ``how`` (one of :data:`PROFILE_MODELS`).

    Raises
    ------
    ValueError
        For an unknown name, or ``lightgbm`` without a ``model``.
    """
    if how == "persistence":
        return persistence(values, index_ns, positions, decision_ns, 1)
    if how == "weekly":
        return persistence(values, index_ns, positions, decision_ns, 7)
    if how == "week_max":
        return week_max(values, index_ns, positions, decision_ns)
    if how == "typical_week":
        return typical_week(values, index_ns, positions, decision_ns)
    if how == "lightgbm":
        if model is None:
            raise ValueError("the lightgbm profile forecaster needs its model instance")
        out: FloatArray = np.maximum(model.forecast(values, index_ns, positions, decision_ns), 0.0)
        return out
    raise ValueError(f"unknown load/PV forecaster {how!r}; choose {', '.join(PROFILE_MODELS)} or perfect")


def gate_ns(day: dt.date, tz: str, gate_local: dt.time = dt.time(12)) -> int:
    """The day-ahead gate of delivery day ``day`` (D-1 at ``gate_local``) as UTC ns."""
    stamp = pd.Timestamp(dt.datetime.combine(day - dt.timedelta(days=1), gate_local)).tz_localize(tz)
    return int(stamp.tz_convert("UTC").value)
