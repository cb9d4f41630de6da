"""Load and PV series for a site: measured CSVs, BDEW standard load profiles, re-basing onto a year.

Every function returns mean power in kW per interval of a target UTC index
(the backtest's grid). A series of another year is re-based onto the target
year (:func:`rebase_to_year`):

* each target local day takes the source local day with the same **weekday**
  whose day of year is nearest (whole weeks of shift, at most 3 days off), for
  a load; for weather-driven series (``align_weekday=False``) the source day
  with the same day of year (the last day of a leap year maps to Dec 30/31);
* inside the day values are taken by local wall-clock time: on the 25-hour day
  the repeated hour takes the first occurrence, on the 23-hour day the missing
  hour is skipped; a source day shorter than needed repeats its last value;
* a source day with gaps (under 90 % of its steps) is replaced by the nearest
  complete day, whole weeks away for a load (same weekday), days for weather.

A series on a coarser grid (hourly) is repeated onto a finer one (15 min); a
finer one is averaged onto a coarser one (mean power is kept).
"""

from __future__ import annotations

import bisect
import datetime as dt
from pathlib import Path
from typing import cast

import holidays
import numpy as np
import pandas as pd

from twin.errors import DataError

_BDEW_1999_PERIODS = (  # (first month-day, last month-day, period) per BDEW/VDEW 1999
    ((11, 1), (3, 20), "winter"),
    ((5, 15), (9, 14), "summer"),
)
_MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip


