"""Prices and exogenous forecasts as local days x delivery slots, the shape every day-ahead model reads.

A day-ahead auction sells the S products of one local delivery day (24 hours or
96 quarter-hours), so the models work on ``(n_days, S)`` arrays. DST days are
made regular the way the epftoolbox data sets do it: on the 23-hour spring day
the missing wall-clock hour is filled by the mean of its neighbours, on the
25-hour autumn day the two occurrences of the repeated hour are averaged.
:func:`from_local_days` maps a day's S values back to the real UTC intervals
(both intervals of the repeated hour get its value; the missing hour has none).

References
----------
.. [1] J. Lago, G. Marcjasz, B. De Schutter, R. Weron, Applied Energy 293, 116983,
   2021, doi:10.1016/j.apenergy.2021.116983 (data layout of the epftoolbox benchmark).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from twin.errors import DataError
from twin.types import FloatArray


@dataclass(frozen=True)
class DailyTable:
    """Prices and exogenous forecasts per local day and slot.

    Attributes
    ----------
    dates : list of datetime.date, length n_days
        Consecutive local days.
    prices : np.ndarray, shape (n_days, S)
        [EUR/MWh]; NaN where not (yet) known.
    exogenous : np.ndarray, shape (n_days, S, k)
        Day-ahead forecasts (load, renewables), in the source's units.
    exogenous_names : list of str, length k
    weekday : np.ndarray of int, shape (n_days,)
        Monday 0.
    timestamp_utc : np.ndarray of str, shape (n_days, S)
        UTC labels of the slots ('' where the local hour does not exist or is
        not known).
    holidays_country : str or None
        Country whose public holidays the calendar features use (``holidays``
        package); None: no holidays.
    """

    dates: list[dt.date]
    prices: FloatArray
    exogenous: FloatArray
    exogenous_names: list[str]
    weekday: np.ndarray
    timestamp_utc: np.ndarray
    holidays_country: str | None = "DE"

    @property
    def slots(self) -> int:
        """Delivery slots per day (24 or 96)."""
        return int(self.prices.shape[1])

    def day_index(self, day: dt.date) -> int:
        """Position of ``day``, or of the first day after it."""
        return bisect.bisect_left(self.dates, day)

    def public_at_gate(self, day: int) -> DailyTable:
        """What is public at the gate of day ``day``: prices up to ``day - 1``, exogenous up to ``day``.

        Rows after ``day`` are dropped and day ``day``'s prices set to NaN, so a
        model handed this table cannot read what was not yet published.
        """
        prices = self.prices[: day + 1].copy()
        prices[day] = np.nan
        return replace(
            self,
            dates=self.dates[: day + 1],
            prices=prices,
            exogenous=self.exogenous[: day + 1],
            weekday=self.weekday[: day + 1],
            timestamp_utc=self.timestamp_utc[: day + 1],
        )

    def fingerprint(self, day: int, lookback_days: int) -> str:
        """Hash of what a forecast of ``day`` may read: ``lookback_days`` of prices before it, exogenous up to it.

        Two tables with the same fingerprint give the same forecast, so it keys
        the vintage cache.
        """
        first = max(0, day - lookback_days)
        digest = hashlib.sha256()
        digest.update(str(self.dates[first]).encode())
        digest.update(str(self.dates[day]).encode())
        digest.update(np.ascontiguousarray(self.prices[first:day]).tobytes())
        digest.update(np.ascontiguousarray(self.exogenous[first : day + 1]).tobytes())
        digest.update(",".join(self.exogenous_names).encode())
        digest.update(str(self.holidays_country).encode())
        return digest.hexdigest()[:24]


def slot_of(local: pd.DatetimeIndex, step: pd.Timedelta) -> np.ndarray:
    """Slot of each local wall-clock time within its day (0 .. S-1)."""
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return np.asarray(seconds // int(step.total_seconds()), dtype=int)


def to_local_days(
    frame: pd.DataFrame, tz: str, step: pd.Timedelta
) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    """Arrange UTC-indexed columns as (local day, slot), DST days made regular.

    Parameters
    ----------
    frame : pd.DataFrame
        Columns to arrange, on a tz-aware UTC index of interval starts spaced ``step``.
    tz : str
        Local time zone of the delivery days.
    step : pd.Timedelta
        Slot length (1 h or 15 min).

    Returns
    -------
    dates : list of datetime.date, length n_days
        Every local day from the first to the last of the index.
    values : np.ndarray, shape (n_days, S, n_columns)
        NaN where the source has no value (and in slots before the first or
        after the last timestamp).
    utc : np.ndarray of str, shape (n_days, S)
        UTC label of each slot ('' for the hour skipped in spring; the first
        occurrence for the hour repeated in autumn).
    """
    if frame.empty:
        raise DataError("no rows to arrange by local day")
    slots = int(pd.Timedelta(days=1) / step)
    local = pd.DatetimeIndex(frame.index).tz_convert(tz)
    day = local.tz_localize(None).normalize()
    first, last = day.min(), day.max()
    dates = [d.date() for d in pd.date_range(first, last, freq="D")]
    row = np.asarray((day - first).days, dtype=int)
    col = slot_of(local, step)
    values = np.asarray(frame.to_numpy(dtype=float), dtype=float)
    sums = np.zeros((len(dates), slots, values.shape[1]))
    counts = np.zeros((len(dates), slots, values.shape[1]))
    finite = np.isfinite(values)
    np.add.at(sums, (row, col), np.where(finite, values, 0.0))
    np.add.at(counts, (row, col), finite.astype(float))
    out = np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)
    utc = np.full((len(dates), slots), "", dtype=object)
    labels = pd.DatetimeIndex(frame.index).strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    _, first_seen = np.unique(row * slots + col, return_index=True)  # a repeated hour: its first occurrence
    utc[row[first_seen], col[first_seen]] = labels[first_seen]
    _fill_spring_gap(out, dates, tz, step)
    return dates, out, utc.astype(str)


def _fill_spring_gap(values: np.ndarray, dates: list[dt.date], tz: str, step: pd.Timedelta) -> None:
    """Fill the wall-clock slots that do not exist (spring DST) by the mean of their neighbours."""
    slots = values.shape[1]
    starts = pd.DatetimeIndex(pd.to_datetime(dates)).tz_localize(tz)
    ends = pd.DatetimeIndex(pd.to_datetime(dates) + pd.Timedelta(days=1)).tz_localize(tz)
    for i in np.flatnonzero(np.asarray(ends - starts) < np.timedelta64(1, "D")):
        start, end = pd.Timestamp(starts[int(i)]), pd.Timestamp(ends[int(i)])
        exists = pd.date_range(start=start, end=end, freq=step, inclusive="left")
        for s in sorted(set(range(slots)) - set(slot_of(exists, step))):
            neighbours = np.stack([values[i, max(s - 1, 0)], values[i, min(s + 1, slots - 1)]])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # both neighbours missing: stays NaN
                values[i, s] = np.nanmean(neighbours, axis=0)


def fill_exogenous_gaps(values: np.ndarray) -> int:
    """Fill missing exogenous values in place: the same slot a week before, else the day before (leading days: the next day's).

    Parameters
    ----------
    values : np.ndarray, shape (n_days, S, k)

    Returns
    -------
    int
        How many values were missing.
    """
    missing = ~np.isfinite(values)
    count = int(missing.sum())
    for lag in (7, 1):
        for d in range(lag, values.shape[0]):
            hole = ~np.isfinite(values[d])
            values[d][hole] = values[d - lag][hole]
    for d in range(values.shape[0] - 2, -1, -1):  # leading days: the next day's
        hole = ~np.isfinite(values[d])
        values[d][hole] = values[d + 1][hole]
    return count


def from_local_days(
    dates: list[dt.date], values: FloatArray, target_index: pd.DatetimeIndex, tz: str
) -> FloatArray:
    """Look each UTC interval of ``target_index`` up in the (day, slot) ``values``.

    Intervals on days after the last of ``dates`` take the same wall-clock slot
    of the last day (a 36-h horizon repeats day D's forecast for D+1's hours).

    Returns
    -------
    np.ndarray, shape (len(target_index),)
    """
    values = np.asarray(values, dtype=float)
    slots = values.shape[1]
    step = pd.Timedelta(days=1) / slots
    local = target_index.tz_convert(tz)
    wall = local.tz_localize(None)
    first = pd.Timestamp(dates[0])
    rows = np.minimum(np.asarray((wall.normalize() - first).days, dtype=int), len(dates) - 1)
    if (rows < 0).any():
        raise DataError(f"{target_index[0]} lies before the first day {dates[0]} of the table")
    out: FloatArray = values[rows, slot_of(local, step)]
    return out


def weekdays(dates: list[dt.date]) -> np.ndarray:
    """Day of week of each date, Monday 0."""
    return np.array([d.weekday() for d in dates], dtype=int)
