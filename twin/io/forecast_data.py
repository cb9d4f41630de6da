"""Price and exogenous-forecast tables for forecasting: the epftoolbox layout, as days x slots."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import DataError
from twin.types import FloatArray

_NOT_EXOGENOUS = {"timestamp_local", "timestamp_utc", "price_eur_per_mwh", "dst_note"}


@dataclass(frozen=True)
class DailyTable:
    """Prices and exogenous forecasts per local day and slot.

    Attributes
    ----------
    dates : list of datetime.date, length n_days
    prices : np.ndarray, shape (n_days, S)
        [EUR/MWh]
    exogenous : np.ndarray, shape (n_days, S, k)
        Day-ahead forecasts (load, renewables), in the file's units.
    exogenous_names : list of str, length k
    weekday : np.ndarray of int, shape (n_days,)
        Monday 0.
    timestamp_utc : np.ndarray of str, shape (n_days, S)
        The file's UTC labels ('' where the local hour does not exist).
    """

    dates: list[dt.date]
    prices: FloatArray
    exogenous: FloatArray
    exogenous_names: list[str]
    weekday: np.ndarray
    timestamp_utc: np.ndarray

    def day_index(self, day: dt.date) -> int:
        """Position of ``day``, or the first day after it."""
        return bisect.bisect_left(self.dates, day)


def read_epftoolbox(path: Path) -> DailyTable:
    """Read the epftoolbox layout: ``timestamp_local`` (S per day), ``price_eur_per_mwh``, exogenous columns.

    Every numeric column other than the timestamps, the price and ``dst_note``
    is an exogenous day-ahead forecast. Runs unchanged on a longer file of the
    same layout.

    Raises
    ------
    DataError
        If the file or the price column is missing, a value is missing, or a day
        does not have the same number of slots as the others.
    """
    if not path.is_file():
        raise DataError(f"{path}: forecast data file not found; check --data and BESS_TWIN_DATA")
    frame = pd.read_csv(path)
    for column in ("timestamp_local", "price_eur_per_mwh"):
        if column not in frame.columns:
            raise DataError(f"{path}: needs column {column}; it has {', '.join(frame.columns)}")
    names = [c for c in frame.columns if c not in _NOT_EXOGENOUS and pd.api.types.is_numeric_dtype(frame[c])]
    values = frame[["price_eur_per_mwh", *names]]
    if values.isna().any().any():
        bad = values.columns[values.isna().any()].tolist()
        raise DataError(f"{path}: missing values in {', '.join(bad)}; the forecasters need complete days")
    local = pd.to_datetime(frame["timestamp_local"])
    dates = local.dt.date
    counts = dates.value_counts()
    slots = int(counts.mode().iloc[0])
    if (counts != slots).any():
        odd = counts[counts != slots].index[:3]
        raise DataError(f"{path}: every day needs {slots} slots; {', '.join(map(str, odd))} differ")
    n = len(frame) // slots
    utc = frame["timestamp_utc"].fillna("").astype(str).to_numpy() if "timestamp_utc" in frame else np.full(len(frame), "")
    day_list = list(dates.iloc[::slots])
    return DailyTable(
        dates=day_list,
        prices=frame["price_eur_per_mwh"].to_numpy(dtype=float).reshape(n, slots),
        exogenous=np.stack([frame[c].to_numpy(dtype=float).reshape(n, slots) for c in names], axis=2)
        if names
        else np.zeros((n, slots, 0)),
        exogenous_names=names,
        weekday=np.array([d.weekday() for d in day_list]),
        timestamp_utc=utc.reshape(n, slots),
    )
