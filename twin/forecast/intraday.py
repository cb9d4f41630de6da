"""Intraday price forecasters: what a site expects an intraday product to trade at.

A site decides its intraday orders at a session's time τ (the intraday auction on
D-1 at 15:00 local, or a continuous trading round) from a forecast that may use
only what is public at τ:

* the day-ahead prices of D (public from D-1 ~12:45);
* the intraday prices of products whose price is already published: the
  auction prices of earlier auctions (each is public shortly after its auction,
  D-1 ~15:10 for D), the continuous indices of products already delivered;
* nothing of the product's own intraday price.

:class:`DayAheadPlusShape` is the documented starting point: the product's
day-ahead price plus the mean spread ``intraday - day-ahead`` of the same local
quarter hour of the day over the last ``lookback_days`` published observations.
The spread captures the "sawtooth" of 15-min products inside an hourly auction
(the first quarter of a morning hour trades below the hour's price, the last
above it, reversed in the evening) and any level difference between the markets.
:class:`PerfectIntraday` returns the realised prices: the bound every
forecaster is measured against. Both sit behind :class:`IntradayForecaster`, so
better models plug in without touching the sites.

References
----------
.. [1] R. Kiesel, F. Paraschiv, "Econometric analysis of 15-minute intraday
   electricity prices", Energy Economics 64, 77-90, 2017,
   doi:10.1016/j.eneco.2017.03.002 (the quarter-hourly sawtooth pattern of the
   German intraday market around hourly day-ahead prices).
.. [2] EPEX SPOT, "Intraday auction (15:00) and continuous trading: market
   timeline, ID1/ID3 indices".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from twin.types import FloatArray


class IntradayForecaster(Protocol):
    """Forecasts intraday prices of grid steps from what is public at a decision time."""

    name: str

    def forecast(self, positions: np.ndarray, at_utc: pd.Timestamp) -> FloatArray:
        """Forecast the intraday price of the grid steps ``positions``, as known at ``at_utc``.

        Parameters
        ----------
        positions : np.ndarray of int, shape (n,)
            Positions of the products in the backtest grid.
        at_utc : pd.Timestamp
            The decision time (tz-aware).

        Returns
        -------
        np.ndarray, shape (n,)
            Forecast intraday prices. [EUR/MWh]
        """
        ...


def _ns(index: pd.DatetimeIndex | pd.Timestamp) -> np.ndarray:
    times = pd.DatetimeIndex([index]) if isinstance(index, pd.Timestamp) else pd.DatetimeIndex(index)
    return np.asarray(times.tz_convert("UTC").as_unit("ns").asi8)


@dataclass
class DayAheadPlusShape:
    """Day-ahead price plus the recent mean intraday-minus-day-ahead spread of the quarter hour.

    For product t and decision time τ::

        f_t = DA_t + mean_{s in S(t, τ)} (ID_s - DA_s)

    where S(t, τ) are the last ``lookback_days`` grid steps with the same local
    time of day as t whose intraday price was published before τ and is not missing
    (fewer when the history is short; the spread is 0 without any).

    Parameters
    ----------
    day_ahead_eur_per_mwh : np.ndarray, shape (T,)
        Day-ahead prices on the backtest grid. [EUR/MWh]
    intraday_eur_per_mwh : np.ndarray, shape (T,)
        The reference intraday prices on the same grid, NaN where missing. [EUR/MWh]
    published_utc : pd.DatetimeIndex, length T
        When each step's intraday price became public (monotone non-decreasing).
    slot : np.ndarray of int, shape (T,)
        Local time-of-day slot of each step (e.g. 0..95 for quarter hours).
    lookback_days : int
        Observations per slot averaged.
    """

    day_ahead_eur_per_mwh: FloatArray
    intraday_eur_per_mwh: FloatArray
    published_utc: pd.DatetimeIndex
    slot: np.ndarray
    lookback_days: int = 7
    name: str = "day_ahead_plus_shape"
    _published_ns: np.ndarray = field(init=False, repr=False)
    _by_slot: dict[int, np.ndarray] = field(init=False, repr=False)
    _spread: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.day_ahead_eur_per_mwh) != len(self.intraday_eur_per_mwh):
            raise ValueError("day-ahead and intraday prices must be on the same grid")
        self._published_ns = _ns(self.published_utc)
        if np.any(np.diff(self._published_ns) < 0):
            raise ValueError("published_utc must be non-decreasing along the grid")
        self._spread = np.asarray(self.intraday_eur_per_mwh, dtype=float) - np.asarray(
            self.day_ahead_eur_per_mwh, dtype=float
        )
        slots = np.asarray(self.slot)
        self._by_slot = {
            int(k): np.flatnonzero((slots == k) & np.isfinite(self._spread))
            for k in np.unique(slots)
        }

    def shape(self, positions: np.ndarray, at_utc: pd.Timestamp) -> FloatArray:
        """The mean spread ``ID - DA`` used for each of ``positions`` at ``at_utc``. [EUR/MWh]"""
        cutoff = int(np.searchsorted(self._published_ns, _ns(at_utc)[0], side="left"))
        out = np.zeros(len(positions))
        slots = np.asarray(self.slot)[positions]
        for k in np.unique(slots):
            observed = self._by_slot.get(int(k), np.empty(0, dtype=int))
            end = int(np.searchsorted(observed, cutoff))  # published before at_utc: position < cutoff
            recent = observed[max(0, end - self.lookback_days) : end]
            if len(recent):
                out[slots == k] = float(np.mean(self._spread[recent]))
        return out

    def forecast(self, positions: np.ndarray, at_utc: pd.Timestamp) -> FloatArray:
        """See :class:`IntradayForecaster`."""
        positions = np.asarray(positions, dtype=int)
        da = np.asarray(self.day_ahead_eur_per_mwh, dtype=np.float64)[positions]
        forecast: FloatArray = da + self.shape(positions, at_utc)
        return forecast


@dataclass
class PerfectIntraday:
    """The realised intraday prices (the day-ahead price where the data have none)."""

    day_ahead_eur_per_mwh: FloatArray
    intraday_eur_per_mwh: FloatArray
    name: str = "perfect"

    def forecast(self, positions: np.ndarray, at_utc: pd.Timestamp) -> FloatArray:
        """See :class:`IntradayForecaster`."""
        positions = np.asarray(positions, dtype=int)
        realised = np.asarray(self.intraday_eur_per_mwh, dtype=float)[positions]
        da = np.asarray(self.day_ahead_eur_per_mwh, dtype=float)[positions]
        forecast: FloatArray = np.where(np.isfinite(realised), realised, da)
        return forecast


def local_slots(index: pd.DatetimeIndex, tz: str) -> np.ndarray:
    """Local time-of-day slot of each step: minutes since local midnight // step. [int]"""
    local = index.tz_convert(tz)
    step_min = int((index[1] - index[0]) / pd.Timedelta(minutes=1)) if len(index) > 1 else 60
    return np.asarray((local.hour * 60 + local.minute) // step_min, dtype=int)
