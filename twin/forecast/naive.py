"""Day-ahead price forecasters.

A forecaster predicts the prices of a planning horizon from the prices that
were *published* before the day-ahead gate closure of delivery day D (D-1,
12:00 local). Day-ahead results for D-1 are published on D-2, so at that moment
every price up to the end of D-1 is known and nothing of D. The caller hands
the forecaster only that history (see
:meth:`twin.markets.calendar.PublicationCalendar.published_day_ahead`); a forecaster
cannot see what it is not given.

``persistence`` and ``seasonal_naive`` look up the same local wall-clock time
on an earlier day, so DST days are handled as a trader would: on a 25-hour day
the repeated hour reuses the first occurrence, on a 23-hour day the missing hour
is skipped.

References
----------
.. [1] J. Lago, G. Marcjasz, B. De Schutter, R. Weron, "Forecasting day-ahead
   electricity prices: A review of state-of-the-art algorithms, best practices
   and an open-access benchmark", Applied Energy 293, 116983, 2021,
   doi:10.1016/j.apenergy.2021.116983 (naive benchmarks: same hour of the day
   before / of the week before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.errors import ForecastError


class Forecaster(Protocol):
    """Predicts prices for a horizon from the published history."""

    @property
    def name(self) -> str:
        """Name of the forecaster, as a scenario spells it."""

    @property
    def history_days(self) -> int:
        """Days of published history needed before the first delivery day. [d]"""

    @property
    def lookback_days(self) -> int:
        """Days of published history any forecast reads (what a caller must keep). [d]"""

    def forecast(
        self, history: pd.Series, target_index: pd.DatetimeIndex, tz: str
    ) -> npt.NDArray[np.float64]:
        """Predict prices for ``target_index``.

        Parameters
        ----------
        history : pd.Series
            Published prices (everything strictly before delivery day D). [EUR/MWh]
        target_index : pd.DatetimeIndex
            UTC interval starts of the horizon, first element = start of D.
        tz : str
            Local market time zone.

        Returns
        -------
        np.ndarray, shape (len(target_index),)
            Forecast prices. [EUR/MWh]

        Raises
        ------
        ForecastError
            If ``history`` is too short.
        """
        ...


def _same_local_time_days_back(
    history: pd.Series,
    target_index: pd.DatetimeIndex,
    tz: str,
    period_days: int,
) -> npt.NDArray[np.float64]:
    """Look up each target's local wall-clock time ``k * period_days`` days earlier.

    ``k`` is the smallest positive integer that lands before the end of the
    history, so a 36-h horizon from D uses D-1 for D and again D-1 for D+1
    (persistence, ``period_days=1``).
    """
    if history.empty:
        raise ForecastError("no published price history before the first delivery day")
    local_hist = pd.DatetimeIndex(history.index).tz_convert(tz).tz_localize(None)
    by_local = pd.Series(history.to_numpy(), index=local_hist)
    by_local = by_local[~by_local.index.duplicated(keep="first")]
    cutoff = target_index[0].tz_convert(tz).tz_localize(None)
    local_target = target_index.tz_convert(tz).tz_localize(None)
    period = pd.Timedelta(days=period_days)
    k = np.floor((local_target - cutoff) / period).astype(int) + 1
    keys = local_target - period * k
    values = by_local.reindex(keys, method="ffill").to_numpy(dtype=float)
    earliest = by_local.index[0]
    if np.isnan(values).any() or keys.min() < earliest:
        raise ForecastError(
            f"forecast for {target_index[0].isoformat()} needs published prices from "
            f"{keys.min()} (local) but the history starts at {earliest}; start the backtest "
            f"at least {period_days} day(s) after the first price"
        )
    return values


@dataclass(frozen=True)
class SameLocalTimeEarlier:
    """Naive forecast: the same local wall-clock time ``period_days`` earlier.

    ``period_days=1`` is persistence (D-1), ``period_days=7`` the seasonal naive
    forecast (same weekday one week earlier).
    """

    name: str
    period_days: int

    @property
    def history_days(self) -> int:
        """Days of published history needed before the first delivery day. [d]"""
        return self.period_days

    @property
    def lookback_days(self) -> int:
        """[d]"""
        return self.period_days

    def forecast(
        self, history: pd.Series, target_index: pd.DatetimeIndex, tz: str
    ) -> npt.NDArray[np.float64]:
        """Predict prices for ``target_index`` (see :class:`Forecaster`). [EUR/MWh]"""
        return _same_local_time_days_back(history, target_index, tz, self.period_days)


def Persistence() -> SameLocalTimeEarlier:  # noqa: N802 (reads as a class at call sites)
    """Tomorrow looks like the last published day: same local time on D-1."""
    return SameLocalTimeEarlier("persistence", 1)


def SeasonalNaive() -> SameLocalTimeEarlier:  # noqa: N802
    """Tomorrow looks like the same weekday one week earlier: same local time on D-7."""
    return SameLocalTimeEarlier("seasonal_naive", 7)


@dataclass(frozen=True)
class PerfectForesight:
    """The realised prices: the upper bound every strategy is measured against.

    Beyond the end of the realised data (the tail of the last horizon) it falls
    back to persistence from the realised series.
    """

    realised: pd.Series
    name: str = "perfect"
    history_days: int = 0
    lookback_days: int = 1

    def forecast(
        self, history: pd.Series, target_index: pd.DatetimeIndex, tz: str
    ) -> npt.NDArray[np.float64]:
        """Return the realised prices of ``target_index`` (see :class:`Forecaster`). [EUR/MWh]"""
        values = np.array(self.realised.reindex(target_index), dtype=float)
        missing = np.isnan(values)
        if missing.any():
            known = self.realised.loc[self.realised.index < target_index[missing][0]]
            values[missing] = _same_local_time_days_back(
                known, target_index[missing], tz, period_days=1
            )
        return values


def make_forecaster(name: str, realised: pd.Series | None = None) -> Forecaster:
    """Build a forecaster by name.

    Parameters
    ----------
    name : {'perfect', 'persistence', 'seasonal_naive'}
    realised : pd.Series, optional
        Realised prices; required for ``perfect``. [EUR/MWh]

    Returns
    -------
    Forecaster

    Raises
    ------
    ValueError
        For an unknown name or ``perfect`` without ``realised``.
    """
    if name == "persistence":
        return Persistence()
    if name == "seasonal_naive":
        return SeasonalNaive()
    if name == "perfect":
        if realised is None:
            raise ValueError("the perfect forecaster needs the realised prices")
        return PerfectForesight(realised)
    raise ValueError(f"unknown forecaster {name!r}; choose perfect, persistence or seasonal_naive")


FORECASTERS: tuple[str, ...] = ("perfect", "persistence", "seasonal_naive")
"""Names accepted by :func:`make_forecaster`."""
