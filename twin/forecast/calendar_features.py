"""Calendar features of delivery days: weekday, public holidays, season."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np

from twin.errors import ForecastError
from twin.types import FloatArray


@lru_cache(maxsize=16)
def _holiday_set(country: str, first_year: int, last_year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays(country, years=range(first_year, last_year + 1)).keys())


def is_holiday(dates: list[dt.date], country: str | None) -> np.ndarray:
    """Whether each date is a national public holiday of ``country`` (``holidays`` package).

    Returns
    -------
    np.ndarray of bool, shape (len(dates),)
    """
    if country is None or not dates:
        return np.zeros(len(dates), dtype=bool)
    days = _holiday_set(country, min(dates).year, max(dates).year)
    return np.array([d in days for d in dates], dtype=bool)


def season(dates: list[dt.date]) -> FloatArray:
    """Sine and cosine of the day of year, shape (len(dates), 2)."""
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    angle = 2 * np.pi * doy / 365.25
    out: FloatArray = np.column_stack([np.sin(angle), np.cos(angle)])
    return out


def anchor_day(table_dates: list[dt.date], day: int, every_days: int) -> int:
    """The index of the latest re-training day at or before ``day``.

    Re-training days are those whose proleptic ordinal is a multiple of
    ``every_days``, so the schedule depends on the calendar only and a forecast
    is a function of the data public at its gate (the same in a walk-forward
    evaluation and in a backtest that starts on another day).
    """
    back = table_dates[day].toordinal() % every_days
    return max(day - back, 0)


def training_anchor(name: str, dates: list[dt.date], day: int, history_days: int, every_days: int) -> int:
    """The training day of a model re-trained every ``every_days`` (:func:`anchor_day`), checked.

    Before ``history_days`` of history the day itself is the anchor.

    Raises
    ------
    ForecastError
        If ``day`` has fewer than ``history_days`` days of history.
    """
    if day < history_days:
        raise ForecastError(
            f"{name} needs {history_days} days of history before the first forecast; day {dates[day]} has {day}"
        )
    anchor = anchor_day(dates, day, every_days)
    return day if anchor < history_days else anchor