def read_columns(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    """Read ``columns`` of a CSV, with one clear error for a missing file or column.

    Raises
    ------
    DataError
        Naming the file, ``what`` it should hold, the missing columns and the ones there are.
    """
    if not path.is_file():
        raise DataError(f"{path}: {what} file not found; check the path and BESS_TWIN_DATA")
    head = pd.read_csv(path, nrows=0).columns
    missing = [c for c in columns if c not in head]
    if missing:
        raise DataError(f"{path}: {what} needs columns {', '.join(missing)}; it has {', '.join(head)}")
    return pd.read_csv(path, usecols=list(columns))


def read_measured(path: Path, column: str, scale: float = 1.0) -> pd.Series:
    """A measured power series from a CSV with ``timestamp_utc`` and ``column``.

    Returns
    -------
    pd.Series
        kW, indexed by UTC interval start, sorted, NaN dropped.

    Raises
    ------
    DataError
        If the file, the timestamp column or ``column`` is missing, naming the
        columns there are.
    """
    frame = read_columns(path, ("timestamp_utc", column), "a measured series")
    index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"], utc=True))
    series = pd.Series(frame[column].to_numpy(dtype=float) * scale, index=index, name=column)
    series = series[~series.index.duplicated()].sort_index().dropna()
    if series.empty:
        raise DataError(f"{path}: column {column!r} holds no values")
    return series


def _source_day(target: dt.date, source_days: pd.DatetimeIndex, align_weekday: bool) -> dt.date:
    years = sorted({d.year for d in source_days})
    year = years[len(years) // 2] if target.year not in years else target.year
    doy = min(target.timetuple().tm_yday, 366)
    start = dt.date(year, 1, 1) + dt.timedelta(days=doy - 1)
    if start.year != year:
        start = dt.date(year, 12, 31)
    if not align_weekday:
        return start
    shift = (target.weekday() - start.weekday()) % 7
    if shift > 3:
        shift -= 7
    return start + dt.timedelta(days=shift)


def _nearest_complete(day: dt.date, by_day: dict[dt.date, pd.Series], align_weekday: bool) -> dt.date:
    """``day``, or the nearest complete source day (same weekday when aligned), within 8 weeks."""
    unit = 7 if align_weekday else 1
    for k in range(0, 8 * 7 // unit + 1):
        for sign in (-1, 1):
            candidate = day + dt.timedelta(days=sign * k * unit)
            if candidate in by_day:
                return candidate
    return day


def rebase_to_year(
    series: pd.Series, index_utc: pd.DatetimeIndex, timezone: str, align_weekday: bool = True
) -> np.ndarray:
    """Values of ``series`` for each step of ``index_utc``, re-based by day of year (and weekday).

    A step whose own timestamp is in ``series`` takes that value unchanged (no
    re-basing inside the measured period).

    Parameters
    ----------
    series : pd.Series
        Mean power per interval, UTC index, regular grid. [kW]
    index_utc : pd.DatetimeIndex
        Target interval starts (UTC), on the same grid as ``series`` or a multiple.
    timezone : str
        Local time zone that defines days and wall-clock times.
    align_weekday : bool
        Map to the nearest source day with the same weekday (loads), or by day
        of year only (weather).

    Returns
    -------
    np.ndarray, shape (len(index_utc),)
        [kW]

    Raises
    ------
    DataError
        If a target day maps to a source day that has no data.
    """
    local_src = pd.DatetimeIndex(series.index).tz_convert(timezone)
    table = pd.Series(
        series.to_numpy(),
        index=pd.MultiIndex.from_arrays([local_src.date, local_src.time]),
    )
    table = table[~table.index.duplicated(keep="first")]
    by_day = cast(
        "dict[dt.date, pd.Series]", {d: grp.droplevel(0) for d, grp in table.groupby(level=0)}
    )
    full = np.median([len(v) for v in by_day.values()])
    by_day = {d: v for d, v in by_day.items() if len(v) >= 0.9 * full}  # complete days only
    days = pd.DatetimeIndex(sorted(by_day))
    local = index_utc.tz_convert(timezone)
    out = np.empty(len(index_utc))
    exact = series.reindex(index_utc)
    cache: dict[dt.date, dt.date] = {}
    times: dict[dt.date, list[dt.time]] = {}
    for k, (ts, value) in enumerate(zip(local, exact.to_numpy(), strict=True)):
        if np.isfinite(value):
            out[k] = value
            continue
        day = ts.date()
        if day not in cache:
            cache[day] = _nearest_complete(_source_day(day, days, align_weekday), by_day, align_weekday)
        src = by_day.get(cache[day])
        if src is None:
            raise DataError(
                f"no source data on {cache[day]} to re-base {day} onto; the series covers "
                f"{days[0].date()} to {days[-1].date()}"
            )
        when = ts.time()
        if cache[day] not in times:
            times[cache[day]] = list(src.index)
        pos = bisect.bisect_right(times[cache[day]], when) - 1
        out[k] = float(src.iloc[max(pos, 0)])
    return out


def to_grid(values: pd.Series, index_utc: pd.DatetimeIndex, step: pd.Timedelta) -> pd.Series:
    """``values`` (regular UTC grid) onto ``index_utc`` with step ``step``: mean or repeat. [kW]"""
    src_step = pd.Timedelta(values.index[1] - values.index[0]) if len(values) > 1 else step
    if src_step > step:
        return values.reindex(index_utc, method="ffill", tolerance=src_step - pd.Timedelta(1, "ns"))
    if src_step < step:
        return values.resample(step).mean().reindex(index_utc)
    return values.reindex(index_utc)


def bdew_profile(
    path: Path,
    profile: str,
    index_utc: pd.DatetimeIndex,
    timezone: str,
    annual_kwh: float,
    country: str = "DE",
    subdiv: str | None = None,
) -> np.ndarray:
    """A BDEW standard load profile on ``index_utc``, scaled to ``annual_kwh`` per year.

    Day types: Sundays and the public holidays of ``country``/``subdiv``
    (``holidays`` package) are ``FT``/7, Saturdays and Dec 24 and 31 ``SA``/6, other
    days working days (BDEW rule). 2025 profiles (``G25``, ``H25``, ...) are by month;
    1999 profiles (``g0``, ``h0``, ...) by season (winter Nov 1-Mar 20, summer
    May 15-Sep 14, transition otherwise), with the H0 dynamisation polynomial
    ``F(d) = -3.92e-10 d^4 + 3.2e-7 d^3 - 7.02e-5 d^2 + 2.1e-3 d + 1.24``. The
    built year is scaled so that each calendar year of ``index_utc`` sums to
    ``annual_kwh`` pro rata to its days.

    Parameters
    ----------
    path : Path
        ``bdew_2025_typical_days_15min_long.csv`` or ``bdew_1999_...`` (long form).
    profile : str
        Profile name in the file.
    index_utc : pd.DatetimeIndex
        Target steps (UTC).
    timezone : str
        Local time of the profile.
    annual_kwh : float
        Annual consumption. [kWh/a]

    Returns
    -------
    np.ndarray, shape (len(index_utc),)
        Mean power per step. [kW]

    Raises
    ------
    DataError
        If the file is missing or does not hold ``profile``.

    References
    ----------
    .. [1] BDEW, "Standardlastprofile Strom" (1999; 2025 update), as shipped in
       demandlib 0.2.2 (oemof).
    """
    if not path.is_file():
        raise DataError(f"{path}: BDEW profile file not found; check the path and BESS_TWIN_DATA")
    table = pd.read_csv(path)
    names = sorted(table["profile"].unique())
    if profile not in names:
        raise DataError(f"{path}: no profile {profile!r}; it holds {', '.join(names)}")
    table = table[table["profile"] == profile]
    new = "month_de" in table.columns
    years = range(index_utc.tz_convert(timezone)[0].year - 1, index_utc.tz_convert(timezone)[-1].year + 2)
    hol = holidays.country_holidays(country, subdiv=subdiv, years=years)
    quarter = pd.date_range(
        index_utc[0].tz_convert(timezone).normalize(),
        index_utc[-1].tz_convert(timezone).normalize() + pd.Timedelta(days=2),
        freq="15min",
        inclusive="left",
    )
    local = quarter
    dates = local.date
    weekday = local.day_of_week
    special = np.array([(d.month, d.day) in ((12, 24), (12, 31)) for d in dates])
    is_holiday = np.array([d in hol for d in dates])
    slot = local.strftime("%H:%M")
    if new:
        kind = np.where(is_holiday | (weekday == 6), "FT", np.where((weekday == 5) | special, "SA", "WT"))
        month = np.array([_MONTHS_DE[m - 1] for m in local.month])
        lookup = table.set_index(["month_de", "day_type", "time_of_day"])[
            "energy_kwh_per_15min_per_1e6_kwh_per_year"
        ]
        keys = pd.MultiIndex.from_arrays([month, kind, slot])
        power = lookup.reindex(keys).to_numpy(dtype=float) * 4.0  # kWh per 15 min -> kW
    else:
        code = np.where(is_holiday | (weekday == 6), 7, np.where((weekday == 5) | special, 6, 1))
        period = np.array([_season(d) for d in dates])
        lookup = table.set_index(["period", "weekday", "time_of_day"])["power_kw_per_1000kwh_per_year"]
        keys = pd.MultiIndex.from_arrays([period, code, slot])
        power = lookup.reindex(keys).to_numpy(dtype=float)
        if profile.lower() == "h0":
            d = np.asarray(local.day_of_year, dtype=float)
            power = power * (-3.92e-10 * d**4 + 3.2e-7 * d**3 - 7.02e-5 * d**2 + 2.1e-3 * d + 1.24)
    if np.isnan(power).any():
        raise DataError(f"{path}: profile {profile!r} misses some day types or times of day")
    series = pd.Series(power, index=quarter.tz_convert("UTC"))
    for year in sorted(set(local.year)):
        in_year = np.asarray(local.year == year)
        days_in_year = 366 if pd.Timestamp(year=year, month=1, day=1).is_leap_year else 365
        year_kwh = series[in_year].sum() * 0.25 * days_in_year / (in_year.sum() / 96)
        series[in_year] *= annual_kwh / year_kwh
    step = pd.Timedelta(index_utc[1] - index_utc[0]) if len(index_utc) > 1 else pd.Timedelta("15min")
    return to_grid(series, index_utc, step).to_numpy(dtype=float)


def _season(day: dt.date) -> str:
    md = (day.month, day.day)
    (w0, w1, _), (s0, s1, _) = _BDEW_1999_PERIODS
    if md >= w0 or md <= w1:
        return "winter"
    if s0 <= md <= s1:
        return "summer"
    return "transition"


WEATHER_COLUMNS = ("timestamp_utc", "ghi_w_per_m2", "dhi_w_per_m2", "temp_air_c", "wind_speed_m_per_s")


def read_weather(path: Path) -> pd.DataFrame:
    """Hourly weather from a CSV with :data:`WEATHER_COLUMNS`; UTC interval-start index.

    Raises
    ------
    DataError
        If the file or a column is missing.
    """
    frame = read_columns(path, WEATHER_COLUMNS, "weather")
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp_utc"), utc=True))
    return frame.sort_index()
